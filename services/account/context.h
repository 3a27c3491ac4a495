#pragma once

// What the account service's use cases share: the store, the clock, the password hasher, how
// tokens are made, the profile service (for teachers' accounts), and how the rules' field
// problems are answered.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/account/answer_seal.h"
#include "services/account/passwords.h"
#include "services/account/rules.h"
#include "services/account/store.h"
#include "services/common/clock.h"
#include "services/common/jwt.h"
#include "services/common/violations.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::account {

// How tokens are made: the gateway's keyset (the key that signs), its issuer and audience.
struct TokenSettings {
  JwtKey key;
  std::string issuer = "shidang";
  std::string audience = "shidang-gateway";
  absl::Duration access_ttl = absl::Minutes(15);
  absl::Duration refresh_ttl = absl::Hours(12);
};

// The profile service as this service reads it (profile_client.h): one teacher, or a county's
// (or one school's) teachers. Empty when no profile service is configured: teachers' accounts are
// then refused with FAILED_PRECONDITION.
struct ProfileReader {
  std::function<absl::StatusOr<profile::v1::Teacher>(const std::string& teacher_id)> teacher;
  std::function<absl::StatusOr<std::vector<profile::v1::Teacher>>(const std::string& county_id,
                                                                  const std::string& school_id)>
      roster;
};

struct Deps {
  AccountStore& store;
  const Clock& clock;
  const Passwords& passwords;
  const TokenSettings& tokens;
  ProfileReader profile;
  // Seals the answers kept for retries (they may hold initial passwords).
  const AnswerSealer& sealer;
};

// Fills `into` from an answer a write kept for its retries, sealed (`sealed`) or not. DATA_LOSS
// when it does not open or parse (a rotated token key): the caller sends a new request_id.
inline absl::Status ParseKeptAnswer(const Deps& deps, absl::string_view kept, bool sealed,
                                    google::protobuf::Message* into) {
  std::string opened;
  if (sealed) {
    absl::StatusOr<std::string> open = deps.sealer.Open(kept);
    if (!open.ok()) {
      return absl::DataLossError(
          "the answer kept for this request_id cannot be opened; send a new request_id");
    }
    opened = *std::move(open);
    kept = opened;
  }
  if (!into->ParseFromArray(kept.data(), static_cast<int>(kept.size()))) {
    return absl::DataLossError(
        "the answer kept for this request_id does not parse; send a new request_id");
  }
  return absl::OkStatus();
}

// A rule's problem as the edge answers it: INVALID_ARGUMENT "<field>: <message>" carrying a
// BadRequest with its field violation (field, rule, message); OK when there is none.
inline absl::Status ProblemStatus(const std::optional<FieldProblem>& problem) {
  if (!problem.has_value()) return absl::OkStatus();
  return InvalidField(problem->field, problem->rule, problem->message);
}

}  // namespace shidang::account

#include "services/common/replay.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/digest.h"
#include "services/common/log.h"
#include "services/common/random.h"
#include "services/common/replay_scripts.h"
#include "services/common/violations.h"

namespace shidang {
namespace {

// A claim lives at most this long: a retry after its holder died (a SIGKILLed process) waits no
// longer than this for it. A holder still running past it (a 10,000-row import) lets a waiter run
// the use case too; the service's own idempotency record still makes the change once.
constexpr absl::Duration kClaimLease = absl::Seconds(5);

const redis::Script& ClaimScript() {
  static const auto* const script = new redis::Script(std::string(common::lua::kClaimAnswer));
  return *script;
}

const redis::Script& SettleScript() {
  static const auto* const script = new redis::Script(std::string(common::lua::kSettleAnswer));
  return *script;
}

// "shidang.profile.v1.ProfileService/CreateTeacher" -> "profile": every key of a service starts
// with its name (DESIGN "Data and flow").
std::string ServiceOf(absl::string_view method) {
  constexpr absl::string_view kPrefix = "shidang.";
  if (absl::StartsWith(method, kPrefix)) method.remove_prefix(kPrefix.size());
  const size_t dot = method.find('.');
  if (dot == 0 || dot == absl::string_view::npos) return "rpc";
  return std::string(method.substr(0, dot));
}

std::string KeyPrefix(absl::string_view method, absl::string_view actor,
                      absl::string_view request_id) {
  // Lengths first, so that no choice of actor and request_id reads as another's.
  const std::string digest = Sha256(absl::StrCat(method.size(), ":", method, actor.size(), ":",
                                                 actor, request_id.size(), ":", request_id));
  return absl::StrCat(ServiceOf(method), ":{rq:", digest.substr(0, 32), "}");
}

// The request's top-level string field request_id, "" when it has none or it is empty.
std::string RequestIdOf(const google::protobuf::Message& request) {
  const google::protobuf::FieldDescriptor* field =
      request.GetDescriptor()->FindFieldByName("request_id");
  if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      field->is_repeated()) {
    return "";
  }
  return request.GetReflection()->GetString(request, field);
}

absl::Status ReusedRequestId(absl::string_view request_id) {
  return InvalidField(
      "request_id", "reused",
      absl::StrCat("request_id '", request_id,
                   "' was already used for a different request by the same "
                   "principal and method; send a new request_id for a new request"));
}

// "<fingerprint>\n<rest>" -> fingerprint.
absl::string_view FingerprintPart(absl::string_view stored) {
  return stored.substr(0, stored.find('\n'));
}

}  // namespace

struct AnswerStore::Claim {
  std::string request_id;
  std::string fingerprint;
  std::string answer_key;
  std::string claim_key;
  std::string value;  // "<token>\n<fingerprint>"
  int64_t ttl_ms = 0;
};

AnswerStore::AnswerStore(redis::Pool& pool, AnswerStoreOptions options)
    : pool_(pool), options_(std::move(options)) {}

std::string AnswerStore::AnswerKey(absl::string_view method, absl::string_view actor,
                                   absl::string_view request_id) {
  return absl::StrCat(KeyPrefix(method, actor, request_id), ":answer");
}

std::string AnswerStore::ClaimKey(absl::string_view method, absl::string_view actor,
                                  absl::string_view request_id) {
  return absl::StrCat(KeyPrefix(method, actor, request_id), ":claim");
}

absl::Status AnswerStore::Answer(absl::string_view method, absl::string_view actor,
                                 absl::Time deadline, const google::protobuf::Message& request,
                                 google::protobuf::Message* response,
                                 const std::function<absl::Status()>& run) const {
  Claim claim;
  claim.request_id = RequestIdOf(request);
  if (claim.request_id.empty()) return run();
  // The same rule as the services' own idempotency records, so that both refuse alike.
  SHIDANG_RETURN_IF_ERROR(IdempotencyKey("rq", "{rq}", actor, method, claim.request_id));
  claim.fingerprint = Fingerprint(request);
  claim.answer_key = AnswerKey(method, actor, claim.request_id);
  claim.claim_key = ClaimKey(method, actor, claim.request_id);
  claim.value = absl::StrCat(SecureRandomHex(8), "\n", claim.fingerprint);
  const absl::Duration claim_ttl =
      std::clamp(deadline - absl::Now(), absl::Seconds(1),
                 std::clamp(options_.max_claim_ttl, absl::Seconds(1), kClaimLease));
  claim.ttl_ms = absl::ToInt64Milliseconds(claim_ttl);

  SHIDANG_ASSIGN_OR_RETURN(const bool mine, ClaimOrReplay(claim, deadline, response));
  if (!mine) return absl::OkStatus();
  absl::Status status = run();
  const absl::Status settled = Settle(claim, status.ok() ? response : nullptr);
  if (!settled.ok()) {
    LogWarning("answer of request_id not stored: method=", method, " ", settled.ToString());
    // An answer given as OK must be the one every retry gets. This one is not stored, and a retry
    // runs the use case again (its own idempotency record keeps the change from happening twice)
    // but builds its answer from the state then, which may differ. So the caller is not told OK:
    // its retry's answer is the first it is given, and that one is stored.
    if (status.ok()) {
      return absl::UnavailableError(
          absl::StrCat("the change of request_id '", claim.request_id,
                       "' may have been made but its answer could not be kept; retry with the same "
                       "request_id"));
    }
  }
  return status;
}

absl::StatusOr<bool> AnswerStore::ClaimOrReplay(const Claim& claim, absl::Time deadline,
                                                google::protobuf::Message* response) const {
  absl::Duration pause = absl::Milliseconds(1);
  while (true) {
    SHIDANG_ASSIGN_OR_RETURN(const redis::Reply reply,
                             pool_.Eval(ClaimScript(), {claim.answer_key, claim.claim_key},
                                        {claim.value, std::to_string(claim.ttl_ms)}));
    if (!reply.is_array() || reply.size() == 0) {
      return absl::InternalError("claim_answer: unexpected reply");
    }
    const absl::string_view kind = reply[0].str();
    if (kind == "mine") return true;
    if (kind == "answer" && reply.size() == 2) {
      SHIDANG_RETURN_IF_ERROR(Replay(claim, reply[1].str(), response));
      return false;
    }
    if (kind != "held" || reply.size() != 2) {
      return absl::InternalError("claim_answer: unexpected reply");
    }
    const absl::string_view held = reply[1].str();
    if (held.substr(held.find('\n') + 1) != claim.fingerprint) {
      return ReusedRequestId(claim.request_id);
    }
    if (absl::Now() + pause >= deadline) {
      return absl::UnavailableError(absl::StrCat(
          "request_id '", claim.request_id,
          "' is still being answered by an earlier call; retry with the same request_id"));
    }
    absl::SleepFor(pause);
    pause = std::min(pause * 2, absl::Milliseconds(20));
  }
}

absl::Status AnswerStore::Replay(const Claim& claim, absl::string_view stored,
                                 google::protobuf::Message* response) const {
  if (FingerprintPart(stored) != claim.fingerprint) return ReusedRequestId(claim.request_id);
  stored.remove_prefix(std::min(stored.size(), claim.fingerprint.size() + 1));
  std::string opened;
  if (options_.seal.open) {
    absl::StatusOr<std::string> open = options_.seal.open(stored);
    if (!open.ok()) {
      return absl::DataLossError(absl::StrCat("the stored answer of request_id '", claim.request_id,
                                              "' cannot be opened; send a new request_id"));
    }
    opened = *std::move(open);
    stored = opened;
  }
  response->Clear();
  if (!response->ParseFromArray(stored.data(), static_cast<int>(stored.size()))) {
    return absl::DataLossError(absl::StrCat("the stored answer of request_id '", claim.request_id,
                                            "' does not parse; send a new request_id"));
  }
  return absl::OkStatus();
}

absl::Status AnswerStore::Settle(const Claim& claim,
                                 const google::protobuf::Message* response) const {
  std::string answer;
  if (response != nullptr) {
    std::string bytes = response->SerializeAsString();
    if (options_.seal.seal) {
      SHIDANG_ASSIGN_OR_RETURN(bytes, options_.seal.seal(bytes));
    }
    answer = absl::StrCat(claim.fingerprint, "\n", bytes);
  }
  const std::string ttl =
      std::to_string(std::max<int64_t>(1, absl::ToInt64Seconds(options_.answer_ttl)));
  SHIDANG_ASSIGN_OR_RETURN(
      const redis::Reply reply,
      pool_.Eval(SettleScript(), {claim.answer_key, claim.claim_key}, {claim.value, answer, ttl}));
  return reply.ToStatus();
}

}  // namespace shidang

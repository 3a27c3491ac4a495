#pragma once

// Answers a retried request with what the first call answered (DESIGN "Requests that change
// state"; STYLE 11: before any state check). Every service gets it through HandleCall's overload
// with an AnswerStore (server.h), with no code of its own:
//
//   a request whose top-level string field request_id is set is answered per (service, method,
//   actor, request_id):
//     answered before, same request (mutation.h Fingerprint)  -> the stored response, byte for
//                                                                 byte; the use case does not run
//     answered before, different request                      -> INVALID_ARGUMENT naming request_id
//     being answered by a concurrent call                     -> waits for that answer (within
//                                                                 the call's deadline), then as
//                                                                 above
//     not answered                                             -> runs the use case; on OK stores
//                                                                 the response, on an error nothing
//
// Two round trips per answered call (claim, settle: scripts/claim_answer.lua and
// settle_answer.lua), both under one hash tag per request, {rq:<digest>}. A request without a
// request_id runs as before. The services' own idempotency records stay: they keep a change
// exactly-once when a process dies between its script and the storing of the answer.

#include <google/protobuf/message.h>

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/common/mutation.h"
#include "services/common/redis.h"

namespace shidang {

// A reversible transformation of stored answers, for a service whose answers may hold what must
// not rest in plain text (the profile service's unmasked ID-card numbers): `seal` before storing,
// `open` after reading. Both unset: stored as they are.
struct AnswerSeal {
  std::function<absl::StatusOr<std::string>(absl::string_view)> seal;
  std::function<absl::StatusOr<std::string>(absl::string_view)> open;
};

struct AnswerStoreOptions {
  // How long an answer is kept for retries.
  absl::Duration answer_ttl = kDefaultIdempotencyTtl;
  // Longest a claim lives: a claim lives as long as its call's deadline allows, capped here (and
  // at least one second), so that waiters of a call that died take over within this.
  absl::Duration max_claim_ttl = absl::Seconds(30);
  AnswerSeal seal;
};

class AnswerStore {
 public:
  // `pool` must outlive the store.
  explicit AnswerStore(redis::Pool& pool, AnswerStoreOptions options = {});

  // Answers `request` as the header says, running `run` (which fills `response`) at most once
  // per stored answer. `method` is the full gRPC method ("shidang.<service>.v1.<Name>Service/
  // <Method>"); its service names the keys. Errors of its own: INVALID_ARGUMENT for a bad or
  // reused request_id; UNAVAILABLE when Redis cannot be reached or a concurrent call with the same
  // request_id has not answered by `deadline` (retry with the same request_id); DATA_LOSS when a
  // stored answer cannot be opened or parsed.
  absl::Status Answer(absl::string_view method, absl::string_view actor, absl::Time deadline,
                      const google::protobuf::Message& request, google::protobuf::Message* response,
                      const std::function<absl::Status()>& run) const;

  // The keys of one request's answer and claim (for tests): "<service>:{rq:<digest>}:answer" and
  // ":claim", digest = SHA-256 of (method, actor, request_id).
  static std::string AnswerKey(absl::string_view method, absl::string_view actor,
                               absl::string_view request_id);
  static std::string ClaimKey(absl::string_view method, absl::string_view actor,
                              absl::string_view request_id);

 private:
  struct Claim;
  absl::StatusOr<bool> ClaimOrReplay(const Claim& claim, absl::Time deadline,
                                     google::protobuf::Message* response) const;
  absl::Status Replay(const Claim& claim, absl::string_view stored,
                      google::protobuf::Message* response) const;
  absl::Status Settle(const Claim& claim, const google::protobuf::Message* response) const;

  redis::Pool& pool_;
  AnswerStoreOptions options_;
};

}  // namespace shidang

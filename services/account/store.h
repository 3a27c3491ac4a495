#pragma once

// The account service's Redis keys and scripts, and nothing else. Everything of one account lives
// under its hash tag {u:<username>}, so each write is one script on one slot (scripts in
// services/account/scripts/*.lua, run as Mutation bodies; they publish no events), with the
// idempotency record of its request (account:{u:<n>}:idem:<method>:<actor>:<request_id>) when it
// has a request_id.
//
// Account keys, tag {u:<username>}:
//   account:{u:<n>}:acct     hash  a = serialized Account, h = argon2id hash, d = "1" when
//                                  disabled, f = wrong passwords in a row, l = locked until (unix
//                                  s)
//   account:{u:<n>}:refresh  hash  SHA-256 (hex) of a refresh token -> its expiry (unix seconds)
// Indexes outside any account's slot (plain idempotent writes beside the script):
//   account:directory        hash  username -> serialized Account (what ListAccounts reads)
//   account:teacher-account  hash  teacher id -> username (one account per teacher; a teacher's
//                                  token names the teacher id, not the username)

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "services/common/redis.h"
#include "shidang/account/v1/account.pb.h"

namespace shidang::account {

inline constexpr char kServiceName[] = "account";

// Who writes, for a write's idempotency record (mutation.h AttachIdempotency): the record lives
// under the account's hash tag, keyed by method, actor and the request's request_id, and holds
// the answer the write was given to store. `request` null or without a request_id: no record,
// the write runs every time.
struct WriteContext {
  std::string actor;
  std::string method;
  const google::protobuf::Message* request = nullptr;
};

// What a write stored as its answer: this run's, or on a retry the first run's.
struct Written {
  std::string answer;
  bool replayed = false;
};

// An account as stored, with what signing in compares.
struct StoredAccount {
  v1::Account account;
  std::string account_bytes;  // the serialized Account as stored (compare-and-set)
  std::string hash;
  bool disabled = false;
  absl::Time locked_until = absl::UnixEpoch();
};

class AccountStore {
 public:
  explicit AccountStore(redis::Pool& pool);

  static std::string AccountKey(absl::string_view username);
  static std::string RefreshKey(absl::string_view username);
  static std::string StreamKey(absl::string_view username);
  static std::string DirectoryKey();
  static std::string TeacherAccountKey();

  // nullopt when there is no such account.
  absl::StatusOr<std::optional<StoredAccount>> Get(absl::string_view username);

  // The answer stored by the write of `write`'s request under `username`'s tag: nullopt when none
  // (or no request_id); INVALID_ARGUMENT naming request_id when the id served another request.
  // Read before any state check, so a retry gets the first answer whatever happened since.
  absl::StatusOr<std::optional<std::string>> FirstAnswer(absl::string_view username,
                                                         const WriteContext& write);

  // create_account.lua, then the directory; `answer` is kept for retries. ALREADY_EXISTS when
  // the username is taken (by another request).
  absl::StatusOr<Written> Create(const v1::Account& account, absl::string_view hash,
                                 const WriteContext& write = {}, std::string answer = "");

  // Lists the account in the directory as stored, for a retried write whose first run may have
  // died between its script and the directory: a create fills in a missing entry only
  // (`replace` false: once listed, Disable keeps the entry up to date, and a concurrent Disable
  // must not be overwritten with what was read before it); a disable rewrites it (`replace`
  // true: nothing enables an account again, so what it reads is the disabled account).
  absl::Status ListAsStored(absl::string_view username, bool replace);

  // Binds `teacher_id` to `username` unless it is bound to another: ALREADY_EXISTS then. Bound to
  // the same username (an earlier attempt) is OK. True when this call made the binding.
  absl::StatusOr<bool> BindTeacher(absl::string_view teacher_id, absl::string_view username);
  // Undoes BindTeacher when the teacher is still bound to `username`.
  absl::Status UnbindTeacher(absl::string_view teacher_id, absl::string_view username);
  // The username of the teacher's account; nullopt when none.
  absl::StatusOr<std::optional<std::string>> UsernameOfTeacher(absl::string_view teacher_id);

  // record_failure.lua: counts a wrong password at `now` as rules.h's AfterWrongPassword says,
  // the `max_failures`-th in a row locking the account until `lock_until` (the rules' LockEnd).
  // True when this failure locked the account.
  absl::StatusOr<bool> RecordFailure(absl::string_view username, absl::Time now, int max_failures,
                                     absl::Time lock_until);

  // start_session.lua: UNAUTHENTICATED when the account is gone, disabled, locked or its hash is
  // no longer `verified_hash`.
  absl::StatusOr<v1::Account> StartSession(absl::string_view username,
                                           absl::string_view verified_hash,
                                           absl::string_view refresh_digest,
                                           absl::Time refresh_expires, absl::Time now);

  // rotate_refresh.lua: UNAUTHENTICATED when the account is gone or disabled or the old token is
  // unknown or expired.
  absl::StatusOr<v1::Account> RotateRefresh(absl::string_view username,
                                            absl::string_view old_digest,
                                            absl::string_view new_digest, absl::Time new_expires,
                                            absl::Time now);

  // Ends one refresh token (whether or not it was live).
  absl::Status EndRefresh(absl::string_view username, absl::string_view digest);

  // set_password.lua: `expected_hash` empty for a reset (which also unlocks); `expected_account`
  // (the serialized Account read, "" none) must still be stored, else ABORTED. `answer` is kept
  // for retries.
  absl::StatusOr<Written> SetPassword(absl::string_view username, absl::string_view new_hash,
                                      absl::string_view expected_hash,
                                      absl::string_view expected_account, const WriteContext& write,
                                      std::string answer);

  // disable_account.lua, then the directory. The account as disabled (on a retry: as the first
  // run disabled it).
  absl::StatusOr<v1::Account> Disable(const StoredAccount& read, const WriteContext& write);

  // Every account in the directory.
  absl::StatusOr<std::vector<v1::Account>> Directory();

 private:
  redis::Pool& pool_;
};

// The SHA-256 (hex) of a refresh token: what is stored instead of the token.
std::string RefreshDigest(absl::string_view token);

}  // namespace shidang::account

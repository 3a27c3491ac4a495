#include "services/account/store.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/account/lua_scripts.h"
#include "services/common/digest.h"
#include "services/common/keys.h"
#include "services/common/mutation.h"
#include "services/common/violations.h"

namespace shidang::account {
namespace {

constexpr char kPrefix[] = "account:";

#define SHIDANG_ACCOUNT_SCRIPT(Name)                            \
  const Mutation& Name##Script() {                              \
    static const Mutation* script = new Mutation(lua::k##Name); \
    return *script;                                             \
  }
SHIDANG_ACCOUNT_SCRIPT(CreateAccount)
SHIDANG_ACCOUNT_SCRIPT(RecordFailure)
SHIDANG_ACCOUNT_SCRIPT(StartSession)
SHIDANG_ACCOUNT_SCRIPT(RotateRefresh)
SHIDANG_ACCOUNT_SCRIPT(SetPassword)
SHIDANG_ACCOUNT_SCRIPT(DisableAccount)
#undef SHIDANG_ACCOUNT_SCRIPT

std::string Tag(absl::string_view username) { return keys::HashTag("u", username); }

absl::StatusOr<v1::Account> ParseAccount(absl::string_view bytes) {
  v1::Account account;
  if (!account.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("stored account unreadable");
  }
  return account;
}

// A script over the account's keys, with the idempotency record of `write`'s request under the
// same tag; the stream key is required by Mutation and stays untouched (no events are prepared).
absl::StatusOr<MutationResult> RunWrite(redis::Pool& pool, const Mutation& script,
                                        absl::string_view username, redis::Args keys,
                                        redis::Args args, const WriteContext& write) {
  MutationRequest m;
  if (write.request != nullptr) {
    SHIDANG_RETURN_IF_ERROR(AttachIdempotency(m, kServiceName, Tag(username), write.actor,
                                              write.method, *write.request));
  }
  m.stream_key = AccountStore::StreamKey(username);
  m.keys = std::move(keys);
  m.args = std::move(args);
  return script.Run(pool, m);
}

absl::StatusOr<std::string> RunScript(redis::Pool& pool, const Mutation& script,
                                      absl::string_view username, redis::Args keys,
                                      redis::Args args) {
  absl::StatusOr<MutationResult> result =
      RunWrite(pool, script, username, std::move(keys), std::move(args), WriteContext{});
  if (!result.ok()) return result.status();
  return std::move(result->payload);
}

std::string Seconds(absl::Time t) { return absl::StrCat(absl::ToUnixSeconds(t)); }

}  // namespace

std::string RefreshDigest(absl::string_view token) { return absl::BytesToHexString(Sha256(token)); }

AccountStore::AccountStore(redis::Pool& pool) : pool_(pool) {}

std::string AccountStore::AccountKey(absl::string_view u) {
  return absl::StrCat(kPrefix, Tag(u), ":acct");
}
std::string AccountStore::RefreshKey(absl::string_view u) {
  return absl::StrCat(kPrefix, Tag(u), ":refresh");
}
std::string AccountStore::StreamKey(absl::string_view u) {
  return keys::StreamKey(kServiceName, Tag(u));
}
std::string AccountStore::DirectoryKey() { return absl::StrCat(kPrefix, "directory"); }
std::string AccountStore::TeacherAccountKey() { return absl::StrCat(kPrefix, "teacher-account"); }

absl::StatusOr<std::optional<StoredAccount>> AccountStore::Get(absl::string_view username) {
  absl::StatusOr<redis::Reply> reply =
      pool_.Command({"HMGET", AccountKey(username), "a", "h", "d", "l"});
  if (!reply.ok()) return reply.status();
  if (reply->size() != 4 || (*reply)[0].is_nil()) return std::nullopt;
  StoredAccount stored;
  stored.account_bytes = std::string((*reply)[0].str());
  absl::StatusOr<v1::Account> account = ParseAccount(stored.account_bytes);
  if (!account.ok()) return account.status();
  stored.account = *std::move(account);
  stored.hash = std::string((*reply)[1].str());
  stored.disabled = (*reply)[2].str() == "1";
  int64_t locked = 0;
  if (!(*reply)[3].is_nil() && absl::SimpleAtoi((*reply)[3].str(), &locked)) {
    stored.locked_until = absl::FromUnixSeconds(locked);
  }
  return stored;
}

absl::StatusOr<std::optional<std::string>> AccountStore::FirstAnswer(absl::string_view username,
                                                                     const WriteContext& write) {
  if (write.request == nullptr) return std::nullopt;
  MutationRequest m;
  SHIDANG_RETURN_IF_ERROR(
      AttachIdempotency(m, kServiceName, Tag(username), write.actor, write.method, *write.request));
  return StoredAnswer(pool_, m);
}

absl::StatusOr<Written> AccountStore::Create(const v1::Account& account, absl::string_view hash,
                                             const WriteContext& write, std::string answer) {
  const std::string& username = account.username();
  const std::string bytes = account.SerializeAsString();
  SHIDANG_ASSIGN_OR_RETURN(MutationResult created,
                           RunWrite(pool_, CreateAccountScript(), username, {AccountKey(username)},
                                    {bytes, std::string(hash), std::move(answer)}, write));
  if (!created.replayed) {
    SHIDANG_RETURN_IF_ERROR(pool_.Command({"HSET", DirectoryKey(), username, bytes}).status());
    return Written{std::move(created.payload), false};
  }
  SHIDANG_RETURN_IF_ERROR(ListAsStored(username, /*replace=*/false));
  return Written{std::move(created.payload), true};
}

absl::Status AccountStore::ListAsStored(absl::string_view username, bool replace) {
  SHIDANG_ASSIGN_OR_RETURN(std::optional<StoredAccount> stored, Get(username));
  if (!stored.has_value()) return absl::OkStatus();
  return pool_
      .Command({replace ? "HSET" : "HSETNX", DirectoryKey(), std::string(username),
                std::move(stored->account_bytes)})
      .status();
}

absl::StatusOr<bool> AccountStore::BindTeacher(absl::string_view teacher_id,
                                               absl::string_view username) {
  const std::string teacher(teacher_id), name(username);
  absl::StatusOr<redis::Reply> set = pool_.Command({"HSETNX", TeacherAccountKey(), teacher, name});
  if (!set.ok()) return set.status();
  if (set->integer() == 1) return true;
  absl::StatusOr<std::optional<std::string>> bound = UsernameOfTeacher(teacher_id);
  if (!bound.ok()) return bound.status();
  if (bound->has_value() && **bound == username) return false;
  return absl::AlreadyExistsError(
      absl::StrCat("teacher ", teacher_id, " has an account already (", bound->value_or(""), ")"));
}

absl::Status AccountStore::UnbindTeacher(absl::string_view teacher_id, absl::string_view username) {
  absl::StatusOr<std::optional<std::string>> bound = UsernameOfTeacher(teacher_id);
  if (!bound.ok()) return bound.status();
  if (!bound->has_value() || **bound != username) return absl::OkStatus();
  return pool_.Command({"HDEL", TeacherAccountKey(), std::string(teacher_id)}).status();
}

absl::StatusOr<std::optional<std::string>> AccountStore::UsernameOfTeacher(
    absl::string_view teacher_id) {
  absl::StatusOr<redis::Reply> got =
      pool_.Command({"HGET", TeacherAccountKey(), std::string(teacher_id)});
  if (!got.ok()) return got.status();
  if (got->is_nil()) return std::nullopt;
  return std::string(got->str());
}

absl::StatusOr<bool> AccountStore::RecordFailure(absl::string_view username, absl::Time now,
                                                 int max_failures, absl::Time lock_until) {
  absl::StatusOr<std::string> locked =
      RunScript(pool_, RecordFailureScript(), username, {AccountKey(username)},
                {Seconds(now), absl::StrCat(max_failures), Seconds(lock_until)});
  if (!locked.ok()) return locked.status();
  return *locked == "1";
}

absl::StatusOr<v1::Account> AccountStore::StartSession(absl::string_view username,
                                                       absl::string_view verified_hash,
                                                       absl::string_view refresh_digest,
                                                       absl::Time refresh_expires, absl::Time now) {
  absl::StatusOr<std::string> bytes =
      RunScript(pool_, StartSessionScript(), username, {AccountKey(username), RefreshKey(username)},
                {Seconds(now), std::string(verified_hash), std::string(refresh_digest),
                 Seconds(refresh_expires)});
  if (!bytes.ok()) return bytes.status();
  return ParseAccount(*bytes);
}

absl::StatusOr<v1::Account> AccountStore::RotateRefresh(absl::string_view username,
                                                        absl::string_view old_digest,
                                                        absl::string_view new_digest,
                                                        absl::Time new_expires, absl::Time now) {
  absl::StatusOr<std::string> bytes = RunScript(
      pool_, RotateRefreshScript(), username, {AccountKey(username), RefreshKey(username)},
      {Seconds(now), std::string(old_digest), std::string(new_digest), Seconds(new_expires)});
  if (!bytes.ok()) return bytes.status();
  return ParseAccount(*bytes);
}

absl::Status AccountStore::EndRefresh(absl::string_view username, absl::string_view digest) {
  return pool_.Command({"HDEL", RefreshKey(username), std::string(digest)}).status();
}

absl::StatusOr<Written> AccountStore::SetPassword(absl::string_view username,
                                                  absl::string_view new_hash,
                                                  absl::string_view expected_hash,
                                                  absl::string_view expected_account,
                                                  const WriteContext& write, std::string answer) {
  SHIDANG_ASSIGN_OR_RETURN(
      MutationResult set,
      RunWrite(pool_, SetPasswordScript(), username, {AccountKey(username), RefreshKey(username)},
               {std::string(new_hash), std::string(expected_hash), std::string(expected_account),
                std::move(answer)},
               write));
  return Written{std::move(set.payload), set.replayed};
}

absl::StatusOr<v1::Account> AccountStore::Disable(const StoredAccount& read,
                                                  const WriteContext& write) {
  v1::Account updated = read.account;
  updated.set_disabled(true);
  const std::string username = updated.username();
  SHIDANG_ASSIGN_OR_RETURN(MutationResult disabled,
                           RunWrite(pool_, DisableAccountScript(), username,
                                    {AccountKey(username), RefreshKey(username)},
                                    {updated.SerializeAsString(), read.account_bytes}, write));
  // On a retry the directory may lack what the first run stored: the entry is (re)written with
  // it, the account's state since then being disabled all the same (nothing enables one again).
  absl::Status indexed =
      pool_.Command({"HSET", DirectoryKey(), username, disabled.payload}).status();
  if (!indexed.ok()) return indexed;
  return ParseAccount(disabled.payload);
}

absl::StatusOr<std::vector<v1::Account>> AccountStore::Directory() {
  absl::StatusOr<redis::Reply> all = pool_.Command({"HGETALL", DirectoryKey()});
  if (!all.ok()) return all.status();
  std::vector<v1::Account> accounts;
  for (size_t i = 1; i < all->size(); i += 2) {
    absl::StatusOr<v1::Account> account = ParseAccount((*all)[i].str());
    if (!account.ok()) return account.status();
    accounts.push_back(*std::move(account));
  }
  return accounts;
}

}  // namespace shidang::account

// The account store on a real redis-server: record_failure.lua counts wrong passwords exactly as
// the rules' AfterWrongPassword says (services/account/rules.h), for every count around the
// policy's figure and every lock around its end, so the script holds no judgment of its own.
// And the sealing of the answers kept for retries (answer_seal.h).

#include "services/account/store.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/account/answer_seal.h"
#include "services/account/rules.h"
#include "services/common/digest.h"
#include "tests/kit/redis_server.h"

namespace shidang::account {
namespace {

absl::Time T0() { return absl::FromUnixSeconds(1772409600); }  // 2026-03-02T08:00:00+08:00

class AccountStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::Account account;
    account.set_username(kUsername);
    account.set_role(common::v1::ROLE_ADMIN);
    ASSERT_TRUE(store_.Create(account, "$argon2id$not-a-real-hash").ok());
  }

  // Stores `state` as the account's count and lock.
  void Seed(const LockoutState& state) {
    ASSERT_TRUE(redis_.pool()
                    .Command({"HSET", AccountStore::AccountKey(kUsername), "f",
                              absl::StrCat(state.wrong_in_a_row), "l",
                              absl::StrCat(absl::ToUnixSeconds(state.locked_until))})
                    .ok());
  }

  // The account's count and lock as stored.
  LockoutState Stored() {
    auto reply = redis_.pool().Command({"HMGET", AccountStore::AccountKey(kUsername), "f", "l"});
    EXPECT_TRUE(reply.ok()) << reply.status();
    LockoutState state;
    int64_t locked = 0;
    if (!reply.ok() || reply->size() != 2) return state;
    EXPECT_TRUE(absl::SimpleAtoi((*reply)[0].str(), &state.wrong_in_a_row));
    EXPECT_TRUE(absl::SimpleAtoi((*reply)[1].str(), &locked));
    state.locked_until = absl::FromUnixSeconds(locked);
    return state;
  }

  static constexpr char kUsername[] = "head.a";
  testing::RedisServer redis_;
  AccountStore store_{redis_.pool()};
};

TEST_F(AccountStoreTest, RecordFailureDoesWhatTheRulesSay) {
  // Now within a second (the store keeps whole seconds), and locks ending around it.
  const absl::Time now = T0() + absl::Milliseconds(500);
  std::vector<absl::Time> lock_ends = {absl::UnixEpoch(),       T0() - absl::Minutes(15),
                                       T0() - absl::Seconds(1), T0(),
                                       T0() + absl::Seconds(1), T0() + absl::Minutes(15)};
  for (const LockoutPolicy& policy : {kLockout, LockoutPolicy{3, absl::Hours(1)}}) {
    for (int count = 0; count <= policy.max_wrong_passwords; ++count) {
      for (absl::Time locked_until : lock_ends) {
        const LockoutState before{count, locked_until};
        Seed(before);
        const LockoutState expected = AfterWrongPassword(before, now, policy);
        absl::StatusOr<bool> locked =
            store_.RecordFailure(kUsername, now, policy.max_wrong_passwords, LockEnd(now, policy));
        ASSERT_TRUE(locked.ok()) << locked.status();
        const std::string at = absl::StrCat("max ", policy.max_wrong_passwords, ", count ", count,
                                            ", locked until ", absl::FormatTime(locked_until));
        const LockoutState after = Stored();
        EXPECT_EQ(after.wrong_in_a_row, expected.wrong_in_a_row) << at;
        EXPECT_EQ(after.locked_until, expected.locked_until) << at;
        EXPECT_EQ(*locked, LockedByThisFailure(before, expected, now)) << at;
      }
    }
  }
}

TEST_F(AccountStoreTest, FiveWrongPasswordsInARowLockAndTheSixthChangesNothing) {
  Seed(LockoutState{});
  for (int i = 1; i <= 4; ++i) {
    absl::StatusOr<bool> locked = store_.RecordFailure(
        kUsername, T0(), kLockout.max_wrong_passwords, LockEnd(T0(), kLockout));
    ASSERT_TRUE(locked.ok()) << locked.status();
    EXPECT_FALSE(*locked) << "wrong password " << i;
  }
  EXPECT_EQ(Stored(), (LockoutState{4, absl::UnixEpoch()}));
  absl::StatusOr<bool> fifth =
      store_.RecordFailure(kUsername, T0(), kLockout.max_wrong_passwords, LockEnd(T0(), kLockout));
  ASSERT_TRUE(fifth.ok());
  EXPECT_TRUE(*fifth);
  EXPECT_EQ(Stored(), (LockoutState{0, T0() + absl::Minutes(15)}));
  const absl::Time later = T0() + absl::Minutes(15) - absl::Seconds(1);
  absl::StatusOr<bool> sixth = store_.RecordFailure(kUsername, later, kLockout.max_wrong_passwords,
                                                    LockEnd(later, kLockout));
  ASSERT_TRUE(sixth.ok());
  EXPECT_FALSE(*sixth);
  EXPECT_EQ(Stored(), (LockoutState{0, T0() + absl::Minutes(15)}));
}

TEST_F(AccountStoreTest, AnUnknownUsernameChangesNothing) {
  absl::StatusOr<bool> locked = store_.RecordFailure(
      "nobody.here", T0(), kLockout.max_wrong_passwords, LockEnd(T0(), kLockout));
  ASSERT_TRUE(locked.ok()) << locked.status();
  EXPECT_FALSE(*locked);
  auto exists = redis_.pool().Command({"EXISTS", AccountStore::AccountKey("nobody.here")});
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ(exists->integer(), 0);
}

TEST(AnswerSealerTest, AnswersOpenOnlyWithTheirKeyAndUnchanged) {
  const AnswerSealer sealer(std::string(32, 'a'));
  const std::string answer = "initial password: Xy7-secret";
  const std::string sealed = sealer.Seal(answer);
  EXPECT_EQ(sealed.find("Xy7-secret"), std::string::npos);
  EXPECT_NE(sealer.Seal(answer), sealed) << "a fresh nonce each time";
  absl::StatusOr<std::string> opened = sealer.Open(sealed);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, answer);

  EXPECT_EQ(AnswerSealer(std::string(32, 'b')).Open(sealed).status().code(),
            absl::StatusCode::kDataLoss);
  std::string changed = sealed;
  changed.back() = static_cast<char>(changed.back() ^ 1);
  EXPECT_EQ(sealer.Open(changed).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(sealer.Open(sealed.substr(0, 10)).status().code(), absl::StatusCode::kDataLoss);
}

TEST(AnswerSealerTest, PasswordsAreFingerprintedByKeyedDigests) {
  const AnswerSealer sealer(std::string(32, 'a'));
  v1::ChangePasswordRequest req;
  req.set_old_password("the old one 123");
  req.set_new_password("the new one 456");
  req.set_request_id("change-1");
  const v1::ChangePasswordRequest view = FingerprintView(sealer, req);
  EXPECT_EQ(view.request_id(), "change-1");
  for (const std::string& digest : {view.old_password(), view.new_password()}) {
    EXPECT_EQ(digest.size(), 64u);
    EXPECT_EQ(digest.find("the "), std::string::npos);
  }
  EXPECT_NE(view.old_password(), view.new_password());
  EXPECT_NE(view.new_password(), absl::BytesToHexString(Sha256(req.new_password())));
  // Equal requests stay equal; another key digests differently.
  EXPECT_EQ(FingerprintView(sealer, req).SerializeAsString(), view.SerializeAsString());
  EXPECT_NE(FingerprintView(AnswerSealer(std::string(32, 'b')), req).new_password(),
            view.new_password());
}

}  // namespace
}  // namespace shidang::account

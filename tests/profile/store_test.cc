// The profile store's write of new teachers (the roster import's path) against a real
// redis-server, and the ID-card vault's batch sealing and blind index.

#include "services/profile/store.h"

#include <openssl/hmac.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/events.h"
#include "services/common/mutation.h"
#include "services/common/status.h"
#include "services/profile/id_card_vault.h"
#include "tests/kit/redis_server.h"

namespace shidang::profile {
namespace {

using ::testing::HasSubstr;

constexpr char kCounty[] = "330723";
const std::string kSecret(40, 'd');

std::string HmacSha256(absl::string_view key, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

TEST(ProfileIdCardVaultTest, BlindIndexIsTheKeyedHashStoredIndexesWereMadeWith) {
  // Indexes already in Redis were made with HMAC-SHA256 under the derived index key: the
  // prepared-context path must give the very same hex, or duplicates would go unseen.
  IdCardVault vault(kSecret);
  const std::string index_key = HmacSha256(kSecret, "shidang id-card blind index v1");
  for (const std::string number : {"11010519491231002X", "330723198001010016"}) {
    EXPECT_EQ(vault.BlindIndex(number), absl::BytesToHexString(HmacSha256(index_key, number)));
  }
  EXPECT_NE(vault.BlindIndex("11010519491231002X"), vault.BlindIndex("330723198001010016"));
}

TEST(ProfileIdCardVaultTest, SealAllOpensToEachNumberWithFreshNonces) {
  IdCardVault vault(kSecret);
  std::vector<std::string> numbers;
  numbers.reserve(302);  // 300 numbers, then one twice
  for (int i = 0; i < 300; ++i) numbers.push_back(absl::StrCat("3307231980010", 10000 + i));
  numbers.push_back("11010519491231002X");
  numbers.push_back("11010519491231002X");
  absl::StatusOr<std::vector<std::string>> sealed = vault.SealAll(numbers);
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  ASSERT_EQ(sealed->size(), numbers.size());
  for (size_t i = 0; i < numbers.size(); ++i) {
    absl::StatusOr<std::string> opened = vault.Open((*sealed)[i]);
    ASSERT_TRUE(opened.ok()) << i << ": " << opened.status();
    EXPECT_EQ(*opened, numbers[i]);
    EXPECT_EQ((*sealed)[i].find(numbers[i]), std::string::npos)
        << "plain number in the sealed bytes";
  }
  // The same number twice seals differently (a fresh nonce each).
  EXPECT_NE((*sealed)[numbers.size() - 1], (*sealed)[numbers.size() - 2]);
  // One-by-one and batch seal alike; another key does not open them.
  absl::StatusOr<std::string> one = vault.Seal(numbers[0]);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*vault.Open(*one), numbers[0]);
  IdCardVault other(std::string(40, 'e'));
  EXPECT_TRUE(absl::IsDataLoss(other.Open((*sealed)[0]).status()));
}

class ProfileStoreCreateTeachersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1::County county;
    county.set_county_id(kCounty);
    county.set_name("测试县");
    auto created =
        store_.CreateCounty(county, WriteContext{"admin:t", "CreateCounty", nullptr}, {});
    ASSERT_TRUE(created.ok()) << created.status();
  }

  // A new teacher at school S1 with `entries` timeline entries and its two claims.
  TeacherWrite NewTeacher(int i, int entries, const std::string& card = "") {
    TeacherWrite w;
    w.teacher_id = absl::StrCat("T", 1000 + i);
    w.expect = TeacherWrite::Expect::kAbsent;
    v1::Teacher t;
    t.set_teacher_id(w.teacher_id);
    t.set_county_id(kCounty);
    t.set_name(absl::StrCat("教师", i));
    t.set_school_id("S1");
    w.teacher = t;
    w.sealed_id_card = absl::StrCat("sealed-", i);
    for (int e = 0; e < entries; ++e) {
      v1::TimelineEntry entry;
      entry.set_entry_id(absl::StrCat("E", i, "-", e));
      entry.set_teacher_id(w.teacher_id);
      w.entries.push_back(entry);
    }
    w.claims.push_back({ProfileStore::IdCardIndexKey(kCounty, card.empty() ? w.teacher_id : card),
                        "id_card_number"});
    w.claims.push_back(
        {ProfileStore::NationalIdKey(kCounty, absl::StrCat("N", i)), "national_teacher_id"});
    w.add_to_sets = {ProfileStore::SchoolIndexKey(kCounty, i % 2 ? "S1" : "S2"),
                     ProfileStore::TeachersKey(kCounty)};
    return w;
  }

  std::vector<common::v1::Event> EventsFor(const std::vector<TeacherWrite>& writes) {
    std::vector<common::v1::Event> events;
    for (const TeacherWrite& w : writes) {
      common::v1::Event e = NewEvent(kServiceName, "profile.teacher_created", absl::Now());
      e.set_teacher_id(w.teacher_id);
      events.push_back(e);
    }
    return events;
  }

  int64_t Integer(const redis::Args& command) {
    auto reply = redis_.pool().Command(command);
    EXPECT_TRUE(reply.ok()) << reply.status();
    return reply.ok() ? reply->integer() : -1;
  }

  testing::RedisServer redis_;
  ProfileStore store_{redis_.pool()};
};

TEST_F(ProfileStoreCreateTeachersTest, WritesEveryTeacherWithTimelineClaimsIndexesAndEventsOnce) {
  std::vector<TeacherWrite> writes;
  writes.reserve(1500);
  for (int i = 0; i < 1500; ++i) writes.push_back(NewTeacher(i, 1 + i % 3));
  v1::ImportRosterRequest request;
  request.set_county_id(kCounty);
  request.set_request_id("import-1");
  WriteContext write{"county_hr:x", "ImportRoster", &request};
  auto result = store_.WriteTeachers(kCounty, writes, write, EventsFor(writes), "answer");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->payload, "answer");
  // The 1,500 events as one stream entry, in the teachers' order.
  ASSERT_EQ(result->stream_entry_ids.size(), 1u);

  EXPECT_EQ(Integer({"ZCARD", ProfileStore::TeachersKey(kCounty)}), 1500);
  EXPECT_EQ(Integer({"ZCARD", ProfileStore::SchoolIndexKey(kCounty, "S1")}), 750);
  EXPECT_EQ(Integer({"ZCARD", ProfileStore::SchoolIndexKey(kCounty, "S2")}), 750);
  // Each index set has its own members (sent as positions, the county's set as "everyone").
  auto s1 =
      redis_.pool().Command({"ZRANGE", ProfileStore::SchoolIndexKey(kCounty, "S1"), "0", "-1"});
  ASSERT_TRUE(s1.ok()) << s1.status();
  for (size_t k = 0; k < s1->size(); ++k) {
    int number = 0;
    ASSERT_TRUE(absl::SimpleAtoi((*s1)[k].str().substr(1), &number)) << (*s1)[k].str();
    EXPECT_EQ(number % 2, 1) << (*s1)[k].str() << " is not a teacher of S1";
  }
  EXPECT_EQ(Integer({"ZSCORE", ProfileStore::TeachersKey(kCounty), "T1000"}), 0);
  EXPECT_EQ(Integer({"ZSCORE", ProfileStore::TeachersKey(kCounty), "T2499"}), 0);
  EXPECT_EQ(Integer({"XLEN", ProfileStore::StreamKey(kCounty)}), 1);
  auto entry = redis_.pool().Command({"XRANGE", ProfileStore::StreamKey(kCounty), "-", "+"});
  ASSERT_TRUE(entry.ok()) << entry.status();
  auto published = EventsOfEntry((*entry)[0][1]);
  ASSERT_TRUE(published.ok()) << published.status();
  ASSERT_EQ(published->size(), 1500u);
  EXPECT_EQ((*published)[0].teacher_id(), "T1000");
  EXPECT_EQ((*published)[1499].teacher_id(), "T2499");
  auto holder = redis_.pool().Command({"GET", ProfileStore::NationalIdKey(kCounty, "N1234")});
  ASSERT_TRUE(holder.ok());
  EXPECT_EQ(holder->str(), "T2234");

  // Read back through the store: profile, sealed card, version 1, entries numbered from 1.
  auto stored = store_.GetTeacher(kCounty, "T1005");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->teacher.name(), "教师5");
  EXPECT_EQ(stored->sealed_id_card, "sealed-5");
  EXPECT_EQ(stored->version, 1);
  ASSERT_EQ(stored->timeline.size(), 3u);
  for (size_t e = 0; e < 3; ++e) {
    EXPECT_EQ(stored->timeline[e].sequence(), static_cast<int64_t>(e + 1));
    EXPECT_EQ(stored->timeline[e].entry_id(), absl::StrCat("E5-", e));
  }

  // The same request again: the first answer, nothing written twice.
  auto dbsize = Integer({"DBSIZE"});
  auto again = store_.WriteTeachers(kCounty, writes, write, EventsFor(writes), "answer");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(Integer({"DBSIZE"}), dbsize);
  EXPECT_EQ(Integer({"XLEN", ProfileStore::StreamKey(kCounty)}), 1);
}

// The hook an import awaits its routing indexes in: it runs after the arguments are built and
// before the script, and its error stops the write with nothing written.
TEST_F(ProfileStoreCreateTeachersTest, ABeforeScriptErrorWritesNothingAndOkRunsOnce) {
  std::vector<TeacherWrite> writes;
  writes.reserve(20);
  for (int i = 0; i < 20; ++i) writes.push_back(NewTeacher(i, 1));
  const int64_t dbsize = Integer({"DBSIZE"});
  int calls = 0;
  auto refused =
      store_.WriteTeachers(kCounty, writes, WriteContext{"admin:t", "ImportRoster", nullptr},
                           EventsFor(writes), "", [&] {
                             ++calls;
                             return absl::UnavailableError("routing index not written");
                           });
  EXPECT_EQ(calls, 1);
  ASSERT_TRUE(absl::IsUnavailable(refused.status())) << refused.status();
  EXPECT_EQ(Integer({"DBSIZE"}), dbsize);

  auto written =
      store_.WriteTeachers(kCounty, writes, WriteContext{"admin:t", "ImportRoster", nullptr},
                           EventsFor(writes), "", [&] {
                             ++calls;
                             // Runs before the script: no teacher is there yet.
                             EXPECT_EQ(Integer({"ZCARD", ProfileStore::TeachersKey(kCounty)}), 0);
                             return absl::OkStatus();
                           });
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(Integer({"ZCARD", ProfileStore::TeachersKey(kCounty)}), 20);
}

TEST_F(ProfileStoreCreateTeachersTest, AClaimHeldByAnotherTeacherRefusesTheWholeWrite) {
  std::vector<TeacherWrite> first = {NewTeacher(0, 1, "card-a")};
  ASSERT_TRUE(store_
                  .WriteTeachers(kCounty, first, WriteContext{"admin:t", "CreateTeacher", nullptr},
                                 EventsFor(first), "")
                  .ok());
  const int64_t dbsize = Integer({"DBSIZE"});
  const int64_t events = Integer({"XLEN", ProfileStore::StreamKey(kCounty)});
  // 1,200 new teachers, the last one with the ID card teacher T1000 holds: none is written.
  std::vector<TeacherWrite> writes;
  for (int i = 1; i <= 1200; ++i) writes.push_back(NewTeacher(i, 2, i == 1200 ? "card-a" : ""));
  auto result = store_.WriteTeachers(
      kCounty, writes, WriteContext{"admin:t", "ImportRoster", nullptr}, EventsFor(writes), "");
  ASSERT_TRUE(absl::IsAlreadyExists(result.status())) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("id_card_number"));
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("T1000"));
  EXPECT_EQ(Integer({"DBSIZE"}), dbsize);
  EXPECT_EQ(Integer({"XLEN", ProfileStore::StreamKey(kCounty)}), events);
}

TEST_F(ProfileStoreCreateTeachersTest, ClaimsGoToTheirOwnTeacherWhenTeachersHaveFewerOrNone) {
  // Owners travel as a claim count per teacher: teachers with 0, 1 and 2 claims side by side.
  std::vector<TeacherWrite> writes;
  for (int i = 0; i < 30; ++i) {
    TeacherWrite w = NewTeacher(i, i % 4);
    if (i % 3 == 0) w.claims.clear();
    if (i % 3 == 1) w.claims.erase(w.claims.begin());  // the national number only
    writes.push_back(std::move(w));
  }
  ASSERT_TRUE(store_
                  .WriteTeachers(kCounty, writes, WriteContext{"admin:t", "ImportRoster", nullptr},
                                 EventsFor(writes), "")
                  .ok());
  for (int i = 0; i < 30; ++i) {
    auto national =
        redis_.pool().Command({"GET", ProfileStore::NationalIdKey(kCounty, absl::StrCat("N", i))});
    auto card = redis_.pool().Command(
        {"GET", ProfileStore::IdCardIndexKey(kCounty, absl::StrCat("T", 1000 + i))});
    ASSERT_TRUE(national.ok() && card.ok());
    EXPECT_EQ(national->str(), i % 3 == 0 ? "" : absl::StrCat("T", 1000 + i)) << i;
    EXPECT_EQ(card->str(), i % 3 == 2 ? absl::StrCat("T", 1000 + i) : "") << i;
    auto stored = store_.GetTeacher(kCounty, absl::StrCat("T", 1000 + i));
    ASSERT_TRUE(stored.ok()) << stored.status();
    EXPECT_EQ(stored->timeline.size(), static_cast<size_t>(i % 4)) << i;
  }
  // A later teacher whose national number T1004 holds is refused naming that field.
  const int64_t dbsize = Integer({"DBSIZE"});
  std::vector<TeacherWrite> later = {NewTeacher(40, 1), NewTeacher(41, 1)};
  later[1].claims[1].key = ProfileStore::NationalIdKey(kCounty, "N4");
  auto result = store_.WriteTeachers(
      kCounty, later, WriteContext{"admin:t", "ImportRoster", nullptr}, EventsFor(later), "");
  ASSERT_TRUE(absl::IsAlreadyExists(result.status())) << result.status();
  auto bad = BadRequestOf(result.status());
  ASSERT_TRUE(bad.has_value());
  ASSERT_EQ(bad->field_violations_size(), 1);
  EXPECT_EQ(bad->field_violations(0).field(), "national_teacher_id");
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("T1004"));
  EXPECT_EQ(Integer({"DBSIZE"}), dbsize);
}

TEST_F(ProfileStoreCreateTeachersTest, TwoNewTeachersClaimingOneNumberAreRefusedBeforeRedis) {
  std::vector<TeacherWrite> writes = {NewTeacher(1, 1, "same"), NewTeacher(2, 1, "same")};
  const int64_t dbsize = Integer({"DBSIZE"});
  auto result = store_.WriteTeachers(
      kCounty, writes, WriteContext{"admin:t", "ImportRoster", nullptr}, EventsFor(writes), "");
  ASSERT_TRUE(absl::IsAlreadyExists(result.status())) << result.status();
  auto bad = BadRequestOf(result.status());
  ASSERT_TRUE(bad.has_value());
  ASSERT_EQ(bad->field_violations_size(), 1);
  EXPECT_EQ(bad->field_violations(0).field(), "id_card_number");
  EXPECT_EQ(Integer({"DBSIZE"}), dbsize);
}

TEST_F(ProfileStoreCreateTeachersTest, AnExistingTeacherOrAMissingCountyWritesNothing) {
  std::vector<TeacherWrite> one = {NewTeacher(7, 1)};
  ASSERT_TRUE(store_
                  .WriteTeachers(kCounty, one, WriteContext{"admin:t", "CreateTeacher", nullptr},
                                 EventsFor(one), "")
                  .ok());
  const int64_t dbsize = Integer({"DBSIZE"});
  std::vector<TeacherWrite> writes = {NewTeacher(8, 1), NewTeacher(7, 1)};
  writes[1].claims.clear();  // only the hash itself collides
  auto result = store_.WriteTeachers(
      kCounty, writes, WriteContext{"admin:t", "ImportRoster", nullptr}, EventsFor(writes), "");
  ASSERT_TRUE(absl::IsAlreadyExists(result.status())) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("T1007"));
  EXPECT_EQ(Integer({"DBSIZE"}), dbsize);

  std::vector<TeacherWrite> elsewhere = {NewTeacher(9, 1)};
  elsewhere[0].claims.clear();
  elsewhere[0].add_to_sets = {ProfileStore::TeachersKey("330781")};
  auto missing = store_.WriteTeachers("330781", elsewhere,
                                      WriteContext{"admin:t", "ImportRoster", nullptr}, {}, "");
  EXPECT_TRUE(absl::IsFailedPrecondition(missing.status())) << missing.status();
}

TEST_F(ProfileStoreCreateTeachersTest, IndexSetsGetExactlyTheTeachersThatNameThem) {
  // Runs of one school, a school coming back after another, set keys in either order, a teacher
  // naming one set twice and teachers naming fewer or more sets than the one before.
  const std::string all = ProfileStore::TeachersKey(kCounty);
  auto school = [](const char* id) { return ProfileStore::SchoolIndexKey(kCounty, id); };
  const std::vector<std::vector<std::string>> sets_of = {
      {school("S1"), all}, {school("S1"), all},
      {school("S1"), all}, {all, school("S1")},
      {school("S2"), all}, {school("S2"), all, school("S3")},
      {school("S1")},      {school("S3"), all},
      {all, all},          {school("S2"), school("S1"), all}};
  std::vector<TeacherWrite> writes;
  std::map<std::string, std::set<std::string>> expected;
  for (size_t i = 0; i < sets_of.size(); ++i) {
    TeacherWrite w = NewTeacher(static_cast<int>(i), 1);
    w.add_to_sets = sets_of[i];
    for (const std::string& key : sets_of[i]) expected[key].insert(w.teacher_id);
    writes.push_back(std::move(w));
  }
  auto result = store_.WriteTeachers(
      kCounty, writes, WriteContext{"admin:t", "ImportRoster", nullptr}, EventsFor(writes), "");
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(expected.size(), 4u);
  for (const auto& [key, members] : expected) {
    auto got = redis_.pool().Command({"ZRANGE", key, "0", "-1"});
    ASSERT_TRUE(got.ok()) << got.status();
    std::set<std::string> stored;
    for (size_t k = 0; k < got->size(); ++k) stored.insert(std::string((*got)[k].str()));
    EXPECT_EQ(stored, members) << key;
  }
}

}  // namespace
}  // namespace shidang::profile

// ID-card numbers in the profile service, as a real process on a real redis-server: the audit
// trail of unmasked reads that HR reads (ListIdCardReads, services/profile/id_card_reads.h) and
// one number per person nationally (services/profile/id_card_owners.h).

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/clock.h"
#include "services/common/dates.h"
#include "services/common/principal.h"
#include "services/common/status.h"
#include "services/profile/demo_county.h"
#include "services/profile/id_card_vault.h"
#include "services/profile/rules.h"
#include "shidang/profile/v1/profile.grpc.pb.h"
#include "tests/kit/files.h"
#include "tests/kit/principals.h"
#include "tests/kit/profile_requests.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/redis_snapshot.h"
#include "tests/profile/profile_fixture.h"

namespace shidang::profile {
namespace {

using common::v1::Principal;
using common::v1::Role;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using testing::WriteFile;

constexpr char kCounty[] = "330723";       // 武义县, 金华市
constexpr char kOtherCounty[] = "330781";  // 兰溪市, 金华市
constexpr char kThirdCounty[] = "330102";  // 杭州市上城区
constexpr char kToday[] = "2025-11-25";

using testing::Snapshot;
using testing::Who;

// A valid ID-card number (GB 11643) of a woman born 1990-03-07, registered in 武义县.
std::string IdCard(int serial) {
  std::string first17 =
      absl::StrCat(kCounty, "19900307", absl::StrFormat("%02d", serial % 100), "2");
  return first17 + IdCardCheckCharacter(first17);
}

class IdCardsTest : public ProfileFixture {
 protected:
  void SetUp() override { StartService(); }

  void StartService(std::vector<std::string> extra = {}) {
    ASSERT_NO_FATAL_FAILURE(StartProfile(kToday, std::move(extra)));
  }

  void CreateCounty(const std::string& county) {
    v1::CreateCountyRequest req;
    req.set_county_id(county);
    req.set_name(absl::StrCat("县", county));
    req.set_city_code(county.substr(0, 4) + "00");
    req.set_province_code(county.substr(0, 2) + "0000");
    v1::CreateCountyResponse resp;
    grpc::Status s = Call(&v1::ProfileService::Stub::CreateCounty, admin_, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  std::string CreateSchool(const std::string& county, const std::string& name) {
    v1::CreateSchoolResponse resp;
    grpc::Status s = Call(
        &v1::ProfileService::Stub::CreateSchool, admin_,
        testing::PrimarySchoolRequest(name, v1::SCHOOL_LOCATION_URBAN, /*request_id=*/"", county),
        &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.school().school_id();
  }

  // County, its school, and its HR.
  struct Place {
    std::string county;
    std::string school;
    Principal hr;
  };
  Place MakePlace(const std::string& county) {
    CreateCounty(county);
    return {county, CreateSchool(county, absl::StrCat("第一小学", county)),
            Who(common::v1::ROLE_COUNTY_HR, absl::StrCat("hr", county), county)};
  }

  v1::CreateTeacherRequest TeacherRequest(const Place& place, const std::string& number,
                                          const std::string& national_id) {
    v1::CreateTeacherRequest req;
    req.set_county_id(place.county);
    v1::Teacher* t = req.mutable_teacher();
    t->set_name("王芳");
    t->set_sex(common::v1::SEX_FEMALE);
    t->set_birth_date("1990-03-07");
    t->set_id_card_number(number);
    t->set_hire_date("2012-09-01");
    t->set_school_id(place.school);
    t->set_stage(common::v1::STAGE_PRIMARY);
    t->add_subjects("数学");
    t->set_staffed(true);
    t->set_post_status(v1::POST_STATUS_ON_DUTY);
    t->set_national_teacher_id(national_id);
    return req;
  }

  grpc::Status TryCreate(const Place& place, const std::string& number,
                         const std::string& national_id, v1::Teacher* created = nullptr,
                         const std::string& request_id = "") {
    v1::CreateTeacherRequest req = TeacherRequest(place, number, national_id);
    req.set_request_id(request_id);
    v1::CreateTeacherResponse resp;
    grpc::Status s = Call(&v1::ProfileService::Stub::CreateTeacher, place.hr, req, &resp);
    if (created != nullptr) *created = resp.teacher();
    return s;
  }

  v1::Teacher Create(const Place& place, const std::string& number,
                     const std::string& national_id) {
    v1::Teacher created;
    grpc::Status s = TryCreate(place, number, national_id, &created);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return created;
  }

  // The national owner record of a number: its teacher id, "" when there is none.
  std::string OwnerOf(const std::string& number) {
    auto owner = redis_.pool().Command({"HGET", OwnerKey(number), "t"});
    EXPECT_TRUE(owner.ok());
    return owner.ok() && !owner->is_nil() ? std::string(owner->str()) : "";
  }
  std::string OwnerKey(const std::string& number) {
    return absl::StrCat("profile:{idc:", vault_.BlindIndex(number), "}:owner");
  }

  int64_t CountTeachers(const Principal& who, const std::string& county) {
    v1::ListTeachersRequest req;
    req.set_county_id(county);
    req.mutable_page()->set_page_size(500);
    v1::ListTeachersResponse resp;
    grpc::Status s = Call(&v1::ProfileService::Stub::ListTeachers, who, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.teachers_size();
  }

  // Every entry ListIdCardReads gives `who` for `req`, page by page (page size `page_size`).
  std::vector<v1::IdCardRead> AllReads(const Principal& who, v1::ListIdCardReadsRequest req,
                                       int page_size = 0, int* pages = nullptr) {
    std::vector<v1::IdCardRead> reads;
    req.mutable_page()->set_page_size(page_size);
    for (int page = 1; page <= 100; ++page) {
      v1::ListIdCardReadsResponse resp;
      grpc::Status s = Call(&v1::ProfileService::Stub::ListIdCardReads, who, req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      reads.insert(reads.end(), resp.reads().begin(), resp.reads().end());
      if (pages != nullptr) *pages = page;
      if (resp.page().next_page_token().empty()) break;
      req.mutable_page()->set_page_token(resp.page().next_page_token());
    }
    return reads;
  }
  std::vector<v1::IdCardRead> CountyReads(const std::string& county) {
    v1::ListIdCardReadsRequest req;
    req.set_county_id(county);
    return AllReads(admin_, req);
  }

  // kOtherCounty with its schools imported, and a teacher roster for it whose CSV row 4 has
  // `number`, every other cell of that row fitting it: the number is the row's only problem.
  std::optional<DemoCounty> OtherCountyRosterWithRowFour(const std::string& number) {
    CreateCounty(kOtherCounty);
    DemoCountyOptions options;
    options.county_id = kOtherCounty;
    options.teachers = 4;
    options.schools = 2;
    options.today = absl::CivilDay(2025, 11, 25);
    absl::StatusOr<DemoCounty> demo = GenerateDemoCounty(options);
    EXPECT_TRUE(demo.ok()) << demo.status();
    if (!demo.ok()) return std::nullopt;
    v1::ImportRosterResponse imported;
    grpc::Status s = ImportThere(v1::ROSTER_KIND_SCHOOLS, SchoolsCsv(*demo), "schools", &imported);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok()) return std::nullopt;
    DemoTeacher& row = demo->teachers[2];  // CSV row 4
    row.id_card_number = number;
    row.birth_date = absl::CivilDay(1990, 3, 7);
    row.sex = common::v1::SEX_FEMALE;
    // Dates that fit that birth date.
    row.hire_date = absl::CivilDay(2012, 9, 1);
    row.school_joined_on = absl::CivilDay(2015, 9, 1);
    row.title = common::v1::PROFESSIONAL_TITLE_UNSPECIFIED;
    row.title_conferred_on.reset();
    row.backbone_tier = common::v1::BACKBONE_TIER_UNSPECIFIED;
    row.backbone_designated_on.reset();
    return *std::move(demo);
  }
  Principal HrThere() const { return Who(common::v1::ROLE_COUNTY_HR, "hr-there", kOtherCounty); }
  grpc::Status ImportThere(v1::RosterKind kind, const std::string& csv, const std::string& id,
                           v1::ImportRosterResponse* resp) {
    v1::ImportRosterRequest req;
    req.set_county_id(kOtherCounty);
    req.set_kind(kind);
    req.set_csv(csv);
    req.set_request_id(id);
    return Call(&v1::ProfileService::Stub::ImportRoster, HrThere(), req, resp);
  }
  grpc::Status CheckThere(const std::string& csv, v1::CheckRosterResponse* resp) {
    v1::CheckRosterRequest req;
    req.set_county_id(kOtherCounty);
    req.set_kind(v1::ROSTER_KIND_TEACHERS);
    req.set_csv(csv);
    return Call(&v1::ProfileService::Stub::CheckRoster, HrThere(), req, resp);
  }

  // Writes that answer with a teacher: HR updates a (1 unmasked read) and adds an honour to b (1),
  // the school admin adds one too (0: masked), city HR transfers b to `there` (1, read there).
  void WriteAnsweringWithTeachers(const Place& there, const v1::Teacher& a, const v1::Teacher& b,
                                  const Principal& hr, const Principal& school_admin,
                                  const Principal& city_hr) {
    v1::UpdateTeacherRequest update;
    update.set_teacher_id(a.teacher_id());
    update.mutable_teacher()->set_phone("13800000000");
    update.mutable_update_mask()->add_paths("phone");
    v1::UpdateTeacherResponse updated;
    ASSERT_TRUE(Call(&v1::ProfileService::Stub::UpdateTeacher, hr, update, &updated).ok());  // 1
    v1::AddTimelineEntryRequest add;
    add.set_teacher_id(b.teacher_id());
    add.mutable_entry()->set_kind(v1::TIMELINE_ENTRY_KIND_HONOUR);
    add.mutable_entry()->set_occurred_on("2021-12-01");
    add.mutable_entry()->set_summary("县优秀教师");
    add.mutable_entry()->mutable_honour()->set_name("县优秀教师");
    add.mutable_entry()->mutable_honour()->set_level(v1::AWARD_LEVEL_COUNTY);
    v1::AddTimelineEntryResponse added;
    ASSERT_TRUE(Call(&v1::ProfileService::Stub::AddTimelineEntry, hr, add, &added).ok());  // 1 (b)
    add.mutable_entry()->set_summary("校优秀教师");
    ASSERT_TRUE(
        Call(&v1::ProfileService::Stub::AddTimelineEntry, school_admin, add, &added).ok());  // 0
    ASSERT_TRUE(added.teacher().id_card_number().empty());
    // City HR transfers b: the answer is read in the receiving county.
    v1::TransferTeacherRequest transfer;
    transfer.set_teacher_id(b.teacher_id());
    transfer.set_to_county_id(kOtherCounty);
    transfer.set_to_school_id(there.school);
    transfer.set_transferred_on("2025-09-01");
    v1::TransferTeacherResponse transferred;
    grpc::Status s =
        Call(&v1::ProfileService::Stub::TransferTeacher, city_hr, transfer, &transferred);
    ASSERT_TRUE(s.ok()) << s.error_message();  // 1 (b, in kOtherCounty)
  }

  IdCardVault vault_{kTestDataKey};
  Principal admin_ = Who(common::v1::ROLE_ADMIN, "ops");
};

// ---------------------------------------------------------------------------------------------
// The audit trail HR reads.

// Every call that answers with an unmasked number, by a caller who may see it, is listed exactly
// once (who, whose, when, which call and method); masked answers never are; no entry holds the
// number.
TEST_F(IdCardsTest, EveryUnmaskedReadIsListedOnceAndMaskedReadsNever) {
  const Place here = MakePlace(kCounty);
  const Place there = MakePlace(kOtherCounty);
  const absl::Time start = absl::Now();
  const v1::Teacher a = Create(here, IdCard(1), "N1");  // CreateTeacher's answer: 1 (a)
  const v1::Teacher b = Create(here, IdCard(2), "N2");  // 1 (b)
  const Principal& hr = here.hr;
  const Principal self = Who(common::v1::ROLE_TEACHER, a.teacher_id());
  const Principal school_admin = Who(common::v1::ROLE_SCHOOL_ADMIN, "sa", "", here.school);
  const Principal city_hr = Who(common::v1::ROLE_CITY_HR, "city", "330700");

  v1::GetTeacherRequest get;
  get.set_teacher_id(a.teacher_id());
  v1::GetTeacherResponse got;
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher, hr, get, &got).ok());            // 1 (a)
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher, self, get, &got).ok());          // 1 (a)
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher, school_admin, get, &got).ok());  // 0
  ASSERT_TRUE(got.teacher().id_card_number().empty());
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher, admin_, get, &got).ok());  // masked: 0
  EXPECT_EQ(CountTeachers(hr, kCounty), 2);                                          // 1 each
  EXPECT_EQ(CountTeachers(school_admin, kCounty), 2);                                // 0
  v1::GetGrowthFileRequest file;
  file.set_teacher_id(b.teacher_id());
  v1::GetGrowthFileResponse filed;
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetGrowthFile, hr, file, &filed).ok());  // 1 (b)

  ASSERT_NO_FATAL_FAILURE(WriteAnsweringWithTeachers(there, a, b, hr, school_admin, city_hr));

  // (reader, teacher, method) -> count.
  std::map<std::tuple<std::string, std::string, std::string>, int> listed;
  std::set<std::string> calls;
  const std::vector<v1::IdCardRead> reads = CountyReads(kCounty);
  for (const v1::IdCardRead& read : reads) {
    ++listed[{absl::StrCat(RoleName(read.reader_role()), ":", read.reader_subject()),
              read.teacher_id(), read.method()}];
    EXPECT_FALSE(read.request_id().empty());
    calls.insert(absl::StrCat(read.request_id(), "/", read.teacher_id()));
    EXPECT_GE(read.read_at_ms(), absl::ToUnixMillis(start) - 1000);
    EXPECT_LE(read.read_at_ms(), absl::ToUnixMillis(absl::Now()) + 1000);
    EXPECT_THAT(read.DebugString(), Not(HasSubstr(IdCard(1))));
    EXPECT_THAT(read.DebugString(), Not(HasSubstr(IdCard(2))));
  }
  const std::string by_hr = ActorOf(hr);
  const std::map<std::tuple<std::string, std::string, std::string>, int> expected = {
      {{by_hr, a.teacher_id(), "CreateTeacher"}, 1},
      {{by_hr, b.teacher_id(), "CreateTeacher"}, 1},
      {{by_hr, a.teacher_id(), "GetTeacher"}, 1},
      {{ActorOf(self), a.teacher_id(), "GetTeacher"}, 1},
      {{by_hr, a.teacher_id(), "ListTeachers"}, 1},
      {{by_hr, b.teacher_id(), "ListTeachers"}, 1},
      {{by_hr, b.teacher_id(), "GetGrowthFile"}, 1},
      {{by_hr, a.teacher_id(), "UpdateTeacher"}, 1},
      {{by_hr, b.teacher_id(), "AddTimelineEntry"}, 1}};
  EXPECT_EQ(listed, expected);
  EXPECT_EQ(calls.size(), reads.size()) << "one entry per read, per call";
  // Newest first.
  for (size_t i = 1; i < reads.size(); ++i) {
    EXPECT_GE(reads[i - 1].read_at_ms(), reads[i].read_at_ms());
    EXPECT_NE(reads[i - 1].entry_id(), reads[i].entry_id());
  }

  const std::vector<v1::IdCardRead> there_reads = CountyReads(kOtherCounty);
  ASSERT_EQ(there_reads.size(), 1u);
  EXPECT_EQ(there_reads[0].teacher_id(), b.teacher_id());
  EXPECT_EQ(there_reads[0].reader_role(), common::v1::ROLE_CITY_HR);
  EXPECT_EQ(there_reads[0].reader_subject(), "city");
  EXPECT_EQ(there_reads[0].method(), "TransferTeacher");
  // Listing the trail is not itself an unmasked read.
  EXPECT_EQ(CountyReads(kCounty).size(), reads.size());
}

TEST_F(IdCardsTest, ReadsArePagedNewestFirstAndFilteredByTeacherReaderAndDay) {
  const Place here = MakePlace(kCounty);
  const v1::Teacher a = Create(here, IdCard(1), "N1");
  const v1::Teacher b = Create(here, IdCard(2), "N2");
  const Principal other_hr = Who(common::v1::ROLE_CITY_HR, "other", "330700");
  v1::GetTeacherRequest get;
  v1::GetTeacherResponse got;
  for (int i = 0; i < 5; ++i) {
    get.set_teacher_id(i % 2 == 0 ? a.teacher_id() : b.teacher_id());
    ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher, here.hr, get, &got).ok());
  }
  get.set_teacher_id(b.teacher_id());
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher, other_hr, get, &got).ok());
  // 2 creations + 5 + 1 reads: 8 entries (a: 1 + 3, b: 1 + 2 + 1).
  const std::vector<v1::IdCardRead> all = CountyReads(kCounty);
  ASSERT_EQ(all.size(), 8u);

  int pages = 0;
  v1::ListIdCardReadsRequest req;
  req.set_county_id(kCounty);
  const std::vector<v1::IdCardRead> paged = AllReads(admin_, req, 3, &pages);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(paged.size(), all.size());
  for (size_t i = 0; i < paged.size(); ++i) EXPECT_EQ(paged[i].entry_id(), all[i].entry_id());
  EXPECT_EQ(all[0].reader_subject(), "other");  // the newest first

  req.set_teacher_id(a.teacher_id());
  std::vector<v1::IdCardRead> of_a = AllReads(here.hr, req, 2);
  EXPECT_EQ(of_a.size(), 4u);
  for (const v1::IdCardRead& read : of_a) EXPECT_EQ(read.teacher_id(), a.teacher_id());
  req.clear_teacher_id();
  req.set_reader_subject("other");
  std::vector<v1::IdCardRead> by_other = AllReads(here.hr, req);
  ASSERT_EQ(by_other.size(), 1u);
  EXPECT_EQ(by_other[0].teacher_id(), b.teacher_id());
  req.set_reader_role(common::v1::ROLE_COUNTY_HR);  // "other" is city HR
  EXPECT_TRUE(AllReads(here.hr, req).empty());
  req.clear_reader_subject();
  EXPECT_EQ(AllReads(here.hr, req).size(), 7u);
  req.clear_reader_role();

  // Days in Asia/Shanghai: today holds them all, yesterday and tomorrow none.
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), ShanghaiTimeZone());
  req.set_from_date(dates::FormatDate(today));
  req.set_to_date(dates::FormatDate(today));
  EXPECT_EQ(AllReads(here.hr, req).size(), 8u);
  req.set_from_date(dates::FormatDate(today + 1));
  req.set_to_date("");
  EXPECT_TRUE(AllReads(here.hr, req).empty());
  req.set_from_date("");
  req.set_to_date(dates::FormatDate(today - 1));
  EXPECT_TRUE(AllReads(here.hr, req).empty());

  // Bad ranges and tokens name their field.
  v1::ListIdCardReadsResponse resp;
  req.set_from_date(dates::FormatDate(today));
  grpc::Status s = Call(&v1::ProfileService::Stub::ListIdCardReads, here.hr, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("to_date"));
  req.clear_to_date();
  req.mutable_page()->set_page_token("bm90LWEtdG9rZW4");
  s = Call(&v1::ProfileService::Stub::ListIdCardReads, here.hr, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("page_token"));
}

TEST_F(IdCardsTest, OnlyAdminsAndHrOfTheRegionReadTheTrail) {
  const Place here = MakePlace(kCounty);
  MakePlace(kOtherCounty);
  const v1::Teacher a = Create(here, IdCard(1), "N1");
  v1::ListIdCardReadsRequest req;
  req.set_county_id(kCounty);
  v1::ListIdCardReadsResponse resp;
  for (const Principal& allowed : {admin_, here.hr, Who(common::v1::ROLE_CITY_HR, "city", "330700"),
                                   Who(common::v1::ROLE_PROVINCE_HR, "province", "330000")}) {
    grpc::Status s = Call(&v1::ProfileService::Stub::ListIdCardReads, allowed, req, &resp);
    EXPECT_TRUE(s.ok()) << ActorOf(allowed) << ": " << s.error_message();
    EXPECT_EQ(resp.reads_size(), 1) << ActorOf(allowed);
  }
  for (const Principal& refused :
       {Who(common::v1::ROLE_TEACHER, a.teacher_id()),
        Who(common::v1::ROLE_SCHOOL_ADMIN, "sa", "", here.school),
        Who(common::v1::ROLE_TRAINING_CENTER, "centre"), Who(common::v1::ROLE_SERVICE, "training"),
        Who(common::v1::ROLE_COUNTY_HR, "hr2", kOtherCounty),
        Who(common::v1::ROLE_CITY_HR, "hangzhou", "330100")}) {
    grpc::Status s = Call(&v1::ProfileService::Stub::ListIdCardReads, refused, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << ActorOf(refused);
  }
  // AIP-211: a county that does not exist answers city HR of its region as one outside it does.
  const Principal city = Who(common::v1::ROLE_CITY_HR, "city", "330700");
  const Principal hangzhou = Who(common::v1::ROLE_CITY_HR, "city", "330100");
  req.set_county_id("330799");
  grpc::Status unknown = Call(&v1::ProfileService::Stub::ListIdCardReads, city, req, &resp);
  req.set_county_id(kCounty);
  grpc::Status outside = Call(&v1::ProfileService::Stub::ListIdCardReads, hangzhou, req, &resp);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(outside.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(absl::StrReplaceAll(unknown.error_message(), {{"330799", "C"}}),
            absl::StrReplaceAll(outside.error_message(), {{kCounty, "C"}}));
  req.set_county_id("330799");
  EXPECT_EQ(Call(&v1::ProfileService::Stub::ListIdCardReads, admin_, req, &resp).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// Entries older than the retention are trimmed as new ones are added and never listed; the
// retention is a flag (five years by default).
TEST_F(IdCardsTest, EntriesPastTheRetentionGo) {
  StartService({"--id_card_read_retention=1h"});
  const Place here = MakePlace(kCounty);
  const v1::Teacher a = Create(here, IdCard(1), "N1");
  const std::string trail = absl::StrCat("profile:{c:", kCounty, "}:id_card_reads");
  auto entry_at = [&](absl::Duration ago, const std::string& teacher) {
    const std::string id = absl::StrCat(absl::ToUnixMillis(absl::Now() - ago), "-0");
    auto added = redis_.pool().Command({"XADD", trail, id, "r", "county_hr:old", "t", teacher, "q",
                                        "old-call", "m", "GetTeacher"});
    EXPECT_TRUE(added.ok()) << added.status();
  };
  auto trail_length = [&] { return redis_.pool().Command({"XLEN", trail})->integer(); };
  // Older entries go at the end of the stream in id order: XADD refuses an id below the last.
  ASSERT_TRUE(redis_.pool().Command({"DEL", trail}).ok());
  entry_at(absl::Hours(2), "T-two-hours");
  entry_at(absl::Minutes(30), "T-half-hour");
  ASSERT_EQ(trail_length(), 2);
  // Listed: only what is within the retention, before any trim.
  std::vector<v1::IdCardRead> listed = CountyReads(kCounty);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].teacher_id(), "T-half-hour");
  // The next read trims the older one away and keeps the other.
  v1::GetTeacherRequest get;
  get.set_teacher_id(a.teacher_id());
  v1::GetTeacherResponse got;
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher, here.hr, get, &got).ok());
  EXPECT_EQ(trail_length(), 2);
  listed = CountyReads(kCounty);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].teacher_id(), a.teacher_id());
  EXPECT_EQ(listed[1].teacher_id(), "T-half-hour");

  // The default keeps five years: a four-year-old entry stays, a six-year-old one goes.
  StartService();
  ASSERT_TRUE(redis_.pool().Command({"DEL", trail}).ok());
  entry_at(absl::Hours(24 * 365 * 6), "T-six-years");
  entry_at(absl::Hours(24 * 365 * 4), "T-four-years");
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher, here.hr, get, &got).ok());
  EXPECT_EQ(trail_length(), 2);
  listed = CountyReads(kCounty);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[1].teacher_id(), "T-four-years");
}

// ---------------------------------------------------------------------------------------------
// One number per person, nationally.

TEST_F(IdCardsTest, TheSameNumberInAnotherCountyIsRefusedAndWritesNothing) {
  const Place here = MakePlace(kCounty);
  const Place there = MakePlace(kOtherCounty);
  const v1::Teacher first = Create(here, IdCard(1), "N1");
  EXPECT_EQ(OwnerOf(IdCard(1)), first.teacher_id());
  const std::map<std::string, std::string> before = Snapshot(redis_.pool());
  for (int retry = 0; retry < 3; ++retry) {
    grpc::Status s = TryCreate(there, IdCard(1), "N-there", nullptr, "refused-there");
    EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr("teacher.id_card_number"));
    // Neither who nor where holds it.
    EXPECT_THAT(s.error_message(), Not(HasSubstr(first.teacher_id())));
    EXPECT_THAT(s.error_message(), Not(HasSubstr(kCounty)));
  }
  EXPECT_EQ(Snapshot(redis_.pool()), before);
  EXPECT_EQ(CountTeachers(admin_, kOtherCounty), 0);
  // Another number is fine there.
  Create(there, IdCard(2), "N-there");
}

TEST_F(IdCardsTest, ConcurrentCreationsOfOneNumberInTwoCountiesLetExactlyOneThrough) {
  const Place places[] = {MakePlace(kCounty), MakePlace(kOtherCounty)};
  for (int round = 0; round < 3; ++round) {
    const std::string number = IdCard(10 + round);
    constexpr int kCallers = 8;
    std::vector<grpc::Status> statuses(kCallers);
    std::vector<v1::Teacher> created(kCallers);
    std::vector<std::thread> callers;
    callers.reserve(kCallers);
    for (int i = 0; i < kCallers; ++i) {
      callers.emplace_back([&, i] {
        statuses[i] = TryCreate(places[i % 2], number, absl::StrCat("N", round, "-", i),
                                &created[i], absl::StrCat("race-", round, "-", i));
      });
    }
    for (std::thread& caller : callers) caller.join();
    int ok = 0;
    std::string winner;
    for (int i = 0; i < kCallers; ++i) {
      if (statuses[i].ok()) {
        ++ok;
        winner = created[i].teacher_id();
      } else {
        EXPECT_EQ(statuses[i].error_code(), grpc::StatusCode::ALREADY_EXISTS)
            << statuses[i].error_message();
      }
    }
    EXPECT_EQ(ok, 1) << "round " << round;
    EXPECT_EQ(OwnerOf(number), winner);
  }
  EXPECT_EQ(CountTeachers(admin_, kCounty) + CountTeachers(admin_, kOtherCounty), 3);
}

TEST_F(IdCardsTest, ATransferKeepsTheClaimAndAnUpdateReleasesTheOldNumber) {
  const Place here = MakePlace(kCounty);
  const Place there = MakePlace(kOtherCounty);
  const Place third = MakePlace(kThirdCounty);
  const v1::Teacher t = Create(here, IdCard(1), "N1");
  v1::TransferTeacherRequest transfer;
  transfer.set_teacher_id(t.teacher_id());
  transfer.set_to_county_id(kOtherCounty);
  transfer.set_to_school_id(there.school);
  transfer.set_transferred_on("2025-09-01");
  transfer.set_request_id("transfer-1");
  v1::TransferTeacherResponse transferred;
  const Principal city = Who(common::v1::ROLE_CITY_HR, "city", "330700");
  grpc::Status s = Call(&v1::ProfileService::Stub::TransferTeacher, city, transfer, &transferred);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(OwnerOf(IdCard(1)), t.teacher_id());
  // The county left behind, and any other, cannot take the number.
  EXPECT_EQ(TryCreate(here, IdCard(1), "N-again").error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(TryCreate(third, IdCard(1), "N-third").error_code(), grpc::StatusCode::ALREADY_EXISTS);

  // An update to a number another county's teacher holds is refused and writes nothing.
  const v1::Teacher other = Create(third, IdCard(2), "N2");
  v1::UpdateTeacherRequest update;
  update.set_teacher_id(t.teacher_id());
  update.mutable_update_mask()->add_paths("id_card_number");
  update.mutable_teacher()->set_id_card_number(IdCard(2));
  update.set_request_id("update-refused");
  v1::UpdateTeacherResponse updated;
  const Principal there_hr = there.hr;
  const std::map<std::string, std::string> before = Snapshot(redis_.pool());
  s = Call(&v1::ProfileService::Stub::UpdateTeacher, there_hr, update, &updated);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << s.error_message();
  EXPECT_THAT(s.error_message(), Not(HasSubstr(other.teacher_id())));
  EXPECT_EQ(Snapshot(redis_.pool()), before);

  // An update to a free number moves the claim: the old number is free again everywhere.
  update.mutable_teacher()->set_id_card_number(IdCard(3));
  update.set_request_id("update-ok");
  s = Call(&v1::ProfileService::Stub::UpdateTeacher, there_hr, update, &updated);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(OwnerOf(IdCard(3)), t.teacher_id());
  EXPECT_EQ(OwnerOf(IdCard(1)), "");
  v1::Teacher reuser;
  s = TryCreate(third, IdCard(1), "N-reuse", &reuser);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(OwnerOf(IdCard(1)), reuser.teacher_id());
  EXPECT_EQ(TryCreate(here, IdCard(3), "N-taken").error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

TEST_F(IdCardsTest, ARosterRowWhoseNumberIsTakenElsewhereIsRefusedByRowAndColumn) {
  const Place here = MakePlace(kCounty);
  const v1::Teacher holder = Create(here, IdCard(1), "N1");
  std::optional<DemoCounty> demo = OtherCountyRosterWithRowFour(IdCard(1));
  ASSERT_TRUE(demo.has_value());
  auto import = [&](v1::RosterKind kind, const std::string& csv, const std::string& id) {
    v1::ImportRosterResponse resp;
    return ImportThere(kind, csv, id, &resp);
  };
  const std::map<std::string, std::string> before = Snapshot(redis_.pool());
  grpc::Status s = import(v1::ROSTER_KIND_TEACHERS, TeachersCsv(*demo), "teachers");
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  std::optional<common::v1::BadRequest> bad = BadRequestOf(FromGrpcStatus(s));
  ASSERT_TRUE(bad.has_value());
  ASSERT_EQ(bad->row_violations_size(), 1) << bad->DebugString();
  const common::v1::RowViolation& problem = bad->row_violations(0);
  EXPECT_EQ(problem.row(), 4);
  EXPECT_THAT(problem.column(), HasSubstr("身份证号"));
  EXPECT_EQ(problem.rule(), "exists");
  EXPECT_THAT(problem.description(), Not(HasSubstr(holder.teacher_id())));
  EXPECT_THAT(problem.description(), Not(HasSubstr(kCounty)));
  EXPECT_EQ(Snapshot(redis_.pool()), before);

  // Without that row the file goes in, and every number is claimed for its teacher.
  demo->teachers.erase(demo->teachers.begin() + 2);
  s = import(v1::ROSTER_KIND_TEACHERS, TeachersCsv(*demo), "teachers-2");
  ASSERT_TRUE(s.ok()) << s.error_message();
  for (const DemoTeacher& teacher : demo->teachers) {
    EXPECT_FALSE(OwnerOf(teacher.id_card_number).empty());
  }
  EXPECT_EQ(OwnerOf(IdCard(1)), holder.teacher_id());
}

// CheckRoster (the dry run) reports a row whose number another county's teacher holds as
// ImportRoster refuses it: the same row, column and description, the number masked, neither the
// holder nor their county named; and it reads only. Before, the check passed the row and the
// import then refused the file.
TEST_F(IdCardsTest, CheckRosterReportsANumberTakenElsewhereAsTheImportRefusesIt) {
  const Place here = MakePlace(kCounty);
  const v1::Teacher holder = Create(here, IdCard(1), "N1");
  std::optional<DemoCounty> demo = OtherCountyRosterWithRowFour(IdCard(1));
  ASSERT_TRUE(demo.has_value());
  const std::string csv = TeachersCsv(*demo);
  const std::map<std::string, std::string> before = Snapshot(redis_.pool());
  v1::CheckRosterResponse checked;
  grpc::Status s = CheckThere(csv, &checked);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Snapshot(redis_.pool()), before);
  EXPECT_EQ(checked.rows(), 4);
  EXPECT_EQ(checked.problems(), 1);

  v1::ImportRosterResponse imported;
  s = ImportThere(v1::ROSTER_KIND_TEACHERS, csv, "teachers", &imported);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  std::optional<common::v1::BadRequest> bad = BadRequestOf(FromGrpcStatus(s));
  ASSERT_TRUE(bad.has_value());
  ASSERT_EQ(bad->row_violations_size(), 1) << bad->DebugString();
  const common::v1::RowViolation& refused = bad->row_violations(0);
  EXPECT_EQ(refused.rule(), "exists");
  const std::string& content = checked.download().content();
  std::vector<std::string> lines = absl::StrSplit(content, "\r\n", absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << content;
  const std::string masked = IdCard(1).substr(0, 4) + std::string(10, '*') + IdCard(1).substr(14);
  EXPECT_THAT(lines[1],
              StartsWith(absl::StrCat(refused.row(), ",", refused.column(), ",", masked, ",")));
  EXPECT_THAT(lines[1], HasSubstr(refused.description()));
  EXPECT_THAT(content, Not(HasSubstr(IdCard(1))));
  EXPECT_THAT(content, Not(HasSubstr(holder.teacher_id())));
  EXPECT_THAT(content, Not(HasSubstr(kCounty)));
  EXPECT_EQ(Snapshot(redis_.pool()), before);
}

// A crash between the claim and the county's script leaves a claim no file holds: a young one is
// respected (its write may be running), an old one is repaired by the next claim.
TEST_F(IdCardsTest, AClaimNoFileHoldsIsRepairedOnceItIsOld) {
  const Place here = MakePlace(kCounty);
  const std::string key = OwnerKey(IdCard(1));
  const std::string now_ms = std::to_string(absl::ToUnixMillis(absl::Now()));
  ASSERT_TRUE(redis_.pool().Command({"HSET", key, "t", "T-crashed", "at", now_ms}).ok());
  EXPECT_EQ(TryCreate(here, IdCard(1), "N1").error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(OwnerOf(IdCard(1)), "T-crashed");
  const std::string old_ms = std::to_string(absl::ToUnixMillis(absl::Now() - absl::Minutes(11)));
  ASSERT_TRUE(redis_.pool().Command({"HSET", key, "at", old_ms}).ok());
  v1::Teacher created;
  grpc::Status s = TryCreate(here, IdCard(1), "N1", &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(OwnerOf(IdCard(1)), created.teacher_id());
  // A claim as old whose teacher's file holds the number is kept.
  ASSERT_TRUE(redis_.pool().Command({"HSET", key, "at", old_ms}).ok());
  const Place there = MakePlace(kOtherCounty);
  EXPECT_EQ(TryCreate(there, IdCard(1), "N2").error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(OwnerOf(IdCard(1)), created.teacher_id());
}

// Numbers on file from before owner records existed are claimed once, at start.
TEST_F(IdCardsTest, NumbersOnFileBeforeClaimsExistedAreClaimedAtStart) {
  const Place here = MakePlace(kCounty);
  const Place there = MakePlace(kOtherCounty);
  const v1::Teacher a = Create(here, IdCard(1), "N1");
  const v1::Teacher b = Create(there, IdCard(2), "N2");
  // As written by an older version: no owner records, no marker.
  ASSERT_TRUE(redis_.pool()
                  .Command({"DEL", OwnerKey(IdCard(1)), OwnerKey(IdCard(2)),
                            "profile:idc-owners-backfilled"})
                  .ok());
  StartService();
  EXPECT_EQ(OwnerOf(IdCard(1)), a.teacher_id());
  EXPECT_EQ(OwnerOf(IdCard(2)), b.teacher_id());
  EXPECT_EQ(TryCreate(there, IdCard(1), "N3").error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(TryCreate(here, IdCard(2), "N4").error_code(), grpc::StatusCode::ALREADY_EXISTS);
}

}  // namespace
}  // namespace shidang::profile

// The profile service as a real process on a real redis-server, called over gRPC with signed
// principals, as the gateway will call it.

#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/events.h"
#include "services/common/keys.h"
#include "services/common/mutation.h"
#include "services/common/principal.h"
#include "services/common/status.h"
#include "services/mentorship/convert.h"
#include "services/mentorship/facts.h"
#include "services/mentorship/rules.h"
#include "services/profile/demo_county.h"
#include "services/profile/rules.h"
#include "services/profile/store.h"
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
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using testing::WriteFile;

constexpr char kCounty[] = "330723";
constexpr char kOtherCounty[] = "330781";
constexpr char kToday[] = "2025-11-25";

using testing::Snapshot;
using testing::Who;

// A valid ID-card number for a birth date and sex (GB 11643), from the county's prefix.
std::string IdCard(absl::string_view birth_yyyymmdd, bool male, int serial) {
  std::string first17 = absl::StrCat(kCounty, birth_yyyymmdd, absl::StrFormat("%02d", serial % 100),
                                     male ? "1" : "2");
  return first17 + IdCardCheckCharacter(first17);
}

testing::RedisServerOptions AlwaysFsync() {
  testing::RedisServerOptions options;
  options.appendfsync = "always";
  return options;
}

// The answers to `who` for an id that exists and one that does not, side by side: the same code,
// and the same message once the unknown id is read as the known one.
struct TwoAnswers {
  grpc::Status existing;
  grpc::Status unknown;
};

void ExpectAlike(const TwoAnswers& answers, const std::string& existing_id,
                 const std::string& unknown_id, grpc::StatusCode code) {
  EXPECT_EQ(answers.existing.error_code(), code) << answers.existing.error_message();
  EXPECT_EQ(answers.unknown.error_code(), answers.existing.error_code())
      << answers.unknown.error_message();
  EXPECT_EQ(absl::StrReplaceAll(answers.unknown.error_message(), {{unknown_id, existing_id}}),
            answers.existing.error_message());
}

class ProfileServiceTest : public ProfileFixture {
 protected:
  ProfileServiceTest() : ProfileFixture(AlwaysFsync()) {}

  void SetUp() override { StartService(); }

  void StartService(std::vector<std::string> extra = {}) {
    ASSERT_NO_FATAL_FAILURE(StartProfile(kToday, std::move(extra)));
  }

  void CreateCounty(const std::string& county = kCounty) {
    v1::CreateCountyRequest req;
    req.set_county_id(county);
    req.set_name("武义县");
    req.set_city_code(county.substr(0, 4) + "00");
    req.set_province_code(county.substr(0, 2) + "0000");
    v1::CreateCountyResponse resp;
    ASSERT_TRUE(Call(&v1::ProfileService::Stub::CreateCounty, admin_, req, &resp).ok());
  }

  std::string CreateSchool(const std::string& name, v1::SchoolLocation location,
                           const std::string& county = kCounty) {
    v1::CreateSchoolResponse resp;
    grpc::Status s =
        Call(&v1::ProfileService::Stub::CreateSchool, admin_,
             testing::PrimarySchoolRequest(name, location, /*request_id=*/"", county), &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.school().school_id();
  }

  // The county kCounty with one urban school, 甲校: the school's id.
  std::string CountyWithSchool() {
    CreateCounty();
    return CreateSchool("甲校", v1::SCHOOL_LOCATION_URBAN);
  }

  // An ethics finding of 记过 (12 months) on 2025-03-31 in the teacher's timeline.
  static v1::AddTimelineEntryRequest EthicsFinding(const std::string& teacher_id) {
    v1::AddTimelineEntryRequest finding;
    finding.set_teacher_id(teacher_id);
    finding.mutable_entry()->set_kind(v1::TIMELINE_ENTRY_KIND_ETHICS_FINDING);
    finding.mutable_entry()->set_occurred_on("2025-03-31");
    finding.mutable_entry()->set_summary("师德处分：记过");
    finding.mutable_entry()->mutable_ethics_finding()->set_severity(
        common::v1::ETHICS_SEVERITY_DEMERIT);
    return finding;
  }

  // The teacher made 一级教师 on `occurred_on`.
  static v1::AddTimelineEntryRequest FirstGradeConferred(const std::string& teacher_id,
                                                         const std::string& occurred_on) {
    v1::AddTimelineEntryRequest title;
    title.set_teacher_id(teacher_id);
    v1::TimelineEntry* e = title.mutable_entry();
    e->set_kind(v1::TIMELINE_ENTRY_KIND_TITLE_CONFERRED);
    e->set_occurred_on(occurred_on);
    e->set_summary("评为一级教师");
    e->mutable_title_conferred()->set_title(common::v1::PROFESSIONAL_TITLE_FIRST_GRADE);
    return title;
  }

  v1::CreateTeacherRequest TeacherRequest(const std::string& school_id, int serial) {
    v1::CreateTeacherRequest req;
    req.set_county_id(kCounty);
    v1::Teacher* t = req.mutable_teacher();
    t->set_name("王芳");
    t->set_sex(common::v1::SEX_FEMALE);
    t->set_birth_date("1990-03-07");
    t->set_id_card_number(IdCard("19900307", false, serial));
    t->set_hire_date("2012-09-01");
    t->set_school_id(school_id);
    t->set_school_joined_on("2015-09-01");
    t->set_stage(common::v1::STAGE_PRIMARY);
    t->add_subjects("数学");
    t->set_staffed(true);
    t->set_post_status(v1::POST_STATUS_ON_DUTY);
    t->set_national_teacher_id(absl::StrCat("N", serial));
    req.mutable_initial_title()->set_title(common::v1::PROFESSIONAL_TITLE_SECOND_GRADE);
    req.set_initial_title_conferred_on("2016-12-01");
    return req;
  }

  v1::Teacher CreateTeacher(const std::string& school_id, int serial) {
    v1::CreateTeacherResponse resp;
    grpc::Status s = Call(&v1::ProfileService::Stub::CreateTeacher, hr_,
                          TeacherRequest(school_id, serial), &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.teacher();
  }

  int64_t CountTeachers(const Principal& who) {
    int64_t total = 0;
    v1::ListTeachersRequest req;
    req.set_county_id(kCounty);
    req.mutable_page()->set_page_size(500);
    while (true) {
      v1::ListTeachersResponse resp;
      grpc::Status s = Call(&v1::ProfileService::Stub::ListTeachers, who, req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) return -1;
      total += resp.teachers_size();
      if (resp.page().next_page_token().empty()) return total;
      req.mutable_page()->set_page_token(resp.page().next_page_token());
    }
  }

  // Schools: the id carries the county, so a school outside the caller's reach is refused before
  // it is read, whether it exists or not (school_b is in the county, elsewhere in another).
  void ExpectSchoolsOutOfReachAlike(const Principal& teacher_a, const Principal& admin_a,
                                    const std::string& school_b, const std::string& elsewhere) {
    const std::string no_school = "S" + std::string(kCounty) + "-0123456789";
    const std::string no_school_elsewhere = "S" + std::string(kOtherCounty) + "-0123456789";
    auto school_id = [](auto& req, const std::string& id) { req.set_school_id(id); };
    auto ask_school = [&](const Principal& who, const std::string& existing,
                          const std::string& unknown) {
      TwoAnswers answers;
      v1::GetSchoolRequest req;
      v1::GetSchoolResponse resp;
      school_id(req, existing);
      answers.existing = Call(&v1::ProfileService::Stub::GetSchool, who, req, &resp);
      school_id(req, unknown);
      answers.unknown = Call(&v1::ProfileService::Stub::GetSchool, who, req, &resp);
      return answers;
    };
    ExpectAlike(ask_school(teacher_a, school_b, no_school), school_b, no_school,
                grpc::StatusCode::PERMISSION_DENIED);
    ExpectAlike(ask_school(admin_a, school_b, no_school), school_b, no_school,
                grpc::StatusCode::PERMISSION_DENIED);
    ExpectAlike(ask_school(hr_, elsewhere, no_school_elsewhere), elsewhere, no_school_elsewhere,
                grpc::StatusCode::PERMISSION_DENIED);
    // Listing one school's teachers: a school of another county is outside the region either way.
    auto list_school = [&](const std::string& id) {
      v1::ListTeachersRequest req;
      req.set_county_id(kCounty);
      req.set_school_id(id);
      v1::ListTeachersResponse resp;
      return Call(&v1::ProfileService::Stub::ListTeachers, hr_, req, &resp);
    };
    ExpectAlike({list_school(elsewhere), list_school(no_school_elsewhere)}, elsewhere,
                no_school_elsewhere, grpc::StatusCode::INVALID_ARGUMENT);
  }

  Principal admin_ = Who(common::v1::ROLE_ADMIN, "ops");
  Principal hr_ = Who(common::v1::ROLE_COUNTY_HR, "hr1", kCounty);
};

TEST_F(ProfileServiceTest, CreatesAndReadsATeacherWithDerivedValuesAndMaskedIdCard) {
  CreateCounty();
  std::string school = CreateSchool("武义县实验小学", v1::SCHOOL_LOCATION_URBAN);
  v1::Teacher created = CreateTeacher(school, 1);
  ASSERT_FALSE(created.teacher_id().empty());
  EXPECT_EQ(created.title(), common::v1::PROFESSIONAL_TITLE_SECOND_GRADE);
  EXPECT_EQ(created.title_conferred_on(), "2016-12-01");
  // Women in professional posts born 1990-03: 55 + min(36, (243/4)+1) = 58 → 2048-04-01.
  EXPECT_EQ(created.expected_retirement_date(), "2048-04-01");

  // HR of the region sees the number; a school admin of the school sees it masked.
  v1::GetTeacherRequest get;
  get.set_teacher_id(created.teacher_id());
  v1::GetTeacherResponse by_hr, by_admin;
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher, hr_, get, &by_hr).ok());
  EXPECT_EQ(by_hr.teacher().id_card_number(), IdCard("19900307", false, 1));
  Principal school_admin = Who(common::v1::ROLE_SCHOOL_ADMIN, "sa", "", school);
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher, school_admin, get, &by_admin).ok());
  EXPECT_TRUE(by_admin.teacher().id_card_number().empty());
  EXPECT_EQ(by_admin.teacher().id_card_masked().size(), 18u);
  EXPECT_THAT(by_admin.teacher().id_card_masked(), HasSubstr("**********"));
  // The teacher themself sees it too.
  v1::GetTeacherResponse by_self;
  Principal self = Who(common::v1::ROLE_TEACHER, created.teacher_id());
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher, self, get, &by_self).ok());
  EXPECT_EQ(by_self.teacher().id_card_number(), IdCard("19900307", false, 1));
  // The unmasked reads are logged without the number; the number is never logged.
  std::string log = process_->StderrText();
  EXPECT_THAT(log, HasSubstr("audit id_card_unmasked actor=county_hr:hr1"));
  EXPECT_EQ(log.find(IdCard("19900307", false, 1)), std::string::npos);
  // Nor stored in plain text.
  auto keys = redis_.pool().Command({"KEYS", "*"});
  ASSERT_TRUE(keys.ok());
  for (size_t i = 0; i < keys->size(); ++i) {
    std::string key((*keys)[i].str());
    EXPECT_EQ(key.find(IdCard("19900307", false, 1)), std::string::npos) << key;
  }
}

TEST_F(ProfileServiceTest, ScopeRefusals) {
  CreateCounty();
  CreateCounty(kOtherCounty);
  std::string school_a = CreateSchool("甲校", v1::SCHOOL_LOCATION_URBAN);
  std::string school_b = CreateSchool("乙校", v1::SCHOOL_LOCATION_RURAL);
  v1::Teacher a = CreateTeacher(school_a, 1);
  v1::Teacher b = CreateTeacher(school_b, 2);
  v1::GetTeacherRequest get_b;
  get_b.set_teacher_id(b.teacher_id());
  v1::GetTeacherResponse resp;
  // A teacher reading another teacher's file.
  EXPECT_EQ(Call(&v1::ProfileService::Stub::GetTeacher,
                 Who(common::v1::ROLE_TEACHER, a.teacher_id()), get_b, &resp)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A school admin reading another school's teacher.
  EXPECT_EQ(Call(&v1::ProfileService::Stub::GetTeacher,
                 Who(common::v1::ROLE_SCHOOL_ADMIN, "sa", "", school_a), get_b, &resp)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // HR of another county.
  EXPECT_EQ(Call(&v1::ProfileService::Stub::GetTeacher,
                 Who(common::v1::ROLE_COUNTY_HR, "hr2", kOtherCounty), get_b, &resp)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // City HR covering the county may.
  EXPECT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher,
                   Who(common::v1::ROLE_CITY_HR, "city", "330700"), get_b, &resp)
                  .ok());
  // HR of another county may not list or write here.
  v1::ListTeachersRequest list;
  list.set_county_id(kCounty);
  v1::ListTeachersResponse listed;
  EXPECT_EQ(Call(&v1::ProfileService::Stub::ListTeachers,
                 Who(common::v1::ROLE_COUNTY_HR, "hr2", kOtherCounty), list, &listed)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::CreateTeacherResponse created;
  EXPECT_EQ(Call(&v1::ProfileService::Stub::CreateTeacher,
                 Who(common::v1::ROLE_COUNTY_HR, "hr2", kOtherCounty), TeacherRequest(school_a, 9),
                 &created)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // A school admin lists only their school.
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::ListTeachers,
                   Who(common::v1::ROLE_SCHOOL_ADMIN, "sa", "", school_a), list, &listed)
                  .ok());
  ASSERT_EQ(listed.teachers_size(), 1);
  EXPECT_EQ(listed.teachers(0).teacher_id(), a.teacher_id());
}

TEST_F(ProfileServiceTest, CallersCannotTellAnUnknownIdFromOneTheyMayNotSee) {
  CreateCounty();
  CreateCounty(kOtherCounty);
  std::string school_a = CreateSchool("甲校", v1::SCHOOL_LOCATION_URBAN);
  std::string school_b = CreateSchool("乙校", v1::SCHOOL_LOCATION_RURAL);
  std::string elsewhere = CreateSchool("义乌小学", v1::SCHOOL_LOCATION_URBAN, kOtherCounty);
  v1::Teacher a = CreateTeacher(school_a, 1);
  v1::Teacher b = CreateTeacher(school_b, 2);
  const std::string nobody = "T0123456789abcdef";
  const Principal teacher_a = Who(common::v1::ROLE_TEACHER, a.teacher_id());
  const Principal admin_a = Who(common::v1::ROLE_SCHOOL_ADMIN, "sa", "", school_a);
  auto ask = [&](const Principal& who, auto method, auto req, auto resp, auto set_id) {
    TwoAnswers answers;
    set_id(req, b.teacher_id());
    answers.existing = Call(method, who, req, &resp);
    set_id(req, nobody);
    answers.unknown = Call(method, who, req, &resp);
    return answers;
  };
  auto teacher_id = [](auto& req, const std::string& id) { req.set_teacher_id(id); };

  // Decided from the principal alone: a teacher asking for anyone's file but their own; after the
  // lookup: a school admin, and HR of another county, neither of whom could see a teacher of that
  // id wherever they were (AIP-211).
  const Principal other_hr = Who(common::v1::ROLE_COUNTY_HR, "hr2", kOtherCounty);
  for (const Principal& who : {teacher_a, admin_a, other_hr}) {
    SCOPED_TRACE(RoleName(who.role()));
    ExpectAlike(ask(who, &v1::ProfileService::Stub::GetTeacher, v1::GetTeacherRequest(),
                    v1::GetTeacherResponse(), teacher_id),
                b.teacher_id(), nobody, grpc::StatusCode::PERMISSION_DENIED);
    ExpectAlike(ask(who, &v1::ProfileService::Stub::GetGrowthFile, v1::GetGrowthFileRequest(),
                    v1::GetGrowthFileResponse(), teacher_id),
                b.teacher_id(), nobody, grpc::StatusCode::PERMISSION_DENIED);
    ExpectAlike(ask(who, &v1::ProfileService::Stub::ListTimeline, v1::ListTimelineRequest(),
                    v1::ListTimelineResponse(), teacher_id),
                b.teacher_id(), nobody, grpc::StatusCode::PERMISSION_DENIED);
    v1::AddTimelineEntryRequest add;
    add.mutable_entry()->set_kind(v1::TIMELINE_ENTRY_KIND_HONOUR);
    add.mutable_entry()->set_occurred_on("2024-09-10");
    add.mutable_entry()->mutable_honour()->set_name("县优秀教师");
    ExpectAlike(ask(who, &v1::ProfileService::Stub::AddTimelineEntry, add,
                    v1::AddTimelineEntryResponse(), teacher_id),
                b.teacher_id(), nobody, grpc::StatusCode::PERMISSION_DENIED);
    v1::MoveTeacherRequest move;
    move.set_to_school_id(school_a);
    move.set_moved_on("2024-09-01");
    ExpectAlike(ask(who, &v1::ProfileService::Stub::MoveTeacher, move, v1::MoveTeacherResponse(),
                    teacher_id),
                b.teacher_id(), nobody, grpc::StatusCode::PERMISSION_DENIED);
    // A transfer into the county the teacher is already in said so before it asked who called.
    v1::TransferTeacherRequest transfer;
    transfer.set_to_county_id(kCounty);
    transfer.set_to_school_id(school_a);
    transfer.set_transferred_on("2024-09-01");
    ExpectAlike(ask(who, &v1::ProfileService::Stub::TransferTeacher, transfer,
                    v1::TransferTeacherResponse(), teacher_id),
                b.teacher_id(), nobody, grpc::StatusCode::PERMISSION_DENIED);
  }

  ExpectSchoolsOutOfReachAlike(teacher_a, admin_a, school_b, elsewhere);
  const std::string no_school = "S" + std::string(kCounty) + "-0123456789";

  // What a caller may see still answers: their own file, their school, HR's unknown teacher.
  v1::GetTeacherRequest own;
  own.set_teacher_id(a.teacher_id());
  v1::GetTeacherResponse got;
  EXPECT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher, teacher_a, own, &got).ok());
  v1::GetSchoolRequest own_school;
  own_school.set_school_id(school_a);
  v1::GetSchoolResponse school;
  grpc::Status s = Call(&v1::ProfileService::Stub::GetSchool, teacher_a, own_school, &school);
  EXPECT_TRUE(s.ok()) << s.error_message();
  v1::GetSchoolRequest unknown_school;
  unknown_school.set_school_id(no_school);
  EXPECT_EQ(Call(&v1::ProfileService::Stub::GetSchool, hr_, unknown_school, &school).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

// A school admin lists their county's schools (the directory they pick a rotation's receiving
// school from), never another county's, whichever region they ask for.
TEST_F(ProfileServiceTest, SchoolAdminListsTheSchoolsOfTheirCounty) {
  CreateCounty();
  CreateCounty(kOtherCounty);
  std::string school_a = CreateSchool("甲校", v1::SCHOOL_LOCATION_URBAN);
  std::string school_b = CreateSchool("乙校", v1::SCHOOL_LOCATION_RURAL);
  std::string elsewhere = CreateSchool("义乌小学", v1::SCHOOL_LOCATION_URBAN, kOtherCounty);
  const Principal admin_a = Who(common::v1::ROLE_SCHOOL_ADMIN, "sa", "", school_a);
  auto listed = [&](const std::string& region) {
    v1::ListSchoolsRequest req;
    req.set_county_id(region);
    v1::ListSchoolsResponse resp;
    grpc::Status s = Call(&v1::ProfileService::Stub::ListSchools, admin_a, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::map<std::string, std::string> names;
    for (const v1::School& school : resp.schools()) names[school.school_id()] = school.name();
    return names;
  };
  const std::map<std::string, std::string> own = {{school_a, "甲校"}, {school_b, "乙校"}};
  EXPECT_EQ(listed(kCounty), own);
  EXPECT_EQ(listed(kOtherCounty).count(elsewhere), 0u);
  EXPECT_EQ(listed("330700"), own);
}

TEST_F(ProfileServiceTest, SchoolNamesAreCountedInCharactersNotBytes) {
  CreateCounty();
  auto create = [&](const std::string& name) {
    v1::CreateSchoolRequest req =
        testing::PrimarySchoolRequest(name, v1::SCHOOL_LOCATION_RURAL, /*request_id=*/"", kCounty);
    req.set_kind(v1::SCHOOL_KIND_VILLAGE_SCHOOL);
    req.set_compulsory_education(false);
    v1::CreateSchoolResponse resp;
    return Call(&v1::ProfileService::Stub::CreateSchool, admin_, req, &resp);
  };
  // 50 characters, 175 bytes: 𠮷 (U+20BB7) takes 4 bytes in UTF-8, 校 takes 3.
  std::string at_limit;
  for (int i = 0; i < 25; ++i) at_limit += "𠮷";
  for (int i = 0; i < 25; ++i) at_limit += "校";
  grpc::Status s = create(at_limit);
  EXPECT_TRUE(s.ok()) << s.error_message();
  // 51 characters, 121 bytes: 35 Chinese characters and 16 digits.
  std::string past_limit;
  for (int i = 0; i < 35; ++i) past_limit += "村";
  past_limit += "0123456789012345";
  auto before = redis_.pool().Command({"DBSIZE"});
  s = create(past_limit);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("name"));
  EXPECT_THAT(s.error_message(), HasSubstr("1 to 50 characters"));
  auto after = redis_.pool().Command({"DBSIZE"});
  EXPECT_EQ(before->integer(), after->integer());
}

TEST_F(ProfileServiceTest, UnsignedOrForgedPrincipalIsRefused) {
  v1::GetCountyRequest req;
  req.set_county_id(kCounty);
  v1::GetCountyResponse resp;
  grpc::ClientContext bare;
  EXPECT_EQ(stub_->GetCounty(&bare, req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext forged;
  PrincipalSigner wrong(std::string(40, 'x'));
  wrong.Attach(&forged, admin_);
  EXPECT_EQ(stub_->GetCounty(&forged, req, &resp).error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(ProfileServiceTest, BadInputNamesTheFieldAndWritesNothing) {
  std::string school = CountyWithSchool();
  auto before = redis_.pool().Command({"DBSIZE"});
  v1::CreateTeacherResponse resp;

  v1::CreateTeacherRequest bad_digit = TeacherRequest(school, 1);
  std::string number = bad_digit.teacher().id_card_number();
  number.back() = number.back() == '0' ? '1' : '0';
  bad_digit.mutable_teacher()->set_id_card_number(number);
  // Refused as INVALID_ARGUMENT naming `field`: the answer.
  auto refused = [&](const v1::CreateTeacherRequest& req, const std::string& field) {
    grpc::Status s = Call(&v1::ProfileService::Stub::CreateTeacher, hr_, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr(field));
    return s;
  };
  grpc::Status s = refused(bad_digit, "teacher.id_card_number");
  EXPECT_EQ(s.error_message().find(number), std::string::npos);
  auto bad = BadRequestOf(FromGrpcStatus(s));
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->field_violations(0).field(), "teacher.id_card_number");

  v1::CreateTeacherRequest born_late = TeacherRequest(school, 2);
  born_late.mutable_teacher()->set_hire_date("1989-09-01");
  refused(born_late, "teacher.hire_date");

  v1::CreateTeacherRequest unknown_school = TeacherRequest("S330723-nope", 3);
  refused(unknown_school, "teacher.school_id");

  v1::CreateTeacherRequest bad_date = TeacherRequest(school, 4);
  bad_date.mutable_teacher()->set_birth_date("1990-02-30");
  refused(bad_date, "teacher.birth_date");

  auto after = redis_.pool().Command({"DBSIZE"});
  EXPECT_EQ(before->integer(), after->integer());

  v1::GetTeacherRequest get;
  get.set_teacher_id("Tdoesnotexist");
  v1::GetTeacherResponse got;
  s = Call(&v1::ProfileService::Stub::GetTeacher, hr_, get, &got);
  // County HR could not see a teacher of another county either: it cannot tell (AIP-211).
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("Tdoesnotexist"));
  s = Call(&v1::ProfileService::Stub::GetTeacher, admin_, get, &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(s.error_message(), HasSubstr("Tdoesnotexist"));
}

TEST_F(ProfileServiceTest, RetriesWithTheSameRequestIdChangeNothingTwice) {
  std::string school = CountyWithSchool();
  v1::CreateTeacherRequest req = TeacherRequest(school, 1);
  req.set_request_id("req-1");
  v1::CreateTeacherResponse first, second;
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::CreateTeacher, hr_, req, &first).ok());
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::CreateTeacher, hr_, req, &second).ok());
  EXPECT_EQ(first.teacher().teacher_id(), second.teacher().teacher_id());
  EXPECT_EQ(CountTeachers(hr_), 1);
  // The same id for a different request is refused.
  req.mutable_teacher()->set_name("李娜");
  grpc::Status s = Call(&v1::ProfileService::Stub::CreateTeacher, hr_, req, &second);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("request_id"));
  // A second teacher with the same ID card is ALREADY_EXISTS.
  v1::CreateTeacherRequest duplicate = TeacherRequest(school, 1);
  duplicate.mutable_teacher()->set_national_teacher_id("N-other");
  s = Call(&v1::ProfileService::Stub::CreateTeacher, hr_, duplicate, &second);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_THAT(s.error_message(), HasSubstr("id_card_number"));
  EXPECT_EQ(CountTeachers(hr_), 1);
}

TEST_F(ProfileServiceTest, ARefusedNewTeacherWritesNothing) {
  std::string school = CountyWithSchool();
  v1::CreateTeacherRequest first = TeacherRequest(school, 1);
  first.set_request_id("first");
  v1::CreateTeacherResponse created;
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::CreateTeacher, hr_, first, &created).ok());
  const std::map<std::string, std::string> before = Snapshot(redis_.pool());

  // The same ID-card number, then the same national teacher id, each under new request ids and
  // retried: refused every time, and not one key made or changed (the home index included).
  v1::CreateTeacherRequest same_card = TeacherRequest(school, 1);
  same_card.mutable_teacher()->set_national_teacher_id("N-other");
  v1::CreateTeacherRequest same_national_id = TeacherRequest(school, 2);
  same_national_id.mutable_teacher()->set_national_teacher_id(
      first.teacher().national_teacher_id());
  int kind = 0;
  for (v1::CreateTeacherRequest* req : {&same_card, &same_national_id}) {
    req->set_request_id(absl::StrCat("refused-", ++kind));
    for (int retry = 0; retry < 3; ++retry) {
      v1::CreateTeacherResponse resp;
      grpc::Status s = Call(&v1::ProfileService::Stub::CreateTeacher, hr_, *req, &resp);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << s.error_message();
    }
  }
  EXPECT_EQ(Snapshot(redis_.pool()), before);

  // HR's answer holds the unmasked number; it is stored for retries, but only sealed.
  EXPECT_EQ(created.teacher().id_card_number(), IdCard("19900307", false, 1));
  for (const auto& [key, dump] : before) {
    EXPECT_EQ(dump.find(IdCard("19900307", false, 1)), std::string::npos) << key;
  }
}

// Every unmasked read is in the audit trail exactly once (who, whose, when, which call), in the
// store (services/profile/id_card_reads.h); masked reads are not.
TEST_F(ProfileServiceTest, EveryUnmaskedIdCardReadIsAuditedOnce) {
  std::string school = CountyWithSchool();
  const absl::Time start = absl::Now();
  const v1::Teacher a = CreateTeacher(school, 1);  // HR's answer carries the number: 1 read
  const v1::Teacher b = CreateTeacher(school, 2);  // 1
  v1::GetTeacherRequest get;
  get.set_teacher_id(a.teacher_id());
  v1::GetTeacherResponse got;
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher, hr_, get, &got).ok());  // 1
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher, hr_, get, &got).ok());  // 1
  const Principal self = Who(common::v1::ROLE_TEACHER, a.teacher_id());
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher, self, get, &got).ok());  // 1
  const Principal school_admin = Who(common::v1::ROLE_SCHOOL_ADMIN, "sa", "", school);
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher, school_admin, get, &got).ok());  // 0
  EXPECT_EQ(CountTeachers(hr_), 2);                                                        // 1 each
  EXPECT_EQ(CountTeachers(school_admin), 2);  // masked: 0
  v1::GetGrowthFileRequest file;
  file.set_teacher_id(b.teacher_id());
  v1::GetGrowthFileResponse filed;
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetGrowthFile, hr_, file, &filed).ok());  // 1

  auto trail = redis_.pool().Command(
      {"XRANGE", absl::StrCat("profile:{c:", kCounty, "}:id_card_reads"), "-", "+"});
  ASSERT_TRUE(trail.ok()) << trail.status();
  std::map<std::pair<std::string, std::string>, int> by_reader_and_teacher;
  std::set<std::string> request_ids;
  for (size_t i = 0; i < trail->size(); ++i) {
    const redis::Reply entry = (*trail)[i];
    const std::string id(entry[0].str());
    EXPECT_GE(std::stoll(id.substr(0, id.find('-'))), absl::ToUnixMillis(start) - 1000);
    std::map<std::string, std::string> fields;
    for (size_t f = 0; f + 1 < entry[1].size(); f += 2) {
      fields[std::string(entry[1][f].str())] = std::string(entry[1][f + 1].str());
    }
    ++by_reader_and_teacher[{fields["r"], fields["t"]}];
    EXPECT_FALSE(fields["q"].empty());
    request_ids.insert(fields["q"] + "/" + fields["t"]);
    // who, whose, which call (its request id and method): never the number
    EXPECT_EQ(fields.size(), 4u);
    EXPECT_FALSE(fields["m"].empty());
  }
  const std::map<std::pair<std::string, std::string>, int> expected = {
      {{"county_hr:hr1", a.teacher_id()}, 4},
      {{"county_hr:hr1", b.teacher_id()}, 3},
      {{ActorOf(self), a.teacher_id()}, 1}};
  EXPECT_EQ(by_reader_and_teacher, expected);
  EXPECT_EQ(request_ids.size(), trail->size()) << "one entry per read, per call";
}

TEST_F(ProfileServiceTest, TimelineDerivesTitleVetoAndCorrections) {
  std::string school = CountyWithSchool();
  v1::Teacher t = CreateTeacher(school, 1);

  v1::AddTimelineEntryRequest add = FirstGradeConferred(t.teacher_id(), "2021-12-01");
  v1::AddTimelineEntryResponse added;
  grpc::Status s = Call(&v1::ProfileService::Stub::AddTimelineEntry, hr_, add, &added);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(added.teacher().title(), common::v1::PROFESSIONAL_TITLE_FIRST_GRADE);
  std::string title_entry = added.entry().entry_id();
  EXPECT_GT(added.entry().sequence(), 0);

  // A correction retracts it: the title falls back to the earlier one.
  v1::AddTimelineEntryRequest correct;
  correct.set_teacher_id(t.teacher_id());
  correct.mutable_entry()->set_kind(v1::TIMELINE_ENTRY_KIND_CORRECTION);
  correct.mutable_entry()->set_occurred_on("2021-12-01");
  correct.mutable_entry()->set_summary("撤销误录");
  correct.mutable_entry()->set_supersedes_entry_id(title_entry);
  correct.mutable_entry()->set_correction_reason("录入错误");
  s = Call(&v1::ProfileService::Stub::AddTimelineEntry, hr_, correct, &added);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(added.teacher().title(), common::v1::PROFESSIONAL_TITLE_SECOND_GRADE);

  // An ethics finding of 记过 (12 months) dated 2025-03-31 is active through 2026-03-31 - wait:
  // ShiftMonths(2025-03-31, 12) = 2026-03-31, so the last day is 2026-03-30.
  v1::AddTimelineEntryRequest finding = EthicsFinding(t.teacher_id());
  finding.mutable_entry()->mutable_ethics_finding()->set_description("违规有偿补课");
  s = Call(&v1::ProfileService::Stub::AddTimelineEntry, hr_, finding, &added);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(added.teacher().ethics_veto().until_date(), "2026-03-30");
  v1::GetTeacherRequest later;
  later.set_teacher_id(t.teacher_id());
  later.set_as_of("2026-03-31");
  v1::GetTeacherResponse got;
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher, hr_, later, &got).ok());
  EXPECT_FALSE(got.teacher().has_ethics_veto());

  // Nothing is deleted: the listing with superseded entries has all of them, marked.
  v1::ListTimelineRequest list;
  list.set_teacher_id(t.teacher_id());
  list.set_include_superseded(true);
  v1::ListTimelineResponse listed;
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::ListTimeline, hr_, list, &listed).ok());
  int superseded = 0;
  for (const auto& entry : listed.entries()) superseded += !entry.superseded_by_entry_id().empty();
  EXPECT_EQ(listed.entries_size(), 5);  // joined, title, title, correction, finding
  EXPECT_EQ(superseded, 1);
}

// DOMAIN §1: while a veto is active, no promotion or designation is recorded; the refusal names
// the field and the veto's last day, and writes nothing.
TEST_F(ProfileServiceTest, NoPromotionWhileAnEthicsVetoIsActive) {
  std::string school = CountyWithSchool();
  v1::Teacher t = CreateTeacher(school, 1);
  v1::AddTimelineEntryResponse added;
  // 记过 (12 months) found on 2024-03-31: the veto's last day is 2025-03-30, before today.
  v1::AddTimelineEntryRequest finding = EthicsFinding(t.teacher_id());
  finding.mutable_entry()->set_occurred_on("2024-03-31");
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::AddTimelineEntry, hr_, finding, &added).ok());

  // On the veto's last day.
  v1::AddTimelineEntryRequest title = FirstGradeConferred(t.teacher_id(), "2025-03-30");
  title.set_request_id("title-1");
  grpc::Status s = Call(&v1::ProfileService::Stub::AddTimelineEntry, hr_, title, &added);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("2025-03-30"));
  auto bad = BadRequestOf(FromGrpcStatus(s));
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->field_violations(0).field(), "entry.occurred_on");
  EXPECT_EQ(bad->field_violations(0).rule(), "ethics_veto");
  v1::ListTimelineRequest list;
  list.set_teacher_id(t.teacher_id());
  v1::ListTimelineResponse listed;
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::ListTimeline, hr_, list, &listed).ok());
  EXPECT_EQ(listed.entries_size(), 3);  // joined, title from the roster, finding

  // The day after the veto ends it is recorded.
  title.set_request_id("title-2");
  title.mutable_entry()->set_occurred_on("2025-03-31");
  s = Call(&v1::ProfileService::Stub::AddTimelineEntry, hr_, title, &added);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(added.entry().occurred_on(), "2025-03-31");
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::ListTimeline, hr_, list, &listed).ok());
  EXPECT_EQ(listed.entries_size(), 4);
}

// Titles, designations, honours, appraisals and ethics findings are facts: none is dated after
// today (the service's Asia/Shanghai day). Refused naming the field, the rule and today, writing
// nothing; today itself is accepted. The same for a new teacher's initial title and tier.
TEST_F(ProfileServiceTest, WhatHappenedIsNotDatedAfterToday) {
  std::string school = CountyWithSchool();
  v1::Teacher t = CreateTeacher(school, 1);
  std::vector<v1::AddTimelineEntryRequest> facts;
  facts.push_back(FirstGradeConferred(t.teacher_id(), kToday));
  facts.push_back(EthicsFinding(t.teacher_id()));
  v1::AddTimelineEntryRequest add;
  add.set_teacher_id(t.teacher_id());
  v1::TimelineEntry* e = add.mutable_entry();
  e->set_summary("县级骨干教师");
  e->set_kind(v1::TIMELINE_ENTRY_KIND_BACKBONE_DESIGNATED);
  e->mutable_backbone_designated()->set_tier(common::v1::BACKBONE_TIER_COUNTY);
  facts.push_back(add);
  e->set_kind(v1::TIMELINE_ENTRY_KIND_DESIGNATION);
  e->mutable_designation()->set_kind(v1::DESIGNATION_KIND_SUBJECT_LEADER);
  facts.push_back(add);
  e->set_kind(v1::TIMELINE_ENTRY_KIND_HONOUR);
  e->mutable_honour()->set_name("县优秀教师");
  facts.push_back(add);
  e->set_kind(v1::TIMELINE_ENTRY_KIND_APPRAISAL);
  e->mutable_appraisal()->set_year(2025);
  e->mutable_appraisal()->set_result(v1::APPRAISAL_RESULT_QUALIFIED);
  facts.push_back(add);
  auto count = [&] {
    v1::ListTimelineRequest list;
    list.set_teacher_id(t.teacher_id());
    v1::ListTimelineResponse listed;
    EXPECT_TRUE(Call(&v1::ProfileService::Stub::ListTimeline, hr_, list, &listed).ok());
    return listed.entries_size();
  };
  const int entries = count();
  for (v1::AddTimelineEntryRequest& fact : facts) {
    SCOPED_TRACE(v1::TimelineEntryKind_Name(fact.entry().kind()));
    fact.set_request_id(absl::StrCat("late-", fact.entry().kind()));
    fact.mutable_entry()->set_occurred_on("2025-11-26");
    v1::AddTimelineEntryResponse added;
    grpc::Status s = Call(&v1::ProfileService::Stub::AddTimelineEntry, hr_, fact, &added);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(kToday));
    auto bad = BadRequestOf(FromGrpcStatus(s));
    ASSERT_TRUE(bad.has_value());
    ASSERT_EQ(bad->field_violations_size(), 1);
    EXPECT_EQ(bad->field_violations(0).field(), "entry.occurred_on");
    EXPECT_EQ(bad->field_violations(0).rule(), "not_future");
  }
  // An appraisal of a year that has not begun.
  v1::AddTimelineEntryRequest appraisal = facts.back();
  appraisal.set_request_id("appraisal-2026");
  appraisal.mutable_entry()->set_occurred_on(kToday);
  appraisal.mutable_entry()->mutable_appraisal()->set_year(2026);
  v1::AddTimelineEntryResponse added;
  grpc::Status s = Call(&v1::ProfileService::Stub::AddTimelineEntry, hr_, appraisal, &added);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  auto bad = BadRequestOf(FromGrpcStatus(s));
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->field_violations(0).field(), "entry.appraisal.year");
  EXPECT_EQ(bad->field_violations(0).rule(), "not_future");
  EXPECT_EQ(count(), entries);

  // Today is a day that has happened.
  v1::AddTimelineEntryRequest today = FirstGradeConferred(t.teacher_id(), kToday);
  today.set_request_id("title-today");
  s = Call(&v1::ProfileService::Stub::AddTimelineEntry, hr_, today, &added);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(count(), entries + 1);
}

// A new teacher's initial title and tier become timeline entries of what happened, and the
// qualification's registrations happened: none after today, each refused field named with its
// rule, nothing written.
TEST_F(ProfileServiceTest, ANewTeachersInitialTitleIsNotDatedAfterToday) {
  std::string school = CountyWithSchool();
  auto before = redis_.pool().Command({"DBSIZE"});
  v1::CreateTeacherRequest create = TeacherRequest(school, 2);
  create.set_initial_title_conferred_on("2025-11-26");
  create.mutable_initial_backbone()->set_tier(common::v1::BACKBONE_TIER_COUNTY);
  create.set_initial_backbone_designated_on("2026-01-01");
  create.mutable_teacher()->mutable_qualification()->set_first_registered_on("2015-09-01");
  create.mutable_teacher()->mutable_qualification()->set_last_registered_on("2025-12-01");
  v1::CreateTeacherResponse created;
  grpc::Status s = Call(&v1::ProfileService::Stub::CreateTeacher, hr_, create, &created);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  auto bad = BadRequestOf(FromGrpcStatus(s));
  ASSERT_TRUE(bad.has_value());
  std::vector<std::string> violations;
  for (const auto& v : bad->field_violations()) {
    violations.push_back(absl::StrCat(v.field(), " ", v.rule()));
  }
  EXPECT_THAT(violations,
              ::testing::ElementsAre("teacher.qualification.last_registered_on not_future",
                                     "initial_title_conferred_on not_future",
                                     "initial_backbone_designated_on not_future"));
  auto after = redis_.pool().Command({"DBSIZE"});
  EXPECT_EQ(before->integer(), after->integer());
  // On today it is created.
  create.set_initial_title_conferred_on(kToday);
  create.set_initial_backbone_designated_on(kToday);
  create.mutable_teacher()->mutable_qualification()->set_last_registered_on("2020-09-01");
  s = Call(&v1::ProfileService::Stub::CreateTeacher, hr_, create, &created);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(created.teacher().title_conferred_on(), kToday);
}

TEST_F(ProfileServiceTest, UpdateUsesEtagAndRefusesDerivedFields) {
  std::string school = CountyWithSchool();
  v1::Teacher t = CreateTeacher(school, 1);
  v1::UpdateTeacherRequest update;
  update.set_teacher_id(t.teacher_id());
  update.mutable_teacher()->set_phone("13800000000");
  update.mutable_update_mask()->add_paths("phone");
  update.set_etag(t.etag());
  v1::UpdateTeacherResponse resp;
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::UpdateTeacher, hr_, update, &resp).ok());
  EXPECT_EQ(resp.teacher().phone(), "13800000000");
  EXPECT_NE(resp.teacher().etag(), t.etag());
  // The stale etag is ABORTED.
  update.mutable_teacher()->set_phone("13900000000");
  EXPECT_EQ(Call(&v1::ProfileService::Stub::UpdateTeacher, hr_, update, &resp).error_code(),
            grpc::StatusCode::ABORTED);
  // A derived field in the mask is INVALID_ARGUMENT.
  update.set_etag("");
  update.mutable_update_mask()->set_paths(0, "title");
  grpc::Status s = Call(&v1::ProfileService::Stub::UpdateTeacher, hr_, update, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("update_mask"));
  // The change left a PROFILE_UPDATED entry naming the field.
  v1::ListTimelineRequest list;
  list.set_teacher_id(t.teacher_id());
  list.add_kinds(v1::TIMELINE_ENTRY_KIND_PROFILE_UPDATED);
  v1::ListTimelineResponse listed;
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::ListTimeline, hr_, list, &listed).ok());
  ASSERT_EQ(listed.entries_size(), 1);
  EXPECT_EQ(listed.entries(0).profile_updated().changed_fields(0), "phone");
}

TEST_F(ProfileServiceTest, MoveAndTransferKeepTheFileAndItsHistory) {
  CreateCounty();
  CreateCounty(kOtherCounty);
  std::string urban = CreateSchool("城区小学", v1::SCHOOL_LOCATION_URBAN);
  std::string rural = CreateSchool("乡村小学", v1::SCHOOL_LOCATION_RURAL);
  std::string elsewhere = CreateSchool("义乌小学", v1::SCHOOL_LOCATION_URBAN, kOtherCounty);
  v1::Teacher t = CreateTeacher(urban, 1);
  v1::MoveTeacherRequest move;
  move.set_teacher_id(t.teacher_id());
  move.set_to_school_id(rural);
  move.set_moved_on("2019-09-01");
  move.set_request_id("move-1");
  v1::MoveTeacherResponse moved;
  grpc::Status s = Call(&v1::ProfileService::Stub::MoveTeacher, hr_, move, &moved);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(moved.teacher().school_id(), rural);

  v1::TransferTeacherRequest transfer;
  transfer.set_teacher_id(t.teacher_id());
  transfer.set_to_county_id(kOtherCounty);
  transfer.set_to_school_id(elsewhere);
  transfer.set_transferred_on("2023-09-01");
  transfer.set_request_id("transfer-1");
  v1::TransferTeacherResponse transferred, again;
  Principal city = Who(common::v1::ROLE_CITY_HR, "city", "330700");
  s = Call(&v1::ProfileService::Stub::TransferTeacher, city, transfer, &transferred);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(transferred.teacher().teacher_id(), t.teacher_id());
  EXPECT_EQ(transferred.teacher().county_id(), kOtherCounty);
  s = Call(&v1::ProfileService::Stub::TransferTeacher, city, transfer, &again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(again.state(), v1::TRANSFER_STATE_COMPLETED);

  v1::GetGrowthFileRequest get;
  get.set_teacher_id(t.teacher_id());
  v1::GetGrowthFileResponse file;
  s = Call(&v1::ProfileService::Stub::GetGrowthFile, city, get, &file);
  ASSERT_TRUE(s.ok()) << s.error_message();
  const v1::GrowthFile& g = file.growth_file();
  ASSERT_EQ(g.school_history_size(), 3);
  EXPECT_EQ(g.school_history(1).school_id(), rural);
  EXPECT_EQ(g.school_history(1).to_date(), "2023-08-31");
  EXPECT_TRUE(g.rural_or_weak_service().served());
  EXPECT_EQ(g.rural_or_weak_service().whole_years(), 4);
  // The old county no longer lists the teacher; the new one does; HR of the old county can no
  // longer read the file.
  EXPECT_EQ(CountTeachers(hr_), 0);
  v1::GetTeacherRequest get_teacher;
  get_teacher.set_teacher_id(t.teacher_id());
  v1::GetTeacherResponse got;
  EXPECT_EQ(Call(&v1::ProfileService::Stub::GetTeacher, hr_, get_teacher, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// Writes that carry no etag read the teacher and write only if it is unchanged; a concurrent
// change to the same teacher (here: other callers' entries; in CI: the profile service filing
// another service's event while rotation moved the teacher) must not fail them with ABORTED.
TEST_F(ProfileServiceTest, ConcurrentWritesToOneTeacherWithoutEtagAllSucceed) {
  CreateCounty();
  std::string urban = CreateSchool("城区小学", v1::SCHOOL_LOCATION_URBAN);
  std::string rural = CreateSchool("乡村小学", v1::SCHOOL_LOCATION_RURAL);
  v1::Teacher t = CreateTeacher(urban, 1);
  constexpr int kWriters = 4;
  constexpr int kEntriesEach = 15;
  std::vector<grpc::Status> entry_statuses(size_t{kWriters} * kEntriesEach);
  std::vector<std::thread> writers;
  writers.reserve(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kEntriesEach; ++i) {
        v1::AddTimelineEntryRequest add;
        add.set_teacher_id(t.teacher_id());
        add.set_request_id(absl::StrCat("honour-", w, "-", i));
        v1::TimelineEntry* e = add.mutable_entry();
        e->set_kind(v1::TIMELINE_ENTRY_KIND_HONOUR);
        e->set_occurred_on("2021-12-01");
        e->set_summary(absl::StrCat("荣誉 ", w, "-", i));
        e->mutable_honour()->set_name("县优秀教师");
        e->mutable_honour()->set_level(v1::AWARD_LEVEL_COUNTY);
        v1::AddTimelineEntryResponse added;
        entry_statuses[w * kEntriesEach + i] =
            Call(&v1::ProfileService::Stub::AddTimelineEntry, hr_, add, &added);
      }
    });
  }
  std::vector<grpc::Status> move_statuses;
  for (int i = 0; i < 6; ++i) {
    v1::MoveTeacherRequest move;
    move.set_teacher_id(t.teacher_id());
    move.set_to_school_id(i % 2 == 0 ? rural : urban);
    move.set_moved_on(absl::StrCat(2016 + i, "-09-01"));
    move.set_request_id(absl::StrCat("move-", i));
    v1::MoveTeacherResponse moved;
    move_statuses.push_back(Call(&v1::ProfileService::Stub::MoveTeacher, hr_, move, &moved));
  }
  for (std::thread& w : writers) w.join();
  for (const grpc::Status& s : entry_statuses)
    EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  for (const grpc::Status& s : move_statuses) EXPECT_TRUE(s.ok()) << s.error_message();

  v1::ListTimelineRequest list;
  list.set_teacher_id(t.teacher_id());
  list.add_kinds(v1::TIMELINE_ENTRY_KIND_HONOUR);
  list.mutable_page()->set_page_size(500);
  v1::ListTimelineResponse listed;
  grpc::Status s = Call(&v1::ProfileService::Stub::ListTimeline, hr_, list, &listed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(listed.entries_size(), kWriters * kEntriesEach);
}

class RosterTest : public ProfileServiceTest {
 protected:
  DemoCounty Demo(int teachers, int schools = 12) {
    DemoCountyOptions options;
    options.teachers = teachers;
    options.schools = schools;
    options.today = absl::CivilDay(2025, 11, 25);
    auto county = GenerateDemoCounty(options);
    EXPECT_TRUE(county.ok()) << county.status();
    return *county;
  }
  grpc::Status Import(v1::RosterKind kind, const std::string& csv, const std::string& request_id,
                      v1::ImportRosterResponse* resp) {
    v1::ImportRosterRequest req;
    req.set_county_id(kCounty);
    req.set_kind(kind);
    req.set_csv(csv);
    req.set_request_id(request_id);
    return Call(&v1::ProfileService::Stub::ImportRoster, hr_, req, resp);
  }
};

TEST_F(RosterTest, ImportsSchoolsAndTeachersAllOrNothingAndIdempotently) {
  CreateCounty();
  DemoCounty demo = Demo(300);
  v1::ImportRosterResponse schools, teachers, again;
  grpc::Status s = Import(v1::ROSTER_KIND_SCHOOLS, SchoolsCsv(demo), "schools-1", &schools);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(schools.created(), 12);
  s = Import(v1::ROSTER_KIND_TEACHERS, TeachersCsv(demo), "teachers-1", &teachers);
  ASSERT_TRUE(s.ok())
      << s.error_message() << ": "
      << BadRequestOf(FromGrpcStatus(s)).value_or(common::v1::BadRequest()).DebugString();
  EXPECT_EQ(teachers.rows(), 300);
  EXPECT_EQ(teachers.created(), 300);
  EXPECT_EQ(CountTeachers(hr_), 300);
  // The same file with the same request id answers the same and changes nothing.
  s = Import(v1::ROSTER_KIND_TEACHERS, TeachersCsv(demo), "teachers-1", &again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(again.created(), 300);
  EXPECT_EQ(CountTeachers(hr_), 300);
  // Sent again as a new request, every row is already there.
  s = Import(v1::ROSTER_KIND_TEACHERS, TeachersCsv(demo), "teachers-2", &again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(again.created(), 0);
  EXPECT_EQ(again.unchanged(), 300);
}

// The profile service's events of the county, every stream entry's in order.
std::vector<common::v1::Event> CountyEvents(redis::Pool& pool) {
  std::vector<common::v1::Event> events;
  auto entries = pool.Command({"XRANGE", ProfileStore::StreamKey(kCounty), "-", "+"});
  EXPECT_TRUE(entries.ok()) << entries.status();
  for (size_t i = 0; entries.ok() && i < entries->size(); ++i) {
    auto published = EventsOfEntry((*entries)[i][1]);
    EXPECT_TRUE(published.ok()) << published.status();
    if (published.ok()) events.insert(events.end(), published->begin(), published->end());
  }
  return events;
}

// An imported title goes out with the day it was conferred, as CreateTeacher's title event
// dates it, so that the services' copies (mentorship's) know the teacher did not hold it before.
TEST_F(RosterTest, AnImportedTitleGoesOutWithItsDayAsCreateTeachersDoes) {
  CreateCounty();
  DemoCounty demo = Demo(20);
  v1::ImportRosterResponse resp;
  ASSERT_TRUE(Import(v1::ROSTER_KIND_SCHOOLS, SchoolsCsv(demo), "s", &resp).ok());
  const absl::CivilDay conferred(2024, 3, 1);
  auto hired_before = std::find_if(demo.teachers.begin(), demo.teachers.end(),
                                   [&](const DemoTeacher& t) { return t.hire_date < conferred; });
  ASSERT_NE(hired_before, demo.teachers.end());
  DemoTeacher& titled = *hired_before;
  titled.title = common::v1::PROFESSIONAL_TITLE_FIRST_GRADE;
  titled.title_conferred_on = conferred;
  grpc::Status s = Import(v1::ROSTER_KIND_TEACHERS, TeachersCsv(demo), "t", &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();

  std::vector<common::v1::Event> events = CountyEvents(redis_.pool());
  auto created = std::find_if(events.begin(), events.end(), [&](const common::v1::Event& e) {
    v1::Teacher t;
    return e.type() == "profile.teacher_created" && e.payload().UnpackTo(&t) &&
           t.national_teacher_id() == titled.national_teacher_id;
  });
  ASSERT_NE(created, events.end());
  v1::Teacher imported;
  ASSERT_TRUE(created->payload().UnpackTo(&imported));
  EXPECT_EQ(imported.title(), common::v1::PROFESSIONAL_TITLE_FIRST_GRADE);
  EXPECT_EQ(imported.title_conferred_on(), "2024-03-01");

  // The mentorship service's copy of the teacher, from that event: no title the day before.
  mentorship::TeacherFacts facts =
      mentorship::ToTeacherFacts(mentorship::CopyOfTeacher(imported, *created), {});
  EXPECT_EQ(mentorship::TitleOn(facts, conferred - 1), common::v1::PROFESSIONAL_TITLE_UNSPECIFIED);
  EXPECT_EQ(mentorship::TitleOn(facts, conferred), common::v1::PROFESSIONAL_TITLE_FIRST_GRADE);

  // CreateTeacher dates the same title by its own event, on the same day.
  v1::CreateTeacherRequest create = TeacherRequest(imported.school_id(), 99);
  create.mutable_initial_title()->set_title(common::v1::PROFESSIONAL_TITLE_FIRST_GRADE);
  create.set_initial_title_conferred_on("2024-03-01");
  v1::CreateTeacherResponse one;
  s = Call(&v1::ProfileService::Stub::CreateTeacher, hr_, create, &one);
  ASSERT_TRUE(s.ok()) << s.error_message();
  events = CountyEvents(redis_.pool());
  auto title_event = std::find_if(events.begin(), events.end(), [&](const common::v1::Event& e) {
    return e.type() == "profile.title_changed" && e.teacher_id() == one.teacher().teacher_id();
  });
  ASSERT_NE(title_event, events.end());
  EXPECT_EQ(title_event->occurred_on(), imported.title_conferred_on());
  // What the import stores is unchanged: the title derived from its dated timeline entry.
  v1::GetTeacherRequest get;
  get.set_teacher_id(imported.teacher_id());
  v1::GetTeacherResponse got;
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetTeacher, hr_, get, &got).ok());
  EXPECT_EQ(got.teacher().title(), common::v1::PROFESSIONAL_TITLE_FIRST_GRADE);
  EXPECT_EQ(got.teacher().title_conferred_on(), "2024-03-01");
}

TEST_F(RosterTest, EveryBadRowIsReportedAndNothingIsWritten) {
  CreateCounty();
  DemoCounty demo = Demo(20);
  v1::ImportRosterResponse resp;
  ASSERT_TRUE(Import(v1::ROSTER_KIND_SCHOOLS, SchoolsCsv(demo), "s", &resp).ok());
  demo.teachers[3].id_card_number[17] = demo.teachers[3].id_card_number[17] == '1' ? '2' : '1';
  demo.teachers[7].school_code = "NO-SUCH-SCHOOL";
  demo.teachers[11].id_card_number = demo.teachers[12].id_card_number;
  demo.teachers[11].birth_date = demo.teachers[12].birth_date;
  demo.teachers[11].sex = demo.teachers[12].sex;
  auto before = redis_.pool().Command({"DBSIZE"});
  grpc::Status s = Import(v1::ROSTER_KIND_TEACHERS, TeachersCsv(demo), "t", &resp);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  auto bad = BadRequestOf(FromGrpcStatus(s));
  ASSERT_TRUE(bad.has_value());
  std::set<int64_t> rows;
  for (const auto& v : bad->row_violations()) rows.insert(v.row());
  // Data row i is CSV row i + 2 (the header is row 1).
  EXPECT_TRUE(rows.count(5)) << s.error_message();
  EXPECT_TRUE(rows.count(9)) << s.error_message();
  EXPECT_TRUE(rows.count(14)) << s.error_message();
  auto after = redis_.pool().Command({"DBSIZE"});
  EXPECT_EQ(before->integer(), after->integer());
  EXPECT_EQ(CountTeachers(hr_), 0);

  // A file that is not UTF-8 nor GB18030, and one with a missing column.
  s = Import(v1::ROSTER_KIND_TEACHERS, std::string("\xff\xfe\x00\x41", 4), "x", &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  s = Import(v1::ROSTER_KIND_TEACHERS, "姓名,性别\n王芳,女\n", "y", &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("身份证号"));
}

// CheckRoster: every problem ImportRoster finds, as a CSV (row, the column as the file named
// it, the cell with ID-card numbers masked, the problem), for schools and teachers, writing
// nothing; only in the importer's scope.
TEST_F(RosterTest, CheckRosterListsEveryProblemAsCsvAndWritesNothing) {
  CreateCounty();
  DemoCounty demo = Demo(20);
  v1::ImportRosterResponse imported;
  ASSERT_TRUE(Import(v1::ROSTER_KIND_SCHOOLS, SchoolsCsv(demo), "s", &imported).ok());
  auto check = [&](const Principal& who, v1::RosterKind kind, const std::string& csv,
                   v1::CheckRosterResponse* resp) {
    v1::CheckRosterRequest req;
    req.set_county_id(kCounty);
    req.set_kind(kind);
    req.set_csv(csv);
    return Call(&v1::ProfileService::Stub::CheckRoster, who, req, resp);
  };
  // A school file: one school already on file with other details, one named twice.
  DemoCounty schools = demo;
  schools.schools[2].location = schools.schools[2].location == v1::SCHOOL_LOCATION_RURAL
                                    ? v1::SCHOOL_LOCATION_URBAN
                                    : v1::SCHOOL_LOCATION_RURAL;
  schools.schools[5].name = schools.schools[4].name;
  v1::CheckRosterResponse resp;
  grpc::Status s = check(hr_, v1::ROSTER_KIND_SCHOOLS, SchoolsCsv(schools), &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.rows(), 12);
  EXPECT_GE(resp.problems(), 2);
  EXPECT_THAT(resp.download().content(),
              HasSubstr(absl::StrCat("4,学校名称 (name),", schools.schools[2].name, ",")));
  EXPECT_THAT(resp.download().content(), HasSubstr("7,学校名称 (name),"));
  EXPECT_EQ(resp.download().content_type(), "text/csv; charset=utf-8");

  // A teachers file: a wrong check character, an unknown school, a number given twice.
  demo.teachers[3].id_card_number[17] = demo.teachers[3].id_card_number[17] == '1' ? '2' : '1';
  demo.teachers[7].school_code = "NO-SUCH-SCHOOL";
  {
    // Row 13 takes row 14's person (its dates agree with the number) under its own ids.
    DemoTeacher own = demo.teachers[11];
    demo.teachers[11] = demo.teachers[12];
    demo.teachers[11].national_teacher_id = own.national_teacher_id;
    demo.teachers[11].name = own.name;
    demo.teachers[11].phone = own.phone;
  }
  const auto before = Snapshot(redis_.pool());
  s = check(hr_, v1::ROSTER_KIND_TEACHERS, TeachersCsv(demo), &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Snapshot(redis_.pool()), before);
  EXPECT_EQ(resp.rows(), 20);
  EXPECT_EQ(resp.problems(), 3);
  const std::string& content = resp.download().content();
  EXPECT_EQ(content.substr(0, 3), "\xEF\xBB\xBF");
  std::vector<std::string> lines = absl::StrSplit(content.substr(3), "\r\n", absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u) << content;
  EXPECT_EQ(lines[0], "行号,列,值,问题");
  EXPECT_THAT(lines[1], StartsWith("5,身份证号 (id_card_number),"));
  EXPECT_THAT(lines[2], StartsWith("9,学校 (school),NO-SUCH-SCHOOL,"));
  EXPECT_THAT(lines[3], StartsWith("14,身份证号 (id_card_number),"));
  for (int i : {3, 12}) {
    EXPECT_THAT(content, Not(HasSubstr(demo.teachers[i].id_card_number.substr(4, 10))));
  }
  EXPECT_THAT(lines[3], HasSubstr(demo.teachers[12].id_card_number.substr(0, 4) + "**********"));

  // A good file: no problems, the header alone; and the same refusals as ImportRoster's.
  ASSERT_TRUE(check(hr_, v1::ROSTER_KIND_TEACHERS, TeachersCsv(Demo(20)), &resp).ok());
  EXPECT_EQ(resp.problems(), 0);
  EXPECT_EQ(resp.download().content(), "\xEF\xBB\xBF行号,列,值,问题\r\n");
  EXPECT_EQ(check(Who(common::v1::ROLE_COUNTY_HR, "hr2", "330782"), v1::ROSTER_KIND_TEACHERS,
                  TeachersCsv(demo), &resp)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(check(hr_, v1::ROSTER_KIND_UNSPECIFIED, TeachersCsv(demo), &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(CountTeachers(hr_), 0);
}

TEST_F(RosterTest, KillingTheServiceMidImportLeavesNothingHalfDone) {
  CreateCounty();
  DemoCounty demo = Demo(10000, 40);
  v1::ImportRosterResponse resp;
  ASSERT_TRUE(Import(v1::ROSTER_KIND_SCHOOLS, SchoolsCsv(demo), "s", &resp).ok());
  std::string csv = TeachersCsv(demo);
  std::thread importer([&] {
    v1::ImportRosterResponse ignored;
    (void)Import(v1::ROSTER_KIND_TEACHERS, csv, "big", &ignored);
  });
  // Kill it while it works (somewhere in validation or the script).
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  process_->Kill(SIGKILL);
  importer.join();
  process_->Wait();
  StartService();
  int64_t count = CountTeachers(hr_);
  EXPECT_TRUE(count == 0 || count == 10000) << count;
  auto zcard = redis_.pool().Command({"ZCARD", "profile:{c:330723}:teachers"});
  EXPECT_TRUE(zcard->integer() == 0 || zcard->integer() == 10000);
  // Retrying the same request completes it, once.
  grpc::Status s = Import(v1::ROSTER_KIND_TEACHERS, csv, "big", &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(CountTeachers(hr_), 10000);
}

TEST_F(ProfileServiceTest, AcknowledgedWritesSurviveKillsOfRedisAndOfTheService) {
  std::string school = CountyWithSchool();
  std::vector<std::string> ids;
  ids.reserve(20);
  for (int i = 0; i < 20; ++i) ids.push_back(CreateTeacher(school, i + 1).teacher_id());
  // redis-server runs with appendfsync always here: every acknowledged write is on disk.
  redis_.Kill();
  redis_.Start();
  process_->Kill(SIGKILL);
  process_->Wait();
  StartService();
  for (const std::string& id : ids) {
    v1::GetTeacherRequest get;
    get.set_teacher_id(id);
    v1::GetTeacherResponse got;
    grpc::Status s = Call(&v1::ProfileService::Stub::GetTeacher, hr_, get, &got);
    EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
  }
}

TEST_F(ProfileServiceTest, OtherServicesEventsAreFiledIntoTheTimelineOnce) {
  std::string school = CountyWithSchool();
  v1::Teacher t = CreateTeacher(school, 1);
  // Published as the training service will: through the kit's write path, in its own stream.
  std::string tag = keys::HashTag("c", kCounty);
  std::string stream = keys::StreamKey("training", tag);
  ASSERT_TRUE(RegisterStream(redis_.pool(), "training", stream).ok());
  common::v1::Event e = NewEvent("training", "training.credited", absl::Now());
  e.set_teacher_id(t.teacher_id());
  e.set_county_id(kCounty);
  e.set_occurred_on("2025-10-20");
  e.set_summary("完成培训《新课标解读》24 学时");
  // The teacher's training summary after the credit rides in the same event.
  v1::ServiceSummary after;
  after.set_kind("training_cycle");
  (*after.mutable_values())["counted_hours"] = "24";
  e.mutable_teacher_summary()->PackFrom(after);
  Mutation publish("emit_all() return {ok = ''}");
  MutationRequest m;
  m.stream_key = stream;
  m.events = {e, e};  // delivered twice: filed once
  ASSERT_TRUE(publish.Run(redis_.pool(), m).ok());

  absl::Time deadline = absl::Now() + absl::Seconds(10);
  int external = 0;
  while (absl::Now() < deadline) {
    v1::ListTimelineRequest list;
    list.set_teacher_id(t.teacher_id());
    list.add_kinds(v1::TIMELINE_ENTRY_KIND_EXTERNAL);
    v1::ListTimelineResponse listed;
    ASSERT_TRUE(Call(&v1::ProfileService::Stub::ListTimeline, hr_, list, &listed).ok());
    external = listed.entries_size();
    if (external > 0) {
      EXPECT_EQ(listed.entries(0).summary(), "完成培训《新课标解读》24 学时");
      EXPECT_EQ(listed.entries(0).external().type(), "training.credited");
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  absl::SleepFor(absl::Milliseconds(500));
  v1::ListTimelineRequest list;
  list.set_teacher_id(t.teacher_id());
  list.add_kinds(v1::TIMELINE_ENTRY_KIND_EXTERNAL);
  v1::ListTimelineResponse listed;
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::ListTimeline, hr_, list, &listed).ok());
  EXPECT_EQ(listed.entries_size(), 1);

  v1::GetGrowthFileRequest get;
  get.set_teacher_id(t.teacher_id());
  v1::GetGrowthFileResponse file;
  ASSERT_TRUE(Call(&v1::ProfileService::Stub::GetGrowthFile, hr_, get, &file).ok());
  ASSERT_EQ(file.growth_file().summaries_size(), 1);
  const v1::ServiceSummary& filed = file.growth_file().summaries(0);
  EXPECT_EQ(filed.source(), "training");
  EXPECT_EQ(filed.kind(), "training_cycle");
  EXPECT_EQ(filed.values().at("counted_hours"), "24");
  EXPECT_EQ(filed.last_event_id(), e.id());
}

}  // namespace
}  // namespace shidang::profile

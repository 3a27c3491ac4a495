// The rotation service as a real process on a real redis-server, called over gRPC with signed
// principals. Teachers and schools become known to it the way they do in production: through
// the profile service's events (published here with the kit's write path, as the profile service
// does), and it waits for them before each test goes on.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "services/common/principal.h"
#include "shidang/common/v1/error.pb.h"
#include "shidang/profile/v1/profile.pb.h"
#include "shidang/rotation/v1/rotation.grpc.pb.h"
#include "tests/kit/error_details.h"
#include "tests/kit/principals.h"
#include "tests/kit/service_fixture.h"

namespace shidang::rotation {
namespace {

using common::v1::Principal;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
namespace pv1 = ::shidang::profile::v1;

constexpr char kCounty[] = "330723";
constexpr char kOtherCounty[] = "330781";
constexpr char kUrban[] = "S330723-urban";
constexpr char kRural[] = "S330723-rural";
constexpr char kWeak[] = "S330723-weak";
constexpr char kToday[] = "2025-10-15";

using testing::ViolationsOf;
using testing::Who;

class RotationServiceTest : public testing::ServiceFixture<v1::RotationService> {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(
        StartService(SHIDANG_ROTATION_BINARY, "shidang-rotation", kToday, {"--max_threads=32"}));
    AddSchool(kUrban, kCounty, pv1::SCHOOL_LOCATION_URBAN, pv1::SCHOOL_QUALITY_STRONG);
    AddSchool(kRural, kCounty, pv1::SCHOOL_LOCATION_RURAL, pv1::SCHOOL_QUALITY_ORDINARY);
    AddSchool(kWeak, kCounty, pv1::SCHOOL_LOCATION_URBAN, pv1::SCHOOL_QUALITY_WEAK);
  }

  // A second instance of the service on the same Redis, and a stub to it.
  std::unique_ptr<v1::RotationService::Stub> StartSecondInstance() {
    auto process = testing::ServiceProcess::Start(SHIDANG_ROTATION_BINARY, CommonArgs());
    EXPECT_TRUE(process.ok()) << process.status();
    if (!process.ok()) return nullptr;
    second_ = std::move(*process);
    return v1::RotationService::NewStub(
        grpc::CreateChannel(second_->address(), grpc::InsecureChannelCredentials()));
  }

  void AddSchool(const std::string& id, const std::string& county, pv1::SchoolLocation location,
                 pv1::SchoolQuality quality) {
    pv1::School s;
    s.set_school_id(id);
    s.set_county_id(county);
    s.set_name(absl::StrCat("学校", id));
    s.set_stage(common::v1::STAGE_PRIMARY);
    s.set_ownership(pv1::SCHOOL_OWNERSHIP_PUBLIC);
    s.set_location(location);
    s.set_quality(quality);
    s.set_kind(pv1::SCHOOL_KIND_REGULAR);
    s.set_compulsory_education(true);
    Publish(county, "profile.school_created", "", s);
  }

  void AddTeacher(const std::string& id, const std::string& joined,
                  const std::string& school = kUrban, bool backbone = false) {
    pv1::Teacher t;
    t.set_teacher_id(id);
    t.set_name(absl::StrCat("教师", id));
    t.set_county_id(kCounty);
    t.set_school_id(school);
    t.set_school_joined_on(joined);
    t.set_hire_date("2005-09-01");
    t.set_birth_date("1985-03-10");
    t.set_sex(common::v1::SEX_FEMALE);
    t.set_staffed(true);
    t.set_post_status(pv1::POST_STATUS_ON_DUTY);
    t.set_stage(common::v1::STAGE_PRIMARY);
    t.add_subjects("数学");
    if (backbone) {
      t.set_backbone_tier(common::v1::BACKBONE_TIER_COUNTY);
      t.set_backbone_designated_on("2020-05-01");
    }
    Publish(kCounty, "profile.teacher_created", id, t, joined);
  }

  v1::CreateRotationRequest Proposal(const std::string& teacher, const std::string& request_id,
                                     const std::string& to = kRural) {
    v1::CreateRotationRequest req;
    req.set_request_id(request_id);
    req.set_teacher_id(teacher);
    req.set_receiving_school_id(to);
    req.set_form(v1::ROTATION_FORM_SUPPORT_TEACHING);
    req.set_start_date("2025-09-01");
    req.set_planned_end_date("2026-08-31");
    return req;
  }

  // Teachers T<first> to T<last> at the urban school, there since 2015-09-01.
  void AddTeachers(int first, int last) {
    for (int i = first; i <= last; ++i) AddTeacher(absl::StrCat("T", i), "2015-09-01");
  }

  v1::Rotation Propose(const std::string& teacher, const std::string& request_id,
                       const std::string& to = kRural) {
    return ProposeVia(*stub_, teacher, request_id, to);
  }

  v1::Rotation ProposeVia(v1::RotationService::Stub& stub, const std::string& teacher,
                          const std::string& request_id, const std::string& to = kRural) {
    v1::CreateRotationResponse resp;
    grpc::Status s = CallVia(stub, &v1::RotationService::Stub::CreateRotation, hr_,
                             Proposal(teacher, request_id, to), &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.rotation();
  }

  // A request of the workflow naming rotation `id`.
  template <typename Request>
  static Request ForRotation(const std::string& id, const std::string& request_id) {
    Request req;
    req.set_request_id(request_id);
    req.set_rotation_id(id);
    return req;
  }

  grpc::Status Approve(const std::string& id, const std::string& request_id, const Principal& who,
                       v1::ApproveRotationResponse* resp) {
    return ApproveVia(*stub_, id, request_id, who, resp);
  }

  grpc::Status ApproveVia(v1::RotationService::Stub& stub, const std::string& id,
                          const std::string& request_id, const Principal& who,
                          v1::ApproveRotationResponse* resp) {
    return CallVia(stub, &v1::RotationService::Stub::ApproveRotation, who,
                   ForRotation<v1::ApproveRotationRequest>(id, request_id), resp);
  }

  grpc::Status Start(const std::string& id, const std::string& request_id, const Principal& who,
                     v1::StartRotationResponse* resp) {
    return Call(&v1::RotationService::Stub::StartRotation, who,
                ForRotation<v1::StartRotationRequest>(id, request_id), resp);
  }

  // A call of `method` with raw bytes both ways, so that answers compare byte for byte.
  struct RawAnswer {
    grpc::Status status;
    std::string bytes;
  };
  RawAnswer RawCall(const std::string& method, const google::protobuf::Message& req,
                    const Principal& who) {
    grpc::GenericStub stub(
        grpc::CreateChannel(process_->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    signer_.Attach(&ctx, who);
    grpc::Slice slice(req.SerializeAsString());
    grpc::ByteBuffer sent(&slice, 1), received;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&ctx, "/shidang.rotation.v1.RotationService/" + method, grpc::StubOptions(),
                   &sent, &received,
                   [&done](grpc::Status status) { done.set_value(std::move(status)); });
    RawAnswer answer;
    answer.status = done.get_future().get();
    grpc::Slice whole;
    if (answer.status.ok() && received.DumpToSingleSlice(&whole).ok()) {
      answer.bytes.assign(reinterpret_cast<const char*>(whole.begin()), whole.size());
    }
    return answer;
  }
  RawAnswer RawApprove(const v1::ApproveRotationRequest& req, const Principal& who) {
    return RawCall("ApproveRotation", req, who);
  }

  // Since CONFIG RESETSTAT, Redis ran one EVALSHA (it counts the commands it runs inside it too),
  // no script besides it and no read before it.
  void ExpectOneScriptAlone() {
    auto stats = redis_.pool().Command({"INFO", "commandstats"});
    ASSERT_TRUE(stats.ok());
    EXPECT_THAT(std::string(stats->str()), HasSubstr("cmdstat_evalsha:calls=1,"));
    for (const char* command : {"cmdstat_hmget:", "cmdstat_eval:"}) {
      EXPECT_THAT(std::string(stats->str()), Not(HasSubstr(command)));
    }
  }

  // Rotation `id` as HR reads it (GetRotation; a failed read fails the test).
  v1::GetRotationResponse Read(const std::string& id) {
    v1::GetRotationRequest get;
    get.set_rotation_id(id);
    v1::GetRotationResponse got;
    grpc::Status s = Call(&v1::RotationService::Stub::GetRotation, hr_, get, &got);
    EXPECT_TRUE(s.ok()) << id << ": " << s.error_message();
    return got;
  }

  // After a change of rotation `id` from `from` to `to` by request "x-1" answered with `bytes`:
  // the answer is the stored rotation, and the change log's last record names it at the
  // county's version.
  void ExpectStoredAndLogged(const std::string& id, const std::string& bytes,
                             v1::RotationState from, v1::RotationState to) {
    const v1::GetRotationResponse got = Read(id);
    EXPECT_EQ(got.SerializeAsString(), bytes);
    EXPECT_EQ(got.rotation().state(), to);
    const v1::StateChange& last = got.rotation().history(got.rotation().history_size() - 1);
    EXPECT_EQ(last.from_state(), from);
    EXPECT_EQ(last.to_state(), to);
    EXPECT_EQ(last.request_id(), "x-1");
    auto version = redis_.pool().Command({"GET", KeyOf("writes")});
    auto logged = redis_.pool().Command({"ZRANGE", KeyOf("changes"), "-1", "-1"});
    ASSERT_TRUE(version.ok() && logged.ok());
    ASSERT_EQ(logged->size(), 1u);
    EXPECT_EQ((*logged)[0].str(), absl::StrCat(version->str(), ":r:", id));
  }

  // The service's key `name` of `county` ("rotation:{c:<county>}:<name>").
  static std::string KeyOf(const std::string& name, const std::string& county = kCounty) {
    return absl::StrCat("rotation:{c:", county, "}:", name);
  }

  int64_t StreamLength(const std::string& county = kCounty) {
    auto n = redis_.pool().Command({"XLEN", KeyOf("events", county)});
    EXPECT_TRUE(n.ok());
    return n.ok() ? n->integer() : -1;
  }

  v1::GetRotationComplianceResponse Report(const std::string& as_of = "") {
    return ReportVia(*stub_, as_of);
  }

  v1::GetRotationComplianceResponse ReportVia(v1::RotationService::Stub& stub,
                                              const std::string& as_of = "") {
    v1::GetRotationComplianceRequest req;
    req.set_county_id(kCounty);
    req.set_school_year("2025-2026");
    req.set_as_of(as_of);
    v1::GetRotationComplianceResponse resp;
    grpc::Status s =
        CallVia(stub, &v1::RotationService::Stub::GetRotationCompliance, hr_, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  // The rows ListEligible gives `who` for `county` in `school_year`, through `stub`.
  v1::ListEligibleResponse EligibleVia(v1::RotationService::Stub& stub, const Principal& who,
                                       const std::string& county, const std::string& school_year) {
    v1::ListEligibleRequest req;
    req.set_county_id(county);
    req.set_school_year(school_year);
    v1::ListEligibleResponse resp;
    grpc::Status s = CallVia(stub, &v1::RotationService::Stub::ListEligible, who, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }
  // The same for county HR in kCounty.
  v1::ListEligibleResponse Eligible(const std::string& school_year) {
    return EligibleVia(*stub_, hr_, kCounty, school_year);
  }
  v1::ListEligibleResponse Eligible2026(v1::RotationService::Stub& stub,
                                        const std::string& county) {
    return EligibleVia(stub, admin_, county, "2026");
  }

  v1::RecordDeferralRequest Deferral(const std::string& teacher, const std::string& request_id,
                                     v1::DeferralReason reason, const std::string& from_date) {
    v1::RecordDeferralRequest req;
    req.set_request_id(request_id);
    req.set_teacher_id(teacher);
    req.set_reason(reason);
    req.set_from_date(from_date);
    return req;
  }

  // SuggestCandidates for county HR in kCounty's 2025 school year.
  v1::SuggestCandidatesResponse Candidates2025() {
    v1::SuggestCandidatesRequest req;
    req.set_county_id(kCounty);
    req.set_school_year("2025");
    v1::SuggestCandidatesResponse resp;
    grpc::Status s = Call(&v1::RotationService::Stub::SuggestCandidates, hr_, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  // T1's move to a school of kOtherCounty on 2026-02-01, as the profile service files it (the
  // school added first).
  pv1::TimelineEntry TransferToOtherCounty(const std::string& entry_id) {
    AddSchool("S330781-there", kOtherCounty, pv1::SCHOOL_LOCATION_URBAN,
              pv1::SCHOOL_QUALITY_ORDINARY);
    pv1::TimelineEntry entry;
    entry.set_entry_id(entry_id);
    entry.set_kind(pv1::TIMELINE_ENTRY_KIND_TRANSFERRED);
    entry.set_occurred_on("2026-02-01");
    entry.mutable_transfer()->set_from_county_id(kCounty);
    entry.mutable_transfer()->set_to_county_id(kOtherCounty);
    entry.mutable_transfer()->set_to_school_id("S330781-there");
    return entry;
  }

  // Action `m` (get, approve, reject, start or cancel) on rotation `id`, as `who`.
  grpc::Status ActOnRotation(const Principal& who, const std::string& m, const std::string& id) {
    if (m == "get") {
      v1::GetRotationRequest req;
      req.set_rotation_id(id);
      v1::GetRotationResponse resp;
      return Call(&v1::RotationService::Stub::GetRotation, who, req, &resp);
    }
    if (m == "approve") {
      v1::ApproveRotationResponse resp;
      return Approve(id, "a-" + id, who, &resp);
    }
    if (m == "reject") {
      auto req = ForRotation<v1::RejectRotationRequest>(id, "r-" + id);
      req.set_reason("不合适");
      v1::RejectRotationResponse resp;
      return Call(&v1::RotationService::Stub::RejectRotation, who, req, &resp);
    }
    if (m == "start") {
      v1::StartRotationResponse resp;
      return Start(id, "s-" + id, who, &resp);
    }
    auto req = ForRotation<v1::CancelRotationRequest>(id, "c-" + id);
    req.set_reason("撤回");
    v1::CancelRotationResponse resp;
    return Call(&v1::RotationService::Stub::CancelRotation, who, req, &resp);
  }

  std::unique_ptr<testing::ServiceProcess> second_;  // StartSecondInstance
  Principal hr_ = Who(common::v1::ROLE_COUNTY_HR, "hr", kCounty);
  Principal admin_ = Who(common::v1::ROLE_ADMIN, "root");
};

TEST_F(RotationServiceTest, EligibilityFromProfileEvents) {
  AddTeacher("T1", "2019-09-01");  // exactly 6 years on 2025-09-01
  AddTeacher("T2", "2019-09-02");  // one day short
  const v1::ListEligibleResponse resp = Eligible("2025");
  EXPECT_EQ(resp.judged_on(), "2025-09-01");
  EXPECT_EQ(resp.school_year(), "2025-2026");
  EXPECT_EQ(resp.eligible(), 1);
  ASSERT_EQ(resp.rows_size(), 2);
  EXPECT_EQ(resp.rows(0).teacher_id(), "T1");
  EXPECT_EQ(resp.rows(0).reason(), v1::ELIGIBILITY_REASON_ELIGIBLE);
  EXPECT_EQ(resp.rows(0).years_at_school(), 6);
  EXPECT_EQ(resp.rows(1).reason(), v1::ELIGIBILITY_REASON_TOO_FEW_YEARS);
  EXPECT_EQ(resp.rows(1).years_at_school(), 5);
  EXPECT_EQ(resp.rows(1).eligible_from(), "2025-09-02");
}

TEST_F(RotationServiceTest, ProposeApproveStartAndTheReportCountsIt) {
  AddTeacher("T1", "2015-09-01", kUrban, /*backbone=*/true);
  AddTeachers(2, 11);
  v1::Rotation r = Propose("T1", "p-1");
  EXPECT_EQ(r.state(), v1::ROTATION_STATE_PROPOSED);
  EXPECT_EQ(r.sending_school_id(), kUrban);
  EXPECT_EQ(r.school_year(), "2025-2026");
  // Before approval nothing counts: 11 eligible need ceil(1.1) = 2.
  v1::GetRotationComplianceResponse before = Report();
  EXPECT_EQ(before.county().eligible(), 11);
  EXPECT_EQ(before.county().required(), 2);
  EXPECT_EQ(before.county().counting(), 0);
  ASSERT_EQ(before.not_counting_size(), 1);
  EXPECT_EQ(before.not_counting(0).reason(), v1::COUNTING_REASON_NOT_APPROVED);
  v1::ApproveRotationResponse approved;
  ASSERT_TRUE(Approve(r.rotation_id(), "a-1", hr_, &approved).ok());
  EXPECT_EQ(approved.rotation().state(), v1::ROTATION_STATE_APPROVED);
  v1::StartRotationResponse started;
  grpc::Status s = Start(r.rotation_id(), "s-1", hr_, &started);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(started.rotation().state(), v1::ROTATION_STATE_STARTED);
  EXPECT_EQ(started.rotation().started_on(), "2025-09-01");
  ASSERT_EQ(started.rotation().history_size(), 3);
  EXPECT_EQ(started.rotation().history(2).actor(), "county_hr:hr");
  v1::GetRotationComplianceResponse after = Report();
  EXPECT_EQ(after.county().counting(), 1);
  EXPECT_EQ(after.county().backbone_counting(), 1);
  EXPECT_EQ(after.county().backbone_required(), 1);  // ceil(20% x max(1, 2))
  EXPECT_EQ(after.county().shortfall(), 1);
  EXPECT_FALSE(after.county().passes());
  EXPECT_EQ(after.not_counting_size(), 0);
  // As of a day before the approval it did not count yet.
  EXPECT_EQ(Report("2025-10-14").county().counting(), 0);
  // Events: proposed, approved, started.
  EXPECT_EQ(StreamLength(), 3);
}

TEST_F(RotationServiceTest, IllegalTransitionsNameBothStates) {
  AddTeacher("T1", "2015-09-01");
  v1::Rotation r = Propose("T1", "p-1");
  v1::CompleteRotationResponse completed;
  grpc::Status s =
      Call(&v1::RotationService::Stub::CompleteRotation, hr_,
           ForRotation<v1::CompleteRotationRequest>(r.rotation_id(), "c-1"), &completed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("ROTATION_STATE_PROPOSED"));
  EXPECT_THAT(s.error_message(), HasSubstr("ROTATION_STATE_COMPLETED"));
  auto cancel = ForRotation<v1::CancelRotationRequest>(r.rotation_id(), "x-1");
  cancel.set_reason("学校调整计划");
  v1::CancelRotationResponse cancelled;
  ASSERT_TRUE(Call(&v1::RotationService::Stub::CancelRotation, hr_, cancel, &cancelled).ok());
  v1::ApproveRotationResponse approved;
  s = Approve(r.rotation_id(), "a-1", hr_, &approved);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("ROTATION_STATE_CANCELLED"));
  EXPECT_THAT(s.error_message(), HasSubstr("ROTATION_STATE_APPROVED"));
  EXPECT_EQ(StreamLength(), 2);  // proposed, cancelled; the refusals wrote nothing
  // Cancelled, the teacher is free for a new proposal.
  EXPECT_EQ(Propose("T1", "p-2").state(), v1::ROTATION_STATE_PROPOSED);
}

TEST_F(RotationServiceTest, RetriedApprovalAnswersTheFirstAnswer) {
  AddTeacher("T1", "2015-09-01");
  v1::Rotation r = Propose("T1", "p-1");
  v1::ApproveRotationResponse first, retry;
  ASSERT_TRUE(Approve(r.rotation_id(), "a-1", hr_, &first).ok());
  // The retry comes after the state changed: it is answered before any state check.
  grpc::Status s = Approve(r.rotation_id(), "a-1", hr_, &retry);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(first, retry));
  EXPECT_EQ(StreamLength(), 2);
  // A new request to approve again is refused.
  v1::ApproveRotationResponse again;
  s = Approve(r.rotation_id(), "a-2", hr_, &again);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

// An approval is one script (approve_rotation.lua), its replay included: a retry gets the first
// answer's very bytes, after the rotation moved on too, and changes nothing; a request id reused
// for another request is refused, also for a rotation of another county; and an approval by
// county HR costs Redis one command.
TEST_F(RotationServiceTest, RetriedApprovalAnswersTheSameBytesFromOneScript) {
  AddTeachers(1, 3);
  const std::string id = Propose("T1", "p-1").rotation_id();
  const std::string other = Propose("T2", "p-2").rotation_id();
  v1::ApproveRotationResponse warm;  // the service loads the script into Redis
  ASSERT_TRUE(Approve(Propose("T3", "p-3").rotation_id(), "a-3", hr_, &warm).ok());
  const auto req = ForRotation<v1::ApproveRotationRequest>(id, "a-1");
  const int64_t events_before = StreamLength();
  ASSERT_TRUE(redis_.pool().Command({"CONFIG", "RESETSTAT"}).ok());
  const RawAnswer first = RawApprove(req, hr_);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  ExpectOneScriptAlone();
  v1::ApproveRotationResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(first.bytes));
  EXPECT_EQ(parsed.rotation().state(), v1::ROTATION_STATE_APPROVED);
  EXPECT_TRUE(parsed.rotation().hr_approved());
  ASSERT_EQ(parsed.rotation().history_size(), 2);
  EXPECT_EQ(parsed.rotation().history(1).request_id(), "a-1");
  EXPECT_EQ(StreamLength(), events_before + 1);

  const RawAnswer retry = RawApprove(req, hr_);
  ASSERT_TRUE(retry.status.ok()) << retry.status.error_message();
  EXPECT_EQ(retry.bytes, first.bytes);
  // Started since: the retry is still answered before any check of the state, the same bytes.
  v1::StartRotationResponse started;
  ASSERT_TRUE(Start(id, "s-1", hr_, &started).ok());
  const int64_t events_after = StreamLength();
  const RawAnswer late = RawApprove(req, hr_);
  ASSERT_TRUE(late.status.ok()) << late.status.error_message();
  EXPECT_EQ(late.bytes, first.bytes);
  EXPECT_EQ(StreamLength(), events_after);

  // The same request id for another rotation: refused, nothing written.
  v1::ApproveRotationRequest reused = req;
  reused.set_rotation_id(other);
  const RawAnswer refused = RawApprove(reused, hr_);
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.status.error_message(), HasSubstr("request_id"));
  reused.set_rotation_id("RT330781-00000000000000aa");  // another county's
  EXPECT_EQ(RawApprove(reused, hr_).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(StreamLength(), events_after);
  const v1::GetRotationResponse got = Read(other);
  EXPECT_EQ(got.rotation().state(), v1::ROTATION_STATE_PROPOSED);

  // City HR (approvals in several counties) goes through the kit's answer store: the same.
  const Principal city_hr = Who(common::v1::ROLE_CITY_HR, "c", "330700");
  const auto by_city = ForRotation<v1::ApproveRotationRequest>(other, "c-1");
  const RawAnswer city_first = RawApprove(by_city, city_hr);
  ASSERT_TRUE(city_first.status.ok()) << city_first.status.error_message();
  EXPECT_EQ(RawApprove(by_city, city_hr).bytes, city_first.bytes);
}

// A rejection, a cancellation and a completion take the approval's shape (change_rotation.lua):
// one EVALSHA each, the replay before any state check with the first answer's very bytes (the
// stored rotation's), a reused request id refused, an illegal change named by both states and
// writing nothing, one event each, and the change-log record the county's copies patch from.
TEST_F(RotationServiceTest, RejectCancelAndCompleteAreOneScriptEach) {
  AddTeachers(1, 4);
  // The service loads the script into Redis.
  ASSERT_TRUE(ActOnRotation(hr_, "cancel", Propose("T4", "p-4").rotation_id()).ok());
  const std::string rejected = Propose("T1", "p-1").rotation_id();
  const std::string cancelled = Propose("T2", "p-2").rotation_id();
  const std::string completed = Propose("T3", "p-3").rotation_id();
  for (const std::string& id : {cancelled, completed}) {
    ASSERT_TRUE(ActOnRotation(hr_, "approve", id).ok());
    ASSERT_TRUE(ActOnRotation(hr_, "start", id).ok());
  }
  auto reject = ForRotation<v1::RejectRotationRequest>(rejected, "x-1");
  reject.set_reason("不合适");
  auto cancel = ForRotation<v1::CancelRotationRequest>(cancelled, "x-1");
  cancel.set_reason("学校调整计划");
  auto complete = ForRotation<v1::CompleteRotationRequest>(completed, "x-1");
  complete.set_completed_on(kToday);
  struct Case {
    const char* method;
    google::protobuf::Message* request;
    const std::string& id;
    v1::RotationState from, to;
  };
  for (const Case& c : {Case{"RejectRotation", &reject, rejected, v1::ROTATION_STATE_PROPOSED,
                             v1::ROTATION_STATE_REJECTED},
                        Case{"CancelRotation", &cancel, cancelled, v1::ROTATION_STATE_STARTED,
                             v1::ROTATION_STATE_CANCELLED},
                        Case{"CompleteRotation", &complete, completed, v1::ROTATION_STATE_STARTED,
                             v1::ROTATION_STATE_COMPLETED}}) {
    SCOPED_TRACE(c.method);
    const int64_t events_before = StreamLength();
    ASSERT_TRUE(redis_.pool().Command({"CONFIG", "RESETSTAT"}).ok());
    const RawAnswer first = RawCall(c.method, *c.request, hr_);
    ASSERT_TRUE(first.status.ok()) << first.status.error_message();
    ExpectOneScriptAlone();
    EXPECT_EQ(StreamLength(), events_before + 1);
    ExpectStoredAndLogged(c.id, first.bytes, c.from, c.to);

    // The retry, now that the state check would refuse it: the same bytes, nothing written.
    const RawAnswer retry = RawCall(c.method, *c.request, hr_);
    ASSERT_TRUE(retry.status.ok()) << retry.status.error_message();
    EXPECT_EQ(retry.bytes, first.bytes);
    // A new request for the same change: refused, naming both states.
    const google::protobuf::FieldDescriptor* request_id =
        c.request->GetDescriptor()->FindFieldByName("request_id");
    c.request->GetReflection()->SetString(c.request, request_id, "x-2");
    const RawAnswer again = RawCall(c.method, *c.request, hr_);
    EXPECT_EQ(again.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_THAT(again.status.error_message(), HasSubstr(v1::RotationState_Name(c.to)));
    // The first request id for another rotation, of this county or another: refused.
    c.request->GetReflection()->SetString(c.request, request_id, "x-1");
    const google::protobuf::FieldDescriptor* rotation_id =
        c.request->GetDescriptor()->FindFieldByName("rotation_id");
    for (const char* other : {"RT330723-00000000000000aa", "RT330781-00000000000000aa"}) {
      c.request->GetReflection()->SetString(c.request, rotation_id, other);
      const RawAnswer reused = RawCall(c.method, *c.request, hr_);
      EXPECT_EQ(reused.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << other;
      EXPECT_THAT(reused.status.error_message(), HasSubstr("request_id")) << other;
    }
    EXPECT_EQ(StreamLength(), events_before + 1);
  }
  // A state the change may not leave is named with the target's.
  const grpc::Status illegal = ActOnRotation(hr_, "reject", completed);
  EXPECT_EQ(illegal.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(illegal.error_message(), HasSubstr("ROTATION_STATE_COMPLETED"));
  EXPECT_THAT(illegal.error_message(), HasSubstr("ROTATION_STATE_REJECTED"));
  // The service's copy of the county was patched with each change.
  v1::ListRotationsRequest list;
  list.set_county_id(kCounty);
  v1::ListRotationsResponse listed;
  ASSERT_TRUE(Call(&v1::RotationService::Stub::ListRotations, hr_, list, &listed).ok());
  std::map<std::string, v1::RotationState> states;
  for (const v1::Rotation& r : listed.rotations()) states[r.rotation_id()] = r.state();
  EXPECT_EQ(states[rejected], v1::ROTATION_STATE_REJECTED);
  EXPECT_EQ(states[cancelled], v1::ROTATION_STATE_CANCELLED);
  EXPECT_EQ(states[completed], v1::ROTATION_STATE_COMPLETED);
}

// The schools' part in a rejection and a cancellation, and a completion before the start.
TEST_F(RotationServiceTest, SchoolsRejectAndWithdrawOnlyWhatIsTheirs) {
  AddTeacher("T1", "2015-09-01");
  AddTeacher("T2", "2015-09-01");
  const Principal sending = Who(common::v1::ROLE_SCHOOL_ADMIN, "u", "", kUrban);
  const Principal receiving = Who(common::v1::ROLE_SCHOOL_ADMIN, "r", "", kRural);
  v1::CreateRotationRequest moving = Proposal("T1", "p-1");
  moving.set_relation_moves(true);
  v1::CreateRotationResponse created;
  ASSERT_TRUE(Call(&v1::RotationService::Stub::CreateRotation, hr_, moving, &created).ok());
  const std::string moves = created.rotation().rotation_id();
  // Where the relation moves, the receiving school may reject; the sending one may not.
  EXPECT_EQ(ActOnRotation(sending, "reject", moves).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(ActOnRotation(receiving, "reject", moves).ok());
  // The sending school withdraws its proposal; its retry is answered after the state moved on.
  const std::string stays = Propose("T2", "p-2").rotation_id();
  EXPECT_EQ(ActOnRotation(receiving, "cancel", stays).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auto cancel = ForRotation<v1::CancelRotationRequest>(stays, "w-1");
  cancel.set_reason("撤回");
  const RawAnswer withdrawn = RawCall("CancelRotation", cancel, sending);
  ASSERT_TRUE(withdrawn.status.ok()) << withdrawn.status.error_message();
  EXPECT_EQ(RawCall("CancelRotation", cancel, sending).bytes, withdrawn.bytes);
  // An approved rotation is HR's to cancel.
  const std::string approved = Propose("T2", "p-3").rotation_id();
  ASSERT_TRUE(ActOnRotation(hr_, "approve", approved).ok());
  EXPECT_EQ(ActOnRotation(sending, "cancel", approved).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Completed before it started: the day is refused, nothing written.
  ASSERT_TRUE(ActOnRotation(hr_, "start", approved).ok());
  const int64_t events = StreamLength();
  auto complete = ForRotation<v1::CompleteRotationRequest>(approved, "k-1");
  complete.set_completed_on("2025-08-31");
  v1::CompleteRotationResponse completed;
  const grpc::Status early =
      Call(&v1::RotationService::Stub::CompleteRotation, hr_, complete, &completed);
  EXPECT_EQ(early.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(early.error_message(), HasSubstr("completed_on"));
  EXPECT_THAT(early.error_message(), HasSubstr("2025-09-01"));
  EXPECT_EQ(StreamLength(), events);
}

TEST_F(RotationServiceTest, TwoRacingProposalsForOneTeacherMakeOneRotation) {
  AddTeacher("T1", "2015-09-01");
  constexpr int kRacers = 8;
  std::atomic<int> ok{0}, refused{0};
  std::vector<std::thread> threads;
  threads.reserve(kRacers);
  for (int i = 0; i < kRacers; ++i) {
    threads.emplace_back([&, i] {
      v1::CreateRotationResponse resp;
      grpc::Status s = Call(&v1::RotationService::Stub::CreateRotation, hr_,
                            Proposal("T1", absl::StrCat("race-", i)), &resp);
      if (s.ok()) ++ok;
      if (s.error_code() == grpc::StatusCode::FAILED_PRECONDITION) ++refused;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(refused.load(), kRacers - 1);
  auto count = redis_.pool().Command({"HLEN", KeyOf("rot")});
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->integer(), 1);
}

// A second proposal while the first is active names the rule it broke, not only the field.
TEST_F(RotationServiceTest, ASecondActiveRotationNamesTheRule) {
  AddTeacher("T1", "2015-09-01");
  const std::string first = Propose("T1", "p-1").rotation_id();
  const int64_t events = StreamLength();
  v1::CreateRotationResponse resp;
  const grpc::Status s =
      Call(&v1::RotationService::Stub::CreateRotation, hr_, Proposal("T1", "p-2"), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr(first));
  EXPECT_THAT(ViolationsOf(s), ::testing::ElementsAre("teacher_id one_active_rotation"));
  EXPECT_EQ(StreamLength(), events);
}

// A start and a completion are facts: neither is dated after today (the service's clock), given
// or, for a start, taken from the planned start date. Refused naming the field, the rule and
// today, writing nothing; today itself is accepted.
TEST_F(RotationServiceTest, AStartOrCompletionAfterTodayIsRefused) {
  AddTeacher("T1", "2015-09-01");
  AddTeacher("T2", "2015-09-01");
  const std::string id = Propose("T1", "p-1").rotation_id();
  ASSERT_TRUE(ActOnRotation(hr_, "approve", id).ok());
  auto start = ForRotation<v1::StartRotationRequest>(id, "s-1");
  start.set_started_on("2025-10-16");
  v1::StartRotationResponse started;
  int64_t events = StreamLength();
  grpc::Status s = Call(&v1::RotationService::Stub::StartRotation, hr_, start, &started);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr(kToday));
  EXPECT_THAT(ViolationsOf(s), ::testing::ElementsAre("started_on not_future"));
  EXPECT_EQ(StreamLength(), events);
  start.set_request_id("s-2");
  start.set_started_on(kToday);
  ASSERT_TRUE(Call(&v1::RotationService::Stub::StartRotation, hr_, start, &started).ok());

  auto complete = ForRotation<v1::CompleteRotationRequest>(id, "c-1");
  complete.set_completed_on("2026-08-31");
  v1::CompleteRotationResponse completed;
  events = StreamLength();
  s = Call(&v1::RotationService::Stub::CompleteRotation, hr_, complete, &completed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("completed_on"));
  EXPECT_THAT(s.error_message(), HasSubstr(kToday));
  EXPECT_THAT(ViolationsOf(s), ::testing::ElementsAre("completed_on not_future"));
  EXPECT_EQ(StreamLength(), events);
  const v1::GetRotationResponse got = Read(id);
  EXPECT_EQ(got.rotation().state(), v1::ROTATION_STATE_STARTED);
  EXPECT_EQ(got.rotation().completed_on(), "");
  complete.set_request_id("c-2");
  complete.set_completed_on(kToday);
  ASSERT_TRUE(Call(&v1::RotationService::Stub::CompleteRotation, hr_, complete, &completed).ok());
  EXPECT_EQ(completed.rotation().completed_on(), kToday);

  // Planned to start next month: started with no day given, the planned day lies ahead.
  v1::CreateRotationRequest later = Proposal("T2", "p-2");
  later.set_start_date("2025-11-01");
  v1::CreateRotationResponse created;
  ASSERT_TRUE(Call(&v1::RotationService::Stub::CreateRotation, hr_, later, &created).ok());
  const std::string planned = created.rotation().rotation_id();
  ASSERT_TRUE(ActOnRotation(hr_, "approve", planned).ok());
  s = ActOnRotation(hr_, "start", planned);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("planned start date"));
  EXPECT_THAT(ViolationsOf(s), ::testing::ElementsAre("started_on not_future"));
}

TEST_F(RotationServiceTest, BadProposalsSayWhichFieldAndWriteNothing) {
  AddTeacher("T1", "2015-09-01");
  struct Case {
    std::function<void(v1::CreateRotationRequest*)> change;
    const char* field;
  };
  const std::vector<Case> cases = {
      {[](auto* r) { r->set_receiving_school_id(kUrban); }, "receiving_school_id"},
      {[](auto* r) { r->set_receiving_school_id("S330781-else"); }, "receiving_school_id"},
      {[](auto* r) { r->set_sending_school_id(kWeak); }, "sending_school_id"},
      {[](auto* r) { r->set_planned_end_date("2025-08-31"); }, "planned_end_date"},
      {[](auto* r) { r->set_start_date("2025-02-30"); }, "start_date"},
      {[](auto* r) { r->set_form(v1::ROTATION_FORM_UNSPECIFIED); }, "form"},
  };
  for (const Case& c : cases) {
    v1::CreateRotationRequest req = Proposal("T1", "bad");
    c.change(&req);
    v1::CreateRotationResponse resp;
    grpc::Status s = Call(&v1::RotationService::Stub::CreateRotation, hr_, req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_THAT(s.error_message(), HasSubstr(c.field));
  }
  EXPECT_EQ(StreamLength(), 0);
}

TEST_F(RotationServiceTest, RelationMovingRotationNeedsTheReceivingSchool) {
  AddTeacher("T1", "2015-09-01");
  v1::CreateRotationRequest req = Proposal("T1", "p-1");
  req.set_form(v1::ROTATION_FORM_REGULAR_TRANSFER);
  req.set_relation_moves(true);
  v1::CreateRotationResponse created;
  ASSERT_TRUE(Call(&v1::RotationService::Stub::CreateRotation, hr_, req, &created).ok());
  const std::string id = created.rotation().rotation_id();
  v1::ApproveRotationResponse resp;
  ASSERT_TRUE(Approve(id, "a-hr", hr_, &resp).ok());
  EXPECT_EQ(resp.rotation().state(), v1::ROTATION_STATE_PROPOSED);
  EXPECT_TRUE(resp.rotation().hr_approved());
  // The sending school may not confirm for the receiving one.
  Principal sending = Who(common::v1::ROLE_SCHOOL_ADMIN, "u", "", kUrban);
  EXPECT_EQ(Approve(id, "a-s", sending, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  Principal receiving = Who(common::v1::ROLE_SCHOOL_ADMIN, "r", "", kRural);
  ASSERT_TRUE(Approve(id, "a-rc", receiving, &resp).ok());
  EXPECT_EQ(resp.rotation().state(), v1::ROTATION_STATE_APPROVED);
  // Without the profile service configured, it cannot start (nobody would move the teacher).
  v1::StartRotationResponse started;
  EXPECT_EQ(Start(id, "s-1", hr_, &started).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(RotationServiceTest, DeferralCoveringTheFirstDayExcludesForTheYear) {
  AddTeacher("T1", "2015-09-01");
  v1::RecordDeferralRequest record =
      Deferral("T1", "d-1", v1::DEFERRAL_REASON_NURSING, "2025-03-01");
  v1::RecordDeferralResponse recorded;
  grpc::Status s = Call(&v1::RotationService::Stub::RecordDeferral, hr_, record, &recorded);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::ListEligibleResponse eligible = Eligible("2025");
  ASSERT_EQ(eligible.rows_size(), 1);
  EXPECT_EQ(eligible.rows(0).reason(), v1::ELIGIBILITY_REASON_DEFERRED);
  EXPECT_EQ(eligible.rows(0).deferral_id(), recorded.deferral().deferral_id());
  // Ended the day before the first day: eligible again.
  v1::EndDeferralRequest end;
  end.set_request_id("e-1");
  end.set_deferral_id(recorded.deferral().deferral_id());
  end.set_to_date("2025-08-31");
  v1::EndDeferralResponse ended;
  ASSERT_TRUE(Call(&v1::RotationService::Stub::EndDeferral, hr_, end, &ended).ok());
  // The retry is answered again (the deferral now ends that day).
  v1::EndDeferralResponse retry;
  ASSERT_TRUE(Call(&v1::RotationService::Stub::EndDeferral, hr_, end, &retry).ok());
  EXPECT_EQ(retry.deferral().to_date(), "2025-08-31");
  eligible = Eligible("2025");
  ASSERT_EQ(eligible.rows_size(), 1);
  EXPECT_EQ(eligible.rows(0).reason(), v1::ELIGIBILITY_REASON_ELIGIBLE);
  // OTHER needs a description.
  record.set_request_id("d-2");
  record.set_reason(v1::DEFERRAL_REASON_OTHER);
  EXPECT_EQ(Call(&v1::RotationService::Stub::RecordDeferral, hr_, record, &recorded).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// DESIGN: every state change records the actor and the request id.
TEST_F(RotationServiceTest, ADeferralKeepsTheRequestsThatRecordedAndEndedIt) {
  AddTeacher("T1", "2015-09-01");
  v1::RecordDeferralResponse recorded;
  ASSERT_TRUE(Call(&v1::RotationService::Stub::RecordDeferral, hr_,
                   Deferral("T1", "d-1", v1::DEFERRAL_REASON_NURSING, "2025-03-01"), &recorded)
                  .ok());
  EXPECT_EQ(recorded.deferral().recorded_by(), "county_hr:hr");
  EXPECT_EQ(recorded.deferral().recorded_request_id(), "d-1");
  v1::EndDeferralRequest end;
  end.set_request_id("e-1");
  end.set_deferral_id(recorded.deferral().deferral_id());
  end.set_to_date("2025-10-01");
  v1::EndDeferralResponse ended;
  grpc::Status s = Call(&v1::RotationService::Stub::EndDeferral, hr_, end, &ended);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ended.deferral().ended_by(), "county_hr:hr");
  EXPECT_EQ(ended.deferral().ended_request_id(), "e-1");
  EXPECT_EQ(ended.deferral().recorded_request_id(), "d-1");
}

TEST_F(RotationServiceTest, Scope) {
  AddTeacher("T1", "2015-09-01");
  Principal other_admin = Who(common::v1::ROLE_SCHOOL_ADMIN, "w", "", kWeak);
  v1::CreateRotationResponse created;
  EXPECT_EQ(
      Call(&v1::RotationService::Stub::CreateRotation, other_admin, Proposal("T1", "x"), &created)
          .error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  Principal own_admin = Who(common::v1::ROLE_SCHOOL_ADMIN, "u", "", kUrban);
  ASSERT_TRUE(
      Call(&v1::RotationService::Stub::CreateRotation, own_admin, Proposal("T1", "y"), &created)
          .ok());
  // A school admin may not approve; HR of another county may not either.
  v1::ApproveRotationResponse approved;
  EXPECT_EQ(Approve(created.rotation().rotation_id(), "a", own_admin, &approved).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  Principal other_hr = Who(common::v1::ROLE_COUNTY_HR, "o", kOtherCounty);
  EXPECT_EQ(Approve(created.rotation().rotation_id(), "b", other_hr, &approved).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // City HR above the county may.
  Principal city_hr = Who(common::v1::ROLE_CITY_HR, "c", "330700");
  EXPECT_TRUE(Approve(created.rotation().rotation_id(), "c", city_hr, &approved).ok());
  // The teacher reads their own rotations, not another's.
  v1::ListTeacherRotationsRequest mine;
  mine.set_teacher_id("T1");
  v1::ListTeacherRotationsResponse listed;
  EXPECT_TRUE(Call(&v1::RotationService::Stub::ListTeacherRotations,
                   Who(common::v1::ROLE_TEACHER, "T1"), mine, &listed)
                  .ok());
  EXPECT_EQ(listed.rotations_size(), 1);
  EXPECT_EQ(Call(&v1::RotationService::Stub::ListTeacherRotations,
                 Who(common::v1::ROLE_TEACHER, "T9"), mine, &listed)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Training centres see nothing here.
  v1::GetRotationRequest get;
  get.set_rotation_id(created.rotation().rotation_id());
  v1::GetRotationResponse got;
  EXPECT_EQ(Call(&v1::RotationService::Stub::GetRotation,
                 Who(common::v1::ROLE_TRAINING_CENTER, "tc"), get, &got)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// A teacher may not read another school from the profile service, so the lists name the
// schools their rotations name, from the rotation service's own copy of the county's schools.
TEST_F(RotationServiceTest, RotationListsNameTheirSchools) {
  AddTeacher("T1", "2015-09-01");
  AddTeacher("T2", "2015-09-01", kWeak);
  Propose("T1", "p-1");
  Propose("T2", "p-2", kUrban);
  v1::ListTeacherRotationsRequest mine;
  mine.set_teacher_id("T1");
  v1::ListTeacherRotationsResponse listed;
  ASSERT_TRUE(Call(&v1::RotationService::Stub::ListTeacherRotations,
                   Who(common::v1::ROLE_TEACHER, "T1"), mine, &listed)
                  .ok());
  ASSERT_EQ(listed.rotations_size(), 1);
  EXPECT_EQ(listed.school_names_size(), 2);
  EXPECT_EQ(listed.school_names().at(kUrban), absl::StrCat("学校", kUrban));
  EXPECT_EQ(listed.school_names().at(kRural), absl::StrCat("学校", kRural));
  // A school admin's list of their school's rotations: only the schools on the page.
  v1::ListRotationsRequest school;
  school.set_county_id(kCounty);
  school.set_school_id(kWeak);
  v1::ListRotationsResponse theirs;
  ASSERT_TRUE(Call(&v1::RotationService::Stub::ListRotations,
                   Who(common::v1::ROLE_SCHOOL_ADMIN, "w", "", kWeak), school, &theirs)
                  .ok());
  ASSERT_EQ(theirs.rotations_size(), 1);
  EXPECT_EQ(theirs.school_names_size(), 2);
  EXPECT_EQ(theirs.school_names().at(kWeak), absl::StrCat("学校", kWeak));
  EXPECT_EQ(theirs.school_names().at(kUrban), absl::StrCat("学校", kUrban));
}

// Both refused alike: PERMISSION_DENIED, and the same message once the missing id is read as the
// existing one.
void ExpectSameRefusal(const grpc::Status& existing, const grpc::Status& missing,
                       const std::string& existing_id, const std::string& missing_id) {
  EXPECT_EQ(existing.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(missing.error_code(), existing.error_code());
  std::string text = existing.error_message();
  const size_t at = text.find(existing_id);
  if (at != std::string::npos) text.replace(at, existing_id.size(), missing_id);
  EXPECT_EQ(missing.error_message(), text);
}

// AIP-211: a caller who may not see a teacher or a rotation gets the same answer, word for word,
// whether it exists or not; those who could see it still get NOT_FOUND for an unknown id.
TEST_F(RotationServiceTest, CallersOutOfScopeCannotTellWhatExists) {
  AddTeacher("T1", "2015-09-01");
  const v1::Rotation rotation = Propose("T1", "p1");
  // An id of the same county and shape that names no rotation.
  std::string missing_rotation = rotation.rotation_id();
  missing_rotation.back() = missing_rotation.back() == '0' ? '1' : '0';
  const Principal other_hr = Who(common::v1::ROLE_COUNTY_HR, "o", kOtherCounty);
  for (const char* method : {"get", "approve", "reject", "start", "cancel"}) {
    SCOPED_TRACE(method);
    auto ask = [&](const std::string& id) { return ActOnRotation(other_hr, method, id); };
    ExpectSameRefusal(ask(rotation.rotation_id()), ask(missing_rotation), rotation.rotation_id(),
                      missing_rotation);
  }
  // Teachers: deferrals, a teacher's rotations, a proposal, each asked of T1 and of nobody.
  v1::RecordDeferralRequest deferral =
      Deferral("", "d1", v1::DEFERRAL_REASON_PREGNANCY, "2025-09-01");
  deferral.set_to_date("2026-08-31");
  v1::RecordDeferralResponse deferred;
  v1::ListTeacherRotationsRequest list;
  v1::ListTeacherRotationsResponse listed;
  v1::CreateRotationResponse created;
  const std::vector<std::pair<const char*, std::function<grpc::Status(const std::string&)>>>
      askers = {
          {"deferral",
           [&](const std::string& teacher) {
             deferral.set_teacher_id(teacher);
             return Call(&v1::RotationService::Stub::RecordDeferral, other_hr, deferral, &deferred);
           }},
          {"rotations",
           [&](const std::string& teacher) {
             list.set_teacher_id(teacher);
             return Call(&v1::RotationService::Stub::ListTeacherRotations, other_hr, list, &listed);
           }},
          {"proposal",
           [&](const std::string& teacher) {
             return Call(&v1::RotationService::Stub::CreateRotation, other_hr,
                         Proposal(teacher, "x-" + teacher), &created);
           }},
      };
  for (const auto& [what, ask] : askers) {
    SCOPED_TRACE(what);
    ExpectSameRefusal(ask("T1"), ask("T-nobody"), "T1", "T-nobody");
  }
  // HR of the county itself (who could see one) is told the id names nothing.
  EXPECT_EQ(ActOnRotation(hr_, "get", missing_rotation).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(RotationServiceTest, ReportAsCsvHasABomAndChineseHeaders) {
  AddTeacher("T1", "2015-09-01");
  v1::GetRotationComplianceRequest req;
  req.set_county_id(kCounty);
  req.set_school_year("2025");
  req.set_format(v1::REPORT_FORMAT_CSV);
  v1::GetRotationComplianceResponse resp;
  ASSERT_TRUE(Call(&v1::RotationService::Stub::GetRotationCompliance, hr_, req, &resp).ok());
  const std::string& csv = resp.download().content();
  EXPECT_TRUE(absl::StartsWith(csv, "\xEF\xBB\xBF"));
  EXPECT_THAT(csv, HasSubstr("符合交流条件人数"));
  EXPECT_THAT(csv, HasSubstr("全县"));
  EXPECT_THAT(resp.download().content_type(), HasSubstr("text/csv"));
}

TEST_F(RotationServiceTest, CountyWithNobodyEligiblePasses) {
  AddTeacher("T1", "2022-09-01");
  v1::GetRotationComplianceResponse r = Report();
  EXPECT_EQ(r.county().eligible(), 0);
  EXPECT_EQ(r.county().required(), 0);
  EXPECT_TRUE(r.county().passes());
}

// DOMAIN §6 computes the quota per sending school too: a school with nobody eligible has its
// line, passing with nothing required, for HR and for the school's own admin.
TEST_F(RotationServiceTest, SchoolWithNobodyEligibleHasAPassingLine) {
  AddTeachers(1, 10);
  AddTeacher("T-new", "2024-09-01", kWeak);
  const v1::SchoolCompliance* weak = nullptr;
  v1::GetRotationComplianceResponse report = Report();
  for (const v1::SchoolCompliance& s : report.schools()) {
    if (s.school_id() == kWeak) weak = &s;
  }
  ASSERT_NE(weak, nullptr) << report.DebugString();
  EXPECT_EQ(weak->figures().eligible(), 0);
  EXPECT_EQ(weak->figures().required(), 0);
  EXPECT_EQ(weak->figures().backbone_required(), 0);
  EXPECT_TRUE(weak->figures().passes());
  EXPECT_EQ(report.county().required(), 1);  // ceil(10% x 10)
  EXPECT_FALSE(report.county().passes());

  v1::GetRotationComplianceRequest req;
  req.set_county_id(kCounty);
  req.set_school_year("2025");
  v1::GetRotationComplianceResponse own;
  grpc::Status s = Call(&v1::RotationService::Stub::GetRotationCompliance,
                        Who(common::v1::ROLE_SCHOOL_ADMIN, "head", "", kWeak), req, &own);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(own.schools_size(), 1);
  EXPECT_EQ(own.schools(0).school_id(), kWeak);
  EXPECT_TRUE(own.schools(0).figures().passes());
  EXPECT_FALSE(own.has_county());
}

// Eligibility is judged on the school year's first day (DOMAIN §6), the post status as well: a
// sick leave from the day after leaves the teacher eligible for the year; one from the day
// before does not.
TEST_F(RotationServiceTest, PostStatusIsJudgedOnTheFirstDay) {
  AddTeacher("T-after", "2015-09-01");
  AddTeacher("T-before", "2015-09-01");
  for (const auto& [teacher, day] :
       {std::pair<std::string, std::string>{"T-after", "2025-09-02"}, {"T-before", "2025-08-31"}}) {
    pv1::TimelineEntry leave;
    leave.set_entry_id(absl::StrCat("E-", teacher));
    leave.set_kind(pv1::TIMELINE_ENTRY_KIND_POST_STATUS_CHANGED);
    leave.set_occurred_on(day);
    leave.mutable_post_status_changed()->set_from_status(pv1::POST_STATUS_ON_DUTY);
    leave.mutable_post_status_changed()->set_to_status(pv1::POST_STATUS_SICK_LEAVE);
    Publish(kCounty, "profile.post_status_changed", teacher, leave, day);
  }
  const v1::ListEligibleResponse resp = Eligible("2025");
  ASSERT_EQ(resp.rows_size(), 2);
  for (const v1::EligibilityRow& row : resp.rows()) {
    EXPECT_EQ(row.reason(), row.teacher_id() == "T-after" ? v1::ELIGIBILITY_REASON_ELIGIBLE
                                                          : v1::ELIGIBILITY_REASON_NOT_IN_SERVICE)
        << row.teacher_id();
  }
  EXPECT_EQ(resp.eligible(), 1);
  // The next school year finds both on leave.
  EXPECT_EQ(Eligible("2026").eligible(), 0);
}

// A teacher who has retired or left by the start day cannot be proposed (FAILED_PRECONDITION
// naming teacher_id and its rule); one who retires only after it, or is on leave, can.
TEST_F(RotationServiceTest, ATeacherRetiredOrLeftByTheStartIsNotProposed) {
  const std::vector<std::tuple<std::string, std::string, pv1::PostStatus>> changes = {
      {"T-retired", "2025-08-31", pv1::POST_STATUS_RETIRED},
      {"T-left", "2025-09-01", pv1::POST_STATUS_LEFT},
      {"T-retires-later", "2025-09-02", pv1::POST_STATUS_RETIRED},
      {"T-on-leave", "2025-08-01", pv1::POST_STATUS_SICK_LEAVE}};
  for (const auto& [teacher, day, status] : changes) {
    AddTeacher(teacher, "2015-09-01");
    pv1::TimelineEntry change;
    change.set_entry_id(absl::StrCat("E-", teacher));
    change.set_kind(pv1::TIMELINE_ENTRY_KIND_POST_STATUS_CHANGED);
    change.set_occurred_on(day);
    change.mutable_post_status_changed()->set_from_status(pv1::POST_STATUS_ON_DUTY);
    change.mutable_post_status_changed()->set_to_status(status);
    Publish(kCounty, "profile.post_status_changed", teacher, change, day);
  }
  for (const char* teacher : {"T-retired", "T-left"}) {
    v1::CreateRotationResponse resp;
    grpc::Status s = Call(&v1::RotationService::Stub::CreateRotation, hr_,
                          Proposal(teacher, absl::StrCat("p-", teacher)), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << teacher;
    EXPECT_THAT(s.error_message(), HasSubstr("teacher_id")) << teacher;
    EXPECT_THAT(ViolationsOf(s), ElementsAre("teacher_id teacher_not_serving")) << teacher;
  }
  EXPECT_EQ(StreamLength(), 0);
  for (const char* teacher : {"T-retires-later", "T-on-leave"}) {
    v1::CreateRotationResponse resp;
    grpc::Status s = Call(&v1::RotationService::Stub::CreateRotation, hr_,
                          Proposal(teacher, absl::StrCat("p-", teacher)), &resp);
    EXPECT_TRUE(s.ok()) << teacher << ": " << s.error_message();
  }
}

TEST_F(RotationServiceTest, TransferToAnotherCountyMidRotationKeepsTheOldYear) {
  AddTeacher("T1", "2015-09-01");
  v1::Rotation r = Propose("T1", "p-1");
  v1::ApproveRotationResponse approved;
  ASSERT_TRUE(Approve(r.rotation_id(), "a-1", hr_, &approved).ok());
  Publish(kCounty, "profile.transferred_county", "T1", TransferToOtherCounty(""), "2026-02-01");
  // This school year's report still counts the rotation the teacher was eligible for.
  v1::GetRotationComplianceResponse report = Report();
  EXPECT_EQ(report.county().eligible(), 1);
  EXPECT_EQ(report.county().counting(), 1);
  // The new county knows the teacher; next year they are not judged in the old one.
  EXPECT_EQ(Eligible("2026").rows_size(), 0);
  const v1::ListEligibleResponse listed = Eligible2026(*stub_, kOtherCounty);
  ASSERT_EQ(listed.rows_size(), 1);
  EXPECT_EQ(listed.rows(0).reason(), v1::ELIGIBILITY_REASON_TOO_FEW_YEARS);
}

TEST_F(RotationServiceTest, CorrectedTransferPutsTheTeacherBackInTheirCounty) {
  AddTeacher("T1", "2015-09-01");
  const pv1::TimelineEntry transfer = TransferToOtherCounty("E-transfer");
  Publish(kCounty, "profile.transferred_county", "T1", transfer, "2026-02-01");
  Publish(kOtherCounty, "profile.transferred_county", "T1", transfer, "2026-02-01");
  ASSERT_EQ(Eligible2026(*stub_, kCounty).rows_size(), 0);
  ASSERT_EQ(Eligible2026(*stub_, kOtherCounty).rows_size(), 1);

  // The profile service takes the transfer back (in the county the teacher seemed to be in).
  pv1::TimelineEntry correction;
  correction.set_entry_id("E-correction");
  correction.set_kind(pv1::TIMELINE_ENTRY_KIND_CORRECTION);
  correction.set_occurred_on("2026-02-03");
  correction.set_supersedes_entry_id("E-transfer");
  correction.set_correction_reason("录入错误");
  Publish(kOtherCounty, "profile.correction", "T1", correction, "2026-02-03");

  // Back at the old school, 11 years there on 2026-09-01; the other county forgets them.
  v1::ListEligibleResponse home = Eligible2026(*stub_, kCounty);
  ASSERT_EQ(home.rows_size(), 1);
  EXPECT_EQ(home.rows(0).teacher_id(), "T1");
  EXPECT_EQ(home.rows(0).school_id(), kUrban);
  EXPECT_EQ(home.rows(0).reason(), v1::ELIGIBILITY_REASON_ELIGIBLE);
  EXPECT_EQ(home.rows(0).years_at_school(), 11);
  EXPECT_EQ(Eligible2026(*stub_, kOtherCounty).rows_size(), 0);
  // The routing index follows: the old county's HR may act on the teacher again.
  v1::RecordDeferralResponse deferred;
  grpc::Status s =
      Call(&v1::RotationService::Stub::RecordDeferral, hr_,
           Deferral("T1", "d-1", v1::DEFERRAL_REASON_NURSING, "2026-03-01"), &deferred);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(deferred.deferral().county_id(), kCounty);
  // The transfer re-delivered later stays taken back.
  Publish(kCounty, "profile.transferred_county", "T1", transfer, "2026-02-01");
  EXPECT_EQ(Eligible2026(*stub_, kCounty).rows_size(), 1);
  EXPECT_EQ(Eligible2026(*stub_, kOtherCounty).rows_size(), 0);
}

// Each instance keeps its own cache of the county (county_cache.h); a write through either, or
// from the profile service's events, is in the next answer of both.
TEST_F(RotationServiceTest, TwoInstancesNeverAnswerFromAStaleCache) {
  AddTeachers(1, 10);
  std::unique_ptr<v1::RotationService::Stub> other = StartSecondInstance();
  ASSERT_NE(other, nullptr);
  v1::RotationService::Stub& one = *stub_;
  // Both read (and cache) the county first.
  EXPECT_EQ(ReportVia(one).county().eligible(), 10);
  EXPECT_EQ(ReportVia(*other).county().eligible(), 10);
  EXPECT_EQ(ReportVia(*other).not_counting_size(), 0);

  // A proposal through the other instance is in this one's next report, and back.
  const std::string id = ProposeVia(*other, "T1", "p-1").rotation_id();
  ASSERT_FALSE(id.empty());
  v1::GetRotationComplianceResponse seen = ReportVia(one);
  ASSERT_EQ(seen.not_counting_size(), 1);
  EXPECT_EQ(seen.not_counting(0).reason(), v1::COUNTING_REASON_NOT_APPROVED);
  v1::ApproveRotationResponse approved;
  grpc::Status s = ApproveVia(one, id, "a-1", hr_, &approved);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ReportVia(*other).county().counting(), 1);
  v1::ListRotationsRequest list;
  list.set_county_id(kCounty);
  list.set_state(v1::ROTATION_STATE_APPROVED);
  v1::ListRotationsResponse listed;
  ASSERT_TRUE(CallVia(*other, &v1::RotationService::Stub::ListRotations, hr_, list, &listed).ok());
  EXPECT_EQ(listed.rotations_size(), 1);

  // A deferral through one instance takes the teacher out of the other's count.
  v1::RecordDeferralResponse deferred;
  s = CallVia(one, &v1::RotationService::Stub::RecordDeferral, hr_,
              Deferral("T2", "d-1", v1::DEFERRAL_REASON_PREGNANCY, "2025-08-01"), &deferred);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ReportVia(*other).county().eligible(), 9);

  // A teacher learned from the profile service's events (by either instance) is in both.
  AddTeacher("T11", "2015-09-01");
  EXPECT_EQ(ReportVia(one).county().eligible(), 10);
  EXPECT_EQ(ReportVia(*other).county().eligible(), 10);
}

// The instances patch their copies from the county's change log (services/common/county_delta.h).
// A log trimmed past a copy's version, or a write that moved the counter with no record, makes
// the copy read whole again: never patched over a change it did not see.
TEST_F(RotationServiceTest, ACopyBehindATrimmedLogIsReadWhole) {
  AddTeachers(1, 10);
  std::unique_ptr<v1::RotationService::Stub> other = StartSecondInstance();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(ReportVia(*other).county().eligible(), 10);

  const std::string id = Propose("T1", "p-1").rotation_id();
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(ReportVia(*other).not_counting_size(), 1);  // patched

  auto trimmed = redis_.pool().Command({"ZREMRANGEBYRANK", KeyOf("changes"), "0", "-1"});
  ASSERT_TRUE(trimmed.ok());
  ASSERT_GE(trimmed->integer(), 1);
  v1::ApproveRotationResponse approved;
  grpc::Status s = Approve(id, "a-1", hr_, &approved);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(ReportVia(*other).county().counting(), 1);

  // A teacher dropped by a write that recorded nothing, then a recorded write.
  ASSERT_TRUE(redis_.pool().Command({"HDEL", KeyOf("teachers"), "T10"}).ok());
  ASSERT_TRUE(redis_.pool().Command({"INCR", KeyOf("writes")}).ok());
  AddTeacher("T11", "2015-09-01");
  EXPECT_EQ(ReportVia(*other).county().eligible(), 10);  // T10 gone, T11 in
}

TEST_F(RotationServiceTest, CandidatesCloseTheShortfallBackboneFirst) {
  AddTeacher("T1", "2010-09-01");
  AddTeacher("T2", "2012-09-01", kUrban, /*backbone=*/true);
  AddTeacher("T3", "2019-09-01");
  const v1::SuggestCandidatesResponse resp = Candidates2025();
  // 3 eligible -> 1 required, 1 backbone: the backbone teacher alone closes both.
  ASSERT_EQ(resp.candidates_size(), 1);
  EXPECT_EQ(resp.candidates(0).teacher_id(), "T2");
  EXPECT_TRUE(resp.candidates(0).backbone());
  ASSERT_GE(resp.candidates(0).receiving_schools_size(), 1);
  for (const v1::ReceivingSchoolOption& o : resp.candidates(0).receiving_schools()) {
    EXPECT_NE(o.school_id(), kUrban);
    EXPECT_FALSE(o.direction().empty());
  }
}

// "Then longest at the school" (issue 15): by the day the years count from, not by whole years
// alone, which tie two teachers who joined seven months apart.
TEST_F(RotationServiceTest, CandidatesLongestAtTheSchoolFirst) {
  AddTeacher("T1", "2015-09-01");  // 10 whole years on 2025-09-01
  AddTeacher("T2", "2015-02-01");  // 10 whole years too, seven months more
  const v1::SuggestCandidatesResponse resp = Candidates2025();
  // Nobody is backbone, so the backbone shortfall stays open and both are listed.
  ASSERT_EQ(resp.candidates_size(), 2);
  EXPECT_EQ(resp.candidates(0).teacher_id(), "T2");
  EXPECT_EQ(resp.candidates(1).teacher_id(), "T1");
  EXPECT_EQ(resp.candidates(0).years_at_school(), resp.candidates(1).years_at_school());
}

// DESIGN: a read that depends on the date takes an optional as_of. Candidates leave out who is
// rotating already; as of a day before T1's rotation was proposed and approved, T1 was not.
TEST_F(RotationServiceTest, CandidatesAsOfADayBeforeARotationWasProposed) {
  AddTeacher("T1", "2010-09-01", kUrban, /*backbone=*/true);
  AddTeachers(2, 11);
  v1::Rotation r = Propose("T1", "p-1");
  v1::ApproveRotationResponse approved;
  ASSERT_TRUE(Approve(r.rotation_id(), "a-1", hr_, &approved).ok());
  auto candidates = [this](const std::string& as_of) {
    v1::SuggestCandidatesRequest req;
    req.set_county_id(kCounty);
    req.set_school_year("2025");
    req.set_as_of(as_of);
    v1::SuggestCandidatesResponse resp;
    grpc::Status s = Call(&v1::RotationService::Stub::SuggestCandidates, hr_, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> ids;
    for (const v1::Candidate& c : resp.candidates()) ids.push_back(c.teacher_id());
    return std::make_pair(resp.as_of(), ids);
  };
  const auto today = candidates("");
  EXPECT_EQ(today.first, kToday);
  EXPECT_THAT(today.second, Not(::testing::Contains("T1")));
  const auto before = candidates("2025-10-14");
  EXPECT_EQ(before.first, "2025-10-14");
  ASSERT_FALSE(before.second.empty());
  EXPECT_EQ(before.second.front(), "T1");  // backbone first while the backbone share is short
  v1::SuggestCandidatesRequest bad;
  bad.set_county_id(kCounty);
  bad.set_as_of("2025-02-30");
  v1::SuggestCandidatesResponse resp;
  grpc::Status s = Call(&v1::RotationService::Stub::SuggestCandidates, hr_, bad, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("as_of"));
}

// Without a school year, the report is of the school year holding its as-of day, not today's.
TEST_F(RotationServiceTest, ReportAsOfALastYearsDayIsOfThatSchoolYear) {
  AddTeachers(1, 3);
  v1::GetRotationComplianceRequest req;
  req.set_county_id(kCounty);
  req.set_as_of("2025-06-30");
  v1::GetRotationComplianceResponse resp;
  grpc::Status s = Call(&v1::RotationService::Stub::GetRotationCompliance, hr_, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.school_year(), "2024-2025");
  EXPECT_EQ(resp.judged_on(), "2024-09-01");
  EXPECT_EQ(resp.as_of(), "2025-06-30");
  req.clear_as_of();
  s = Call(&v1::RotationService::Stub::GetRotationCompliance, hr_, req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.school_year(), "2025-2026");
}

// A page token no listing gave is refused; one past the end of size_t once wrapped around to a
// next page token near the start, so a client paging on never stopped.
TEST_F(RotationServiceTest, APageTokenNoListingGaveIsRefused) {
  AddTeachers(1, 3);
  for (const char* token : {"18446744073709551615", "9223372036854775808", "-1", "x"}) {
    v1::ListEligibleRequest eligible;
    eligible.set_county_id(kCounty);
    eligible.set_school_year("2025");
    eligible.mutable_page()->set_page_token(token);
    v1::ListEligibleResponse rows;
    grpc::Status s = Call(&v1::RotationService::Stub::ListEligible, hr_, eligible, &rows);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << token;
    EXPECT_THAT(s.error_message(), HasSubstr("page.page_token")) << token;
    v1::ListRotationsRequest list;
    list.set_county_id(kCounty);
    list.mutable_page()->set_page_token(token);
    v1::ListRotationsResponse rotations;
    s = Call(&v1::RotationService::Stub::ListRotations, hr_, list, &rotations);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << token;
  }
}

TEST_F(RotationServiceTest, CountyPolicyChangesTheQuotaAndSaysWhereValuesCameFrom) {
  AddTeachers(1, 11);
  EXPECT_EQ(Report().county().required(), 2);  // ceil(10% x 11)
  v1::SetRotationPolicyRequest set;
  set.set_request_id("pol-1");
  set.set_level(common::v1::POLICY_LEVEL_COUNTY);
  set.set_region(kCounty);
  set.set_effective_from("2025-01-01");
  set.mutable_rotation()->set_ratio_percent(30);
  v1::SetRotationPolicyResponse version;
  grpc::Status s = Call(&v1::RotationService::Stub::SetRotationPolicy, hr_, set, &version);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(Report().county().required(), 4);  // ceil(30% x 11)
  v1::GetRotationPolicyRequest get;
  get.set_county_id(kCounty);
  v1::GetRotationPolicyResponse got;
  ASSERT_TRUE(Call(&v1::RotationService::Stub::GetRotationPolicy, hr_, get, &got).ok());
  EXPECT_EQ(got.resolved().policy().rotation().ratio_percent(), 30);
  EXPECT_EQ(got.resolved().policy().rotation().min_years_at_school(), 6);
  bool county_source = false;
  for (const common::v1::PolicySource& source : got.resolved().sources()) {
    EXPECT_TRUE(absl::StartsWith(source.field(), "rotation.")) << source.field();
    if (source.field() == "rotation.ratio_percent") {
      county_source = source.level() == common::v1::POLICY_LEVEL_COUNTY;
    }
  }
  EXPECT_TRUE(county_source);
  // Out of range: the field is named, nothing stored.
  set.set_request_id("pol-2");
  set.set_effective_from("2025-02-01");
  set.mutable_rotation()->set_ratio_percent(130);
  s = Call(&v1::RotationService::Stub::SetRotationPolicy, hr_, set, &version);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("ratio_percent"));
  // County HR of another county may not set this one's.
  set.mutable_rotation()->set_ratio_percent(20);
  s = Call(&v1::RotationService::Stub::SetRotationPolicy,
           Who(common::v1::ROLE_COUNTY_HR, "o", kOtherCounty), set, &version);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace shidang::rotation

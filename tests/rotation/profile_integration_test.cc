// The rotation service beside the real profile service on one redis-server: teachers and schools
// reach it through the profile service's events, a rotation that moves the personnel relation
// moves the teacher in the profile service when it starts, and the profile service files the
// rotation's events into the teacher's timeline.

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "shidang/profile/v1/profile.grpc.pb.h"
#include "shidang/rotation/v1/rotation.grpc.pb.h"
#include "tests/kit/beside_profile.h"

namespace shidang::rotation {
namespace {

using common::v1::Principal;
namespace pv1 = ::shidang::profile::v1;

constexpr const char* kCounty = testing::kWuyiCounty;

using testing::Eventually;
using testing::Who;

class RotationWithProfileTest : public testing::BesideProfileTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(StartBesideProfile(SHIDANG_ROTATION_BINARY, "shidang-rotation",
                                               /*with_profile_address=*/true));
    rotation_stub_ = v1::RotationService::NewStub(ServiceChannel());
  }

  // 王老师, hired 2008, at `school` since 2015-09-01.
  std::string CreateTeacher(const std::string& school) {
    return BesideProfileTest::CreateTeacher("王老师", "2008-09-01", "2015-09-01", school, 1);
  }

  int EligibleCount() {
    v1::ListEligibleRequest req;
    req.set_county_id(kCounty);
    req.set_school_year("2025");
    req.set_eligible_only(true);
    v1::ListEligibleResponse resp;
    grpc::Status s =
        Call(rotation_stub_.get(), &v1::RotationService::Stub::ListEligible, hr_, req, &resp);
    return s.ok() ? static_cast<int>(resp.eligible()) : -1;
  }

  // The teacher's eligibility row for school year 2025 (judged on 2025-09-01).
  v1::EligibilityRow RowOf(const std::string& teacher) {
    v1::ListEligibleRequest req;
    req.set_county_id(kCounty);
    req.set_school_year("2025");
    req.mutable_page()->set_page_size(500);
    v1::ListEligibleResponse resp;
    grpc::Status s =
        Call(rotation_stub_.get(), &v1::RotationService::Stub::ListEligible, hr_, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    for (const v1::EligibilityRow& row : resp.rows()) {
      if (row.teacher_id() == teacher) return row;
    }
    return v1::EligibilityRow();
  }

  // Waits until the rotation service judges the teacher for `reason`; the last row read.
  v1::EligibilityRow AwaitReason(const std::string& teacher, v1::EligibilityReason reason) {
    v1::EligibilityRow row;
    Eventually([&] {
      row = RowOf(teacher);
      return row.reason() == reason;
    });
    return row;
  }

  // UpdateTeacher with `paths` of `changes` (request id `rid`).
  void Update(const std::string& teacher, const pv1::Teacher& changes,
              const std::vector<std::string>& paths, const std::string& rid) {
    pv1::UpdateTeacherRequest req;
    req.set_teacher_id(teacher);
    *req.mutable_teacher() = changes;
    for (const std::string& path : paths) req.mutable_update_mask()->add_paths(path);
    req.set_request_id(rid);
    pv1::UpdateTeacherResponse resp;
    grpc::Status s =
        Call(profile_stub_.get(), &pv1::ProfileService::Stub::UpdateTeacher, hr_, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // A CORRECTION retracting `entry_id`.
  pv1::TimelineEntry Retraction(const std::string& entry_id) {
    pv1::TimelineEntry e;
    e.set_kind(pv1::TIMELINE_ENTRY_KIND_CORRECTION);
    e.set_occurred_on("2025-10-10");
    e.set_supersedes_entry_id(entry_id);
    e.set_correction_reason("录入错误");
    return e;
  }

  // The profile service moved the teacher to `rural`, once, and the rotation's four events
  // (proposed, confirmed, approved, started) reached the timeline.
  void ExpectMovedOnceWithTheRotationOnTheTimeline(const std::string& teacher,
                                                   const std::string& rural) {
    pv1::GetTeacherRequest get;
    get.set_teacher_id(teacher);
    pv1::GetTeacherResponse got;
    ASSERT_TRUE(
        Call(profile_stub_.get(), &pv1::ProfileService::Stub::GetTeacher, hr_, get, &got).ok());
    EXPECT_EQ(got.teacher().school_id(), rural);
    EXPECT_EQ(got.teacher().school_joined_on(), "2025-09-01");
    pv1::ListTimelineRequest timeline;
    timeline.set_teacher_id(teacher);
    pv1::ListTimelineResponse entries;
    int moves = 0, rotation_entries = 0;
    ASSERT_TRUE(Eventually([&] {
      entries.Clear();
      if (!Call(profile_stub_.get(), &pv1::ProfileService::Stub::ListTimeline, hr_, timeline,
                &entries)
               .ok()) {
        return false;
      }
      moves = rotation_entries = 0;
      for (const pv1::TimelineEntry& e : entries.entries()) {
        if (e.kind() == pv1::TIMELINE_ENTRY_KIND_SCHOOL_MOVED) ++moves;
        if (e.kind() == pv1::TIMELINE_ENTRY_KIND_EXTERNAL && e.external().source() == "rotation") {
          ++rotation_entries;
        }
      }
      return rotation_entries >= 4;  // proposed, confirmed, approved, started
    })) << entries.DebugString();
    EXPECT_EQ(moves, 1);
  }

  // Judged where they were as the year began, the started rotation counts for the urban school.
  void ExpectTheRotationCountsForTheUrbanSchool() {
    v1::GetRotationComplianceRequest report;
    report.set_county_id(kCounty);
    report.set_school_year("2025");
    v1::GetRotationComplianceResponse compliance;
    ASSERT_TRUE(Eventually([&] {
      compliance.Clear();
      return Call(rotation_stub_.get(), &v1::RotationService::Stub::GetRotationCompliance, hr_,
                  report, &compliance)
                 .ok() &&
             compliance.county().counting() == 1;
    })) << compliance.DebugString();
    EXPECT_EQ(compliance.county().eligible(), 1);
    // Not a backbone teacher: ceil(20% x 1) = 1 backbone rotation is still missing.
    EXPECT_EQ(compliance.county().backbone_shortfall(), 1);
    EXPECT_FALSE(compliance.county().passes());
  }

  std::unique_ptr<v1::RotationService::Stub> rotation_stub_;
};

TEST_F(RotationWithProfileTest, EventsInMoveOutAndTheTimelineShowsIt) {
  ASSERT_NO_FATAL_FAILURE(CreateCounty());
  const std::string urban = CreateSchool("城关小学", pv1::SCHOOL_LOCATION_URBAN);
  const std::string rural = CreateSchool("尖山小学", pv1::SCHOOL_LOCATION_RURAL);
  const std::string teacher = CreateTeacher(urban);
  ASSERT_TRUE(Eventually([&] { return EligibleCount() == 1; })) << "the teacher never arrived";

  v1::CreateRotationRequest propose;
  propose.set_request_id("p-1");
  propose.set_teacher_id(teacher);
  propose.set_receiving_school_id(rural);
  propose.set_form(v1::ROTATION_FORM_REGULAR_TRANSFER);
  propose.set_relation_moves(true);
  propose.set_start_date("2025-09-01");
  propose.set_planned_end_date("2027-08-31");
  v1::CreateRotationResponse created;
  ASSERT_TRUE(
      Call(rotation_stub_.get(), &v1::RotationService::Stub::CreateRotation, hr_, propose, &created)
          .ok());
  const std::string id = created.rotation().rotation_id();
  for (const Principal& who : {hr_, Who(common::v1::ROLE_SCHOOL_ADMIN, "r", "", rural)}) {
    v1::ApproveRotationRequest approve;
    approve.set_request_id(absl::StrCat("a-", who.subject()));
    approve.set_rotation_id(id);
    v1::ApproveRotationResponse approved;
    grpc::Status s = Call(rotation_stub_.get(), &v1::RotationService::Stub::ApproveRotation, who,
                          approve, &approved);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  v1::StartRotationRequest start;
  start.set_request_id("s-1");
  start.set_rotation_id(id);
  v1::StartRotationResponse started, again;
  grpc::Status s =
      Call(rotation_stub_.get(), &v1::RotationService::Stub::StartRotation, hr_, start, &started);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(started.rotation().state(), v1::ROTATION_STATE_STARTED);
  // A retry answers the first answer and moves nobody again.
  s = Call(rotation_stub_.get(), &v1::RotationService::Stub::StartRotation, hr_, start, &again);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(started, again));

  ASSERT_NO_FATAL_FAILURE(ExpectMovedOnceWithTheRotationOnTheTimeline(teacher, rural));

  ExpectTheRotationCountsForTheUrbanSchool();
}

// The facts UpdateTeacher changes reach the copy: a principal's post counts the years from
// taking it (two terms of three years: not yet eligible), and losing it counts from joining again.
TEST_F(RotationWithProfileTest, LeadershipPostsFollowTheTeacherAsUpdated) {
  CreateCounty();
  const std::string urban = CreateSchool("城关小学", pv1::SCHOOL_LOCATION_URBAN);
  const std::string teacher = CreateTeacher(urban);
  ASSERT_EQ(AwaitReason(teacher, v1::ELIGIBILITY_REASON_ELIGIBLE).reason(),
            v1::ELIGIBILITY_REASON_ELIGIBLE);

  pv1::Teacher changes;
  pv1::LeadershipPost* post = changes.add_leadership_posts();
  post->set_post(pv1::LEADERSHIP_POST_KIND_PRINCIPAL);
  post->set_school_id(urban);
  post->set_from_date("2022-09-01");
  Update(teacher, changes, {"leadership_posts"}, "made-principal");
  v1::EligibilityRow row = AwaitReason(teacher, v1::ELIGIBILITY_REASON_TOO_FEW_YEARS);
  EXPECT_EQ(row.reason(), v1::ELIGIBILITY_REASON_TOO_FEW_YEARS) << row.DebugString();
  EXPECT_TRUE(row.leader()) << row.DebugString();
  EXPECT_EQ(row.counted_from(), "2022-09-01") << row.DebugString();

  Update(teacher, pv1::Teacher(), {"leadership_posts"}, "post-recorded-in-error");
  row = AwaitReason(teacher, v1::ELIGIBILITY_REASON_ELIGIBLE);
  EXPECT_EQ(row.reason(), v1::ELIGIBILITY_REASON_ELIGIBLE) << row.DebugString();
  EXPECT_FALSE(row.leader());
}

// Staffing (在编) and the birth date, hence the expected retirement, follow updates too.
TEST_F(RotationWithProfileTest, StaffingAndRetirementFollowTheTeacherAsUpdated) {
  CreateCounty();
  const std::string urban = CreateSchool("城关小学", pv1::SCHOOL_LOCATION_URBAN);
  const std::string teacher = CreateTeacher(urban);
  ASSERT_EQ(AwaitReason(teacher, v1::ELIGIBILITY_REASON_ELIGIBLE).reason(),
            v1::ELIGIBILITY_REASON_ELIGIBLE);

  pv1::Teacher unstaffed;
  unstaffed.set_staffed(false);
  Update(teacher, unstaffed, {"staffed"}, "not-staffed");
  EXPECT_EQ(AwaitReason(teacher, v1::ELIGIBILITY_REASON_NOT_IN_SERVICE).reason(),
            v1::ELIGIBILITY_REASON_NOT_IN_SERVICE);
  pv1::Teacher staffed;
  staffed.set_staffed(true);
  Update(teacher, staffed, {"staffed"}, "staffed-again");
  EXPECT_EQ(AwaitReason(teacher, v1::ELIGIBILITY_REASON_ELIGIBLE).reason(),
            v1::ELIGIBILITY_REASON_ELIGIBLE);

  // Born in 1966, not 1985: she reaches retirement before the school year begins.
  pv1::Teacher older;
  older.set_birth_date("1966-03-10");
  older.set_id_card_number(testing::WuyiIdCard("19660310", 1));
  Update(teacher, older, {"birth_date", "id_card_number"}, "birth-date-corrected");
  v1::EligibilityRow row = AwaitReason(teacher, v1::ELIGIBILITY_REASON_NEAR_RETIREMENT);
  EXPECT_EQ(row.reason(), v1::ELIGIBILITY_REASON_NEAR_RETIREMENT) << row.DebugString();
  EXPECT_FALSE(row.retirement_date().empty());
  EXPECT_LE(row.retirement_date(), "2025-09-01") << row.DebugString();
}

// A CORRECTION retracting a move puts the teacher back at the school they left (their years
// there count again), and one retracting a post status change restores the status before it.
TEST_F(RotationWithProfileTest, CorrectionsTakeBackAMoveAndAPostStatusChange) {
  CreateCounty();
  const std::string urban = CreateSchool("城关小学", pv1::SCHOOL_LOCATION_URBAN);
  const std::string rural = CreateSchool("尖山小学", pv1::SCHOOL_LOCATION_RURAL);
  const std::string teacher = CreateTeacher(urban);
  ASSERT_EQ(AwaitReason(teacher, v1::ELIGIBILITY_REASON_ELIGIBLE).reason(),
            v1::ELIGIBILITY_REASON_ELIGIBLE);

  pv1::MoveTeacherRequest move;
  move.set_teacher_id(teacher);
  move.set_to_school_id(rural);
  move.set_moved_on("2025-03-01");
  move.set_reason("工作需要");
  move.set_request_id("move");
  pv1::MoveTeacherResponse moved;
  grpc::Status s =
      Call(profile_stub_.get(), &pv1::ProfileService::Stub::MoveTeacher, hr_, move, &moved);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_FALSE(moved.entry().entry_id().empty());
  v1::EligibilityRow row = AwaitReason(teacher, v1::ELIGIBILITY_REASON_TOO_FEW_YEARS);
  ASSERT_EQ(row.reason(), v1::ELIGIBILITY_REASON_TOO_FEW_YEARS) << row.DebugString();
  EXPECT_EQ(row.school_id(), rural);

  AddEntry(teacher, Retraction(moved.entry().entry_id()), "move-retracted");
  row = AwaitReason(teacher, v1::ELIGIBILITY_REASON_ELIGIBLE);
  EXPECT_EQ(row.reason(), v1::ELIGIBILITY_REASON_ELIGIBLE) << row.DebugString();
  EXPECT_EQ(row.school_id(), urban);
  EXPECT_EQ(row.counted_from(), "2015-09-01");

  pv1::TimelineEntry leave;
  leave.set_kind(pv1::TIMELINE_ENTRY_KIND_POST_STATUS_CHANGED);
  leave.set_occurred_on("2025-06-01");
  leave.mutable_post_status_changed()->set_from_status(pv1::POST_STATUS_ON_DUTY);
  leave.mutable_post_status_changed()->set_to_status(pv1::POST_STATUS_SICK_LEAVE);
  const pv1::TimelineEntry recorded = AddEntry(teacher, leave, "sick-leave");
  ASSERT_FALSE(recorded.entry_id().empty());
  EXPECT_EQ(AwaitReason(teacher, v1::ELIGIBILITY_REASON_NOT_IN_SERVICE).reason(),
            v1::ELIGIBILITY_REASON_NOT_IN_SERVICE);
  AddEntry(teacher, Retraction(recorded.entry_id()), "sick-leave-retracted");
  row = AwaitReason(teacher, v1::ELIGIBILITY_REASON_ELIGIBLE);
  EXPECT_EQ(row.reason(), v1::ELIGIBILITY_REASON_ELIGIBLE) << row.DebugString();
}

// A retried proposal answers the first answer even when the state it was checked against has
// changed since: the teacher moved (to the receiving school itself) after the first answer.
TEST_F(RotationWithProfileTest, ARetriedProposalAfterTheTeacherMovedAnswersTheFirstAnswer) {
  CreateCounty();
  const std::string urban = CreateSchool("城关小学", pv1::SCHOOL_LOCATION_URBAN);
  const std::string rural = CreateSchool("尖山小学", pv1::SCHOOL_LOCATION_RURAL);
  const std::string teacher = CreateTeacher(urban);
  ASSERT_EQ(AwaitReason(teacher, v1::ELIGIBILITY_REASON_ELIGIBLE).reason(),
            v1::ELIGIBILITY_REASON_ELIGIBLE);
  v1::CreateRotationRequest propose;
  propose.set_request_id("propose-once");
  propose.set_teacher_id(teacher);
  propose.set_sending_school_id(urban);
  propose.set_receiving_school_id(rural);
  propose.set_form(v1::ROTATION_FORM_SUPPORT_TEACHING);
  propose.set_start_date("2025-09-01");
  propose.set_planned_end_date("2026-08-31");
  v1::CreateRotationResponse first, retried;
  grpc::Status s =
      Call(rotation_stub_.get(), &v1::RotationService::Stub::CreateRotation, hr_, propose, &first);
  ASSERT_TRUE(s.ok()) << s.error_message();

  pv1::MoveTeacherRequest move;
  move.set_teacher_id(teacher);
  move.set_to_school_id(rural);
  move.set_moved_on("2025-08-01");  // before the school year's first day: the rows show it
  move.set_reason("工作需要");
  move.set_request_id("move");
  pv1::MoveTeacherResponse moved;
  s = Call(profile_stub_.get(), &pv1::ProfileService::Stub::MoveTeacher, hr_, move, &moved);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_TRUE(Eventually([&] { return RowOf(teacher).school_id() == rural; }));

  s = Call(rotation_stub_.get(), &v1::RotationService::Stub::CreateRotation, hr_, propose,
           &retried);
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(first, retried))
      << first.DebugString() << "\n---\n"
      << retried.DebugString();
  // A new request is judged against the state as it is now.
  propose.set_request_id("propose-again");
  s = Call(rotation_stub_.get(), &v1::RotationService::Stub::CreateRotation, hr_, propose,
           &retried);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
}

}  // namespace
}  // namespace shidang::rotation

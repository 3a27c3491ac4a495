#pragma once

// The training service as a process (testing::ServiceFixture), and how its tests make a teacher
// known to it: the profile service's "profile.teacher_created", as the profile service publishes
// it.

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "shidang/profile/v1/profile.pb.h"
#include "shidang/training/v1/training.grpc.pb.h"
#include "tests/kit/principals.h"
#include "tests/kit/profile_events.h"
#include "tests/kit/service_fixture.h"

namespace shidang::training {

// The county, school and today of the training service's tests.
inline constexpr char kCounty[] = "330723";
inline constexpr char kOtherCounty[] = "330781";
inline constexpr char kSchool[] = "S330723-aaaaaaaaaa";
inline constexpr char kToday[] = "2025-11-25";

class TrainingFixture : public testing::ServiceFixture<v1::TrainingService> {
 protected:
  // "profile.teacher_created" for teacher `id` (教师<id>, hired 2012-09-01, on duty at `school` of
  // `county`), as the profile service publishes it.
  static common::v1::Event TeacherCreated(const std::string& id, const std::string& county,
                                          const std::string& school) {
    profile::v1::Teacher t;
    t.set_teacher_id(id);
    t.set_name(absl::StrCat("教师", id));
    t.set_county_id(county);
    t.set_school_id(school);
    t.set_hire_date("2012-09-01");
    t.set_post_status(profile::v1::POST_STATUS_ON_DUTY);
    return testing::ProfileEvent("profile.teacher_created", county, id, t);
  }

  // Publishes TeacherCreated `deliveries` times in one script and waits until the service
  // answers GetTrainingSummary for the teacher; a fatal failure after 15 s.
  void MakeKnown(const std::string& id, const std::string& county, const std::string& school,
                 int deliveries) {
    const common::v1::Event e = TeacherCreated(id, county, school);
    ASSERT_TRUE(testing::PublishProfileEvents(redis_.pool(), county,
                                              std::vector<common::v1::Event>(deliveries, e))
                    .ok());
    absl::Time deadline = absl::Now() + absl::Seconds(15);
    while (absl::Now() < deadline) {
      v1::GetTrainingSummaryRequest req;
      req.set_teacher_id(id);
      v1::GetTrainingSummaryResponse resp;
      if (Call(&v1::TrainingService::Stub::GetTrainingSummary, admin_, req, &resp).ok()) return;
      absl::SleepFor(absl::Milliseconds(50));
    }
    FAIL() << "teacher " << id << " never became known";
  }

  // Publishes a profile timeline event (moved school, transferred, post status changed) on the
  // teacher's county stream, as the profile service does.
  void PublishProfileEvent(const std::string& type, const std::string& teacher,
                           const profile::v1::TimelineEntry& entry,
                           const std::string& county = kCounty) {
    ASSERT_TRUE(testing::PublishProfileEvents(
                    redis_.pool(), county,
                    {testing::ProfileEvent(type, county, teacher, entry, entry.occurred_on())})
                    .ok());
  }

  common::v1::Principal admin_ = testing::Who(common::v1::ROLE_ADMIN, "ops");
};

}  // namespace shidang::training

// shidang-training-demo-load: gives the demo county (loaded by shidang-demo-load) a training
// history through the training service's own RPCs, so that the run command's compliance report
// shows teachers in every status (complete, on track, at risk, behind) in the cycle that holds
// today. The county counts hours in per-teacher cycles (DOMAIN §6), each teacher's anchored on
// their last qualification registration (a day of the past five years, never before they were
// hired), so that today falls early in some cycles and late in others; a fixed county cycle
// would put everyone at the same point (and right after it turns, every teacher at 0 hours).
// The county's teacher development centre registers courses over the past five years and this
// year, closes them and confirms who completed them, and opens next term's for enrolment, each
// teacher completing a share of them by a steady per-teacher habit (some do just enough to keep
// pace); a few teachers log county research activities that wait for HR's review. Safe to run
// twice: every write carries a fixed request id.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "services/common/dates.h"
#include "services/common/demo_load.h"
#include "services/common/principal.h"
#include "shidang/profile/v1/profile.grpc.pb.h"
#include "shidang/training/v1/training.grpc.pb.h"

ABSL_FLAG(std::string, training, "127.0.0.1:7102", "Address of the training service.");
ABSL_FLAG(std::string, profile, "127.0.0.1:7101", "Address of the profile service.");
ABSL_FLAG(std::string, principal_key_file, "", "Key the services verify principals with.");
ABSL_FLAG(std::string, county_id, "330723", "The demo county (shidang-demo-load's).");
ABSL_FLAG(std::string, provider_id, "P330723-TDC", "The county teacher development centre.");
ABSL_FLAG(std::string, today, "", "The day the history ends (YYYY-MM-DD); default today.");
ABSL_FLAG(int, wait_seconds, 120,
          "How long to wait for the training service to learn the county's teachers from the "
          "profile service's events.");

namespace shidang::training {
namespace {

namespace common_v1 = shidang::common::v1;
namespace profile_v1 = shidang::profile::v1;

constexpr absl::string_view kProgram = "shidang-training-demo-load";

int Fail(absl::string_view what, const grpc::Status& status) {
  return demo::FailedCall(kProgram, what, status);
}

using demo::Draw;

// How far ahead a course is open for enrolment, and the seats of such a class.
constexpr int kOpenAheadDays = 183;
constexpr int32_t kClassSeats = 120;

// Hours of a cycle (the national default, DOMAIN §2).
constexpr double kRequiredHours = 360;
// Days ahead of the pace line a teacher who keeps pace stays (a course's worth, about).
constexpr int kPaceLeadDays = 180;

// How likely a teacher is to complete any one course: most teachers take most of what is
// offered, some fall behind, a few take almost nothing; a negative habit is a teacher who takes
// a course only when it keeps them on pace (they are the ones still owing as their cycle closes).
constexpr double kKeepsPace = -1;
double Habit(absl::string_view teacher_id) {
  const double d = Draw(absl::StrCat("habit/", teacher_id));
  if (d < 0.25) return 0.95;
  if (d < 0.55) return kKeepsPace;
  if (d < 0.75) return 0.75;
  if (d < 0.90) return 0.45;
  return 0.10;
}

// The teacher's cycle anchor: their last qualification registration, a day of the five years
// before `today` (so the cycle holding today starts on it), not before they were hired.
absl::CivilDay AnchorOf(const profile::v1::Teacher& t, absl::CivilDay today) {
  const absl::CivilDay earliest = dates::ShiftYears(today, -5) + 1;
  absl::CivilDay anchor =
      earliest + static_cast<int64_t>(Draw(absl::StrCat("anchor/", t.teacher_id())) *
                                      static_cast<double>(today - earliest));
  absl::StatusOr<absl::CivilDay> hired = dates::ParseDate(t.hire_date());
  if (hired.ok() && *hired > anchor && *hired <= today) anchor = *hired;
  return anchor;
}

struct DemoCourse {
  std::string title;
  common_v1::TrainingLevel level;
  common_v1::TrainingMode mode;
  double hours;
  absl::CivilDay start, end;
  bool head_teacher = false;
};

// Five courses a year from five years back to next year: those ended a week before `today`
// (closed, their classes' completions confirmed) and those starting in the next half year (open
// for enrolment); none in between, so every course's state fits its dates.
std::vector<DemoCourse> Courses(absl::CivilDay today) {
  std::vector<DemoCourse> out;
  const absl::CivilDay last = today - 7;
  for (int64_t year = today.year() - 5; year <= today.year() + 1; ++year) {
    const std::string y = absl::StrCat("（", year, "）");
    for (DemoCourse c : {
             DemoCourse{"新课标解读与教学实践" + y, common_v1::TRAINING_LEVEL_COUNTY,
                        common_v1::TRAINING_MODE_FACE_TO_FACE, 24, absl::CivilDay(year, 3, 10),
                        absl::CivilDay(year, 3, 20)},
             DemoCourse{"国培计划：学科核心素养导向的教学改进" + y,
                        common_v1::TRAINING_LEVEL_NATIONAL, common_v1::TRAINING_MODE_ONLINE, 40,
                        absl::CivilDay(year, 4, 1), absl::CivilDay(year, 4, 30)},
             DemoCourse{"信息技术应用能力提升" + y, common_v1::TRAINING_LEVEL_PROVINCE,
                        common_v1::TRAINING_MODE_ONLINE, 30, absl::CivilDay(year, 5, 1),
                        absl::CivilDay(year, 6, 30)},
             DemoCourse{"班主任专业能力培训" + y, common_v1::TRAINING_LEVEL_CITY,
                        common_v1::TRAINING_MODE_BLENDED, 16, absl::CivilDay(year, 9, 10),
                        absl::CivilDay(year, 9, 20), true},
             DemoCourse{"校本研修：课堂观察与评课" + y, common_v1::TRAINING_LEVEL_SCHOOL,
                        common_v1::TRAINING_MODE_SCHOOL_BASED, 12, absl::CivilDay(year, 10, 8),
                        absl::CivilDay(year, 11, 10)},
         }) {
      if (c.end <= last || (c.start > today && c.start <= today + kOpenAheadDays)) {
        out.push_back(std::move(c));
      }
    }
  }
  return out;
}

// What one run did, for the closing line.
struct Tally {
  int64_t credited = 0, already = 0, rejected = 0, enrolled = 0;
  int pending = 0, open = 0;
};

// The run's steps, each a few RPCs as the roles that make them (a failed call fails the run
// with the call's name and message).
class DemoLoader {
 public:
  DemoLoader(PrincipalSigner signer, absl::CivilDay today)
      : signer_(std::move(signer)),
        today_(today),
        county_(absl::GetFlag(FLAGS_county_id)),
        provider_(absl::GetFlag(FLAGS_provider_id)) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_MAX_METADATA_SIZE, 1 << 20);
    args.SetMaxSendMessageSize(16 << 20);
    args.SetMaxReceiveMessageSize(16 << 20);
    profile_ = profile_v1::ProfileService::NewStub(grpc::CreateCustomChannel(
        absl::GetFlag(FLAGS_profile), grpc::InsecureChannelCredentials(), args));
    training_ = v1::TrainingService::NewStub(grpc::CreateCustomChannel(
        absl::GetFlag(FLAGS_training), grpc::InsecureChannelCredentials(), args));
  }

  int Run() {
    if (int failed = ReadTeachers()) return failed;
    if (int failed = CountPerTeacherCycles()) return failed;
    if (int failed = SetAnchors()) return failed;
    if (int failed = AwaitTrainingKnowsThem()) return failed;
    const std::vector<DemoCourse> courses = Courses(today_);
    for (const DemoCourse& c : courses) {
      if (int failed = LoadCourse(c)) return failed;
    }
    if (int failed = LogSelfReports()) return failed;
    return PrintReport(courses.size());
  }

 private:
  // A call's context as `role` (scoped to the county or the centre), with a deadline.
  void As(grpc::ClientContext* ctx, common_v1::Role role, const std::string& subject) const {
    common_v1::Principal p;
    p.set_role(role);
    p.set_subject(subject);
    if (role == common_v1::ROLE_TRAINING_CENTER) p.set_provider_id(provider_);
    if (role == common_v1::ROLE_TEACHER || role == common_v1::ROLE_COUNTY_HR) {
      p.set_region(county_);
    }
    demo::Sign(ctx, signer_, p);
  }

  // The county's teachers, from the profile service.
  int ReadTeachers() {
    profile_v1::ListTeachersRequest list;
    list.set_county_id(county_);
    list.mutable_page()->set_page_size(500);
    while (true) {
      profile_v1::ListTeachersResponse page;
      grpc::ClientContext ctx;
      As(&ctx, common_v1::ROLE_ADMIN, "demo-loader");
      grpc::Status s = profile_->ListTeachers(&ctx, list, &page);
      if (!s.ok()) return Fail("ListTeachers", s);
      for (const profile_v1::Teacher& t : page.teachers()) {
        teachers_.push_back(t);
        anchors_[t.teacher_id()] = AnchorOf(t, today_);
      }
      if (page.page().next_page_token().empty()) break;
      list.mutable_page()->set_page_token(page.page().next_page_token());
    }
    if (teachers_.empty()) {
      std::fprintf(stderr,
                   "shidang-training-demo-load: county %s has no teachers; load the "
                   "profile demo first\n",
                   county_.c_str());
      return 1;
    }
    return 0;
  }

  // The county's cycles from each teacher's anchor, in force since long before any history.
  int CountPerTeacherCycles() {
    v1::SetTrainingPolicyRequest set;
    set.set_request_id("demo-training-policy-per-teacher");
    set.set_level(common_v1::POLICY_LEVEL_COUNTY);
    set.set_region(county_);
    set.set_effective_from("2000-01-01");
    set.mutable_training()->set_cycle_kind(common_v1::CYCLE_KIND_PER_TEACHER);
    v1::SetTrainingPolicyResponse done;
    grpc::ClientContext ctx;
    As(&ctx, common_v1::ROLE_COUNTY_HR, "demo-hr");
    grpc::Status s = training_->SetTrainingPolicy(&ctx, set, &done);
    return s.ok() ? 0 : Fail("SetTrainingPolicy", s);
  }

  // HR records each teacher's cycle anchor in the profile service (a teacher whose anchor is
  // already that day is left alone).
  int SetAnchors() {
    for (const profile_v1::Teacher& t : teachers_) {
      const std::string anchor = dates::FormatDate(anchors_.at(t.teacher_id()));
      if (t.training_cycle_anchor() == anchor) continue;
      profile_v1::UpdateTeacherRequest update;
      update.set_request_id(absl::StrCat("demo-anchor-", t.teacher_id()));
      update.set_teacher_id(t.teacher_id());
      update.mutable_teacher()->set_training_cycle_anchor(anchor);
      update.mutable_update_mask()->add_paths("training_cycle_anchor");
      profile_v1::UpdateTeacherResponse updated;
      grpc::ClientContext ctx;
      As(&ctx, common_v1::ROLE_COUNTY_HR, "demo-hr");
      grpc::Status s = profile_->UpdateTeacher(&ctx, update, &updated);
      if (!s.ok()) return Fail(absl::StrCat("UpdateTeacher ", t.teacher_id()), s);
    }
    return 0;
  }

  // The training service learns teachers and their anchors from the profile service's events,
  // not necessarily in this order: wait until it places every one in the cycle from its anchor.
  int AwaitTrainingKnowsThem() {
    const absl::Time give_up = absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_wait_seconds));
    for (const profile_v1::Teacher& t : teachers_) {
      while (true) {
        v1::GetTrainingSummaryRequest req;
        req.set_teacher_id(t.teacher_id());
        v1::GetTrainingSummaryResponse resp;
        grpc::ClientContext ctx;
        As(&ctx, common_v1::ROLE_ADMIN, "demo-loader");
        grpc::Status s = training_->GetTrainingSummary(&ctx, req, &resp);
        const std::string first_day = dates::FormatDate(anchors_.at(t.teacher_id()));
        if (s.ok() && resp.summary().cycle().first_day() == first_day) break;
        if (absl::Now() > give_up) {
          if (s.ok()) {
            s = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                             absl::StrCat("teacher ", t.teacher_id(), "'s cycle starts on ",
                                          resp.summary().cycle().first_day(), ", not ", first_day));
          }
          return Fail("waiting for the training service to know the county's teachers", s);
        }
        if (!s.ok() && s.error_code() != grpc::StatusCode::NOT_FOUND) {
          return Fail("waiting for the training service to know the county's teachers", s);
        }
        absl::SleepFor(absl::Milliseconds(100));
      }
    }
    return 0;
  }

  // The centre registers and publishes the course, then confirms who completed it.
  int LoadCourse(const DemoCourse& c) {
    const std::string key = absl::StrCat("demo-course-", dates::FormatDate(c.start));
    v1::RegisterCourseRequest reg;
    reg.set_request_id(key);
    v1::Course* course = reg.mutable_course();
    course->set_provider_id(provider_);
    course->set_title(c.title);
    course->set_level(c.level);
    course->set_mode(c.mode);
    course->set_hours(c.hours);
    course->set_start_date(dates::FormatDate(c.start));
    course->set_end_date(dates::FormatDate(c.end));
    const bool upcoming = c.start > today_;
    course->set_capacity(upcoming ? kClassSeats : static_cast<int32_t>(teachers_.size()));
    course->set_head_teacher(c.head_teacher);
    course->add_open_regions(county_);
    v1::RegisterCourseResponse registered;
    {
      grpc::ClientContext ctx;
      As(&ctx, common_v1::ROLE_TRAINING_CENTER, "demo-centre");
      grpc::Status s = training_->RegisterCourse(&ctx, reg, &registered);
      if (!s.ok()) return Fail(absl::StrCat("RegisterCourse ", c.title), s);
    }
    v1::PublishCourseRequest publish;
    publish.set_course_id(registered.course().course_id());
    publish.set_request_id(key + "-publish");
    v1::PublishCourseResponse published;
    grpc::ClientContext ctx;
    As(&ctx, common_v1::ROLE_TRAINING_CENTER, "demo-centre");
    grpc::Status s = training_->PublishCourse(&ctx, publish, &published);
    if (!s.ok()) return Fail(absl::StrCat("PublishCourse ", c.title), s);
    const std::string& course_id = registered.course().course_id();
    if (upcoming) return EnrolClass(key, course_id);
    if (int failed = Close(c, key, course_id)) return failed;
    return ConfirmCompletions(c, key, course_id);
  }

  // A course that has begun takes no more enrolment.
  int Close(const DemoCourse& c, const std::string& key, const std::string& course_id) {
    v1::CloseCourseRequest close;
    close.set_course_id(course_id);
    close.set_request_id(key + "-close");
    v1::CloseCourseResponse closed;
    grpc::ClientContext ctx;
    As(&ctx, common_v1::ROLE_TRAINING_CENTER, "demo-centre");
    grpc::Status s = training_->CloseCourse(&ctx, close, &closed);
    return s.ok() ? 0 : Fail(absl::StrCat("CloseCourse ", c.title), s);
  }

  // Teachers on duty enrol themselves in an open course, most of its seats taken (enrolling is
  // dated the day it is made, so only courses still open get enrolments: a past course's class
  // shows in its completions).
  int EnrolClass(const std::string& key, const std::string& course_id) {
    ++tally_.open;
    int taken = 0;
    for (const profile_v1::Teacher& t : teachers_) {
      if (taken == kClassSeats - 10) break;
      if (t.post_status() != profile_v1::POST_STATUS_ON_DUTY) continue;
      if (Draw(absl::StrCat(key, "/enrol/", t.teacher_id())) >= 0.08) continue;
      v1::EnrollRequest enrol;
      enrol.set_request_id(absl::StrCat(key, "-enrol-", t.teacher_id()));
      enrol.set_course_id(course_id);
      enrol.set_teacher_id(t.teacher_id());
      v1::EnrollResponse enrolled;
      grpc::ClientContext ctx;
      As(&ctx, common_v1::ROLE_TEACHER, t.teacher_id());
      grpc::Status s = training_->Enroll(&ctx, enrol, &enrolled);
      if (!s.ok()) return Fail(absl::StrCat("Enroll ", t.teacher_id()), s);
      ++taken;
      ++tally_.enrolled;
    }
    return 0;
  }

  // Each teacher on duty and hired by the course's start completes it by their habit.
  int ConfirmCompletions(const DemoCourse& c, const std::string& key,
                         const std::string& course_id) {
    v1::RecordCompletionsRequest done;
    done.set_request_id(key + "-completions");
    done.set_course_id(course_id);
    for (const profile_v1::Teacher& t : teachers_) {
      absl::StatusOr<absl::CivilDay> hired = dates::ParseDate(t.hire_date());
      if (!hired.ok() || *hired > c.start) continue;
      if (t.post_status() == profile_v1::POST_STATUS_RETIRED ||
          t.post_status() == profile_v1::POST_STATUS_LEFT) {
        continue;
      }
      if (!Completes(t.teacher_id(), key, c)) continue;
      v1::CompletionRow* row = done.add_rows();
      row->set_teacher_id(t.teacher_id());
      row->set_hours(c.hours);
      row->set_completed_on(dates::FormatDate(c.end));
    }
    if (done.rows().empty()) return 0;
    v1::RecordCompletionsResponse recorded;
    grpc::ClientContext ctx;
    As(&ctx, common_v1::ROLE_TRAINING_CENTER, "demo-centre");
    grpc::Status s = training_->RecordCompletions(&ctx, done, &recorded);
    if (!s.ok()) return Fail(absl::StrCat("RecordCompletions ", c.title), s);
    tally_.credited += recorded.credited();
    tally_.already += recorded.already_credited();
    tally_.rejected += recorded.rejected();
    return 0;
  }

  // Whether the teacher completes course `c` (courses come in date order): by their habit, or
  // for one who keeps pace, when the hours of their cycle so far fall short of the pace line
  // kPaceLeadDays after the course ends.
  bool Completes(const std::string& teacher_id, const std::string& key, const DemoCourse& c) {
    const double habit = Habit(teacher_id);
    const absl::CivilDay first = anchors_.at(teacher_id);
    double& counted = counted_[teacher_id];
    bool takes = Draw(absl::StrCat(key, "/", teacher_id)) < habit;
    if (habit == kKeepsPace) {
      const absl::CivilDay last = dates::ShiftYears(first, 5) - 1;
      const double elapsed = static_cast<double>(std::min(c.end + kPaceLeadDays, last) - first + 1);
      takes = c.end < first || counted < kRequiredHours * elapsed / (last - first + 1);
    }
    if (takes && c.end >= first) counted += c.hours;
    return takes;
  }

  // A few county research activities logged by teachers, waiting for HR.
  int LogSelfReports() {
    for (size_t i = 0; i < teachers_.size() && tally_.pending < 8; i += teachers_.size() / 8 + 1) {
      const profile_v1::Teacher& t = teachers_[i];
      v1::LogTrainingRequest log;
      log.set_request_id(absl::StrCat("demo-self-report-", i));
      log.set_teacher_id(t.teacher_id());
      log.set_activity(v1::TRAINING_ACTIVITY_RESEARCH_ACTIVITY);
      log.set_title("县级教研活动：大单元教学设计研讨");
      log.set_level(common_v1::TRAINING_LEVEL_COUNTY);
      log.set_mode(common_v1::TRAINING_MODE_FACE_TO_FACE);
      log.set_hours(6);
      log.set_started_on(dates::FormatDate(today_ - 14));
      log.set_completed_on(dates::FormatDate(today_ - 14));
      log.mutable_evidence()->set_description("县教研室组织的研讨活动签到表与发言稿");
      log.mutable_evidence()->set_file_ref(absl::StrCat("demo/evidence/", t.teacher_id(), ".pdf"));
      v1::LogTrainingResponse logged;
      grpc::ClientContext ctx;
      As(&ctx, common_v1::ROLE_TEACHER, t.teacher_id());
      grpc::Status s = training_->LogTraining(&ctx, log, &logged);
      if (!s.ok()) return Fail("LogTraining", s);
      ++tally_.pending;
    }
    return 0;
  }

  // What HR now sees.
  int PrintReport(size_t courses) {
    v1::GetComplianceReportRequest report;
    report.set_county_id(county_);
    report.set_as_of(dates::FormatDate(today_));
    report.mutable_page()->set_page_size(1);
    v1::GetComplianceReportResponse answer;
    grpc::ClientContext ctx;
    As(&ctx, common_v1::ROLE_COUNTY_HR, "demo-hr");
    grpc::Status s = training_->GetComplianceReport(&ctx, report, &answer);
    if (!s.ok()) return Fail("GetComplianceReport", s);
    std::printf(
        "training history of county %s: %zu courses (%d open for enrolment, %lld enrolled), "
        "%lld completions credited (%lld already, %lld refused), %d self-reports waiting for HR\n",
        county_.c_str(), courses, tally_.open, static_cast<long long>(tally_.enrolled),
        static_cast<long long>(tally_.credited), static_cast<long long>(tally_.already),
        static_cast<long long>(tally_.rejected), tally_.pending);
    for (const auto& status : answer.by_status()) {
      std::printf("  %s: %lld teachers\n", v1::TrainingStatus_Name(status.status()).c_str(),
                  static_cast<long long>(status.teachers()));
    }
    return 0;
  }

  const PrincipalSigner signer_;
  const absl::CivilDay today_;
  const std::string county_;
  const std::string provider_;
  std::unique_ptr<profile_v1::ProfileService::Stub> profile_;
  std::unique_ptr<v1::TrainingService::Stub> training_;
  std::vector<profile_v1::Teacher> teachers_;
  std::map<std::string, absl::CivilDay> anchors_;  // teacher id -> cycle anchor
  std::map<std::string, double> counted_;          // teacher id -> hours in the cycle so far
  Tally tally_;
};

}  // namespace
}  // namespace shidang::training

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return shidang::demo::RunLoader(
      shidang::training::kProgram, absl::GetFlag(FLAGS_principal_key_file),
      absl::GetFlag(FLAGS_today), [](shidang::PrincipalSigner signer, absl::CivilDay today) {
        return shidang::training::DemoLoader(std::move(signer), today).Run();
      });
}

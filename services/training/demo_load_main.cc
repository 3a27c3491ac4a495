// shidang-training-demo-load: gives the demo county (loaded by shidang-demo-load) a training
// history through the training service's own RPCs, so that the run command's compliance report
// shows teachers in every status rather than all of them behind: the county's teacher development
// centre registers courses over the past cycle and this year and confirms who completed them, each
// teacher completing a share of them by a steady per-teacher habit; a few teachers log county
// research activities that wait for HR's review. Safe to run twice: every write carries a fixed
// request id.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "services/common/dates.h"
#include "services/common/digest.h"
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

int Fail(absl::string_view what, const grpc::Status& status) {
  std::fprintf(stderr, "shidang-training-demo-load: %s: %s\n", std::string(what).c_str(),
               status.error_message().c_str());
  return 1;
}

// A number in [0, 1) fixed by `seed`: the same teacher makes the same choices on every run.
double Draw(absl::string_view seed) {
  const std::string digest = Sha256(seed);
  uint32_t bits = 0;
  for (int i = 0; i < 4; ++i) bits = (bits << 8) | static_cast<unsigned char>(digest[i]);
  return bits / 4294967296.0;
}

// How likely a teacher is to complete any one course: most teachers take most of what is
// offered, some fall behind, a few take almost nothing.
double Habit(absl::string_view teacher_id) {
  const double d = Draw(absl::StrCat("habit/", teacher_id));
  if (d < 0.30) return 0.95;
  if (d < 0.70) return 0.75;
  if (d < 0.90) return 0.45;
  return 0.10;
}

struct DemoCourse {
  std::string title;
  common_v1::TrainingLevel level;
  common_v1::TrainingMode mode;
  double hours;
  absl::CivilDay start, end;
  bool head_teacher = false;
};

// Five courses a year from five years back to this year, those ended a week before `today`.
std::vector<DemoCourse> Courses(absl::CivilDay today) {
  std::vector<DemoCourse> out;
  const absl::CivilDay last = today - 7;
  for (int64_t year = today.year() - 5; year <= today.year(); ++year) {
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
      if (c.end <= last) out.push_back(std::move(c));
    }
  }
  return out;
}

int Run() {
  absl::StatusOr<PrincipalSigner> signer =
      PrincipalSigner::FromKeyFile(absl::GetFlag(FLAGS_principal_key_file));
  if (!signer.ok()) {
    std::fprintf(stderr, "shidang-training-demo-load: %s\n", signer.status().ToString().c_str());
    return 2;
  }
  absl::CivilDay today(absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(8 * 3600)));
  if (!absl::GetFlag(FLAGS_today).empty()) {
    absl::StatusOr<absl::CivilDay> day = dates::ParseDate(absl::GetFlag(FLAGS_today), "--today");
    if (!day.ok()) {
      std::fprintf(stderr, "shidang-training-demo-load: %s\n", day.status().ToString().c_str());
      return 2;
    }
    today = *day;
  }
  const std::string county = absl::GetFlag(FLAGS_county_id);
  const std::string provider = absl::GetFlag(FLAGS_provider_id);

  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_MAX_METADATA_SIZE, 1 << 20);
  args.SetMaxSendMessageSize(16 << 20);
  args.SetMaxReceiveMessageSize(16 << 20);
  auto profile = profile_v1::ProfileService::NewStub(grpc::CreateCustomChannel(
      absl::GetFlag(FLAGS_profile), grpc::InsecureChannelCredentials(), args));
  auto training = v1::TrainingService::NewStub(grpc::CreateCustomChannel(
      absl::GetFlag(FLAGS_training), grpc::InsecureChannelCredentials(), args));
  auto as = [&](grpc::ClientContext* ctx, common_v1::Role role, const std::string& subject) {
    common_v1::Principal p;
    p.set_role(role);
    p.set_subject(subject);
    if (role == common_v1::ROLE_TRAINING_CENTER) p.set_provider_id(provider);
    if (role == common_v1::ROLE_TEACHER || role == common_v1::ROLE_COUNTY_HR) p.set_region(county);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    signer->Attach(ctx, p);
  };

  // The county's teachers, from the profile service.
  std::vector<profile_v1::Teacher> teachers;
  profile_v1::ListTeachersRequest list;
  list.set_county_id(county);
  list.mutable_page()->set_page_size(500);
  while (true) {
    profile_v1::ListTeachersResponse page;
    grpc::ClientContext ctx;
    as(&ctx, common_v1::ROLE_ADMIN, "demo-loader");
    grpc::Status s = profile->ListTeachers(&ctx, list, &page);
    if (!s.ok()) return Fail("ListTeachers", s);
    for (const profile_v1::Teacher& t : page.teachers()) teachers.push_back(t);
    if (page.page().next_page_token().empty()) break;
    list.mutable_page()->set_page_token(page.page().next_page_token());
  }
  if (teachers.empty()) {
    std::fprintf(stderr, "shidang-training-demo-load: county %s has no teachers; load the "
                         "profile demo first\n", county.c_str());
    return 1;
  }

  // The training service learns teachers from the profile service's events, not necessarily in
  // this order: wait until it knows every one.
  const absl::Time give_up = absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_wait_seconds));
  for (const profile_v1::Teacher& t : teachers) {
    while (true) {
      v1::GetTrainingSummaryRequest req;
      req.set_teacher_id(t.teacher_id());
      v1::GetTrainingSummaryResponse resp;
      grpc::ClientContext ctx;
      as(&ctx, common_v1::ROLE_ADMIN, "demo-loader");
      grpc::Status s = training->GetTrainingSummary(&ctx, req, &resp);
      if (s.ok()) break;
      if (s.error_code() != grpc::StatusCode::NOT_FOUND || absl::Now() > give_up) {
        return Fail("waiting for the training service to know the county's teachers", s);
      }
      absl::SleepFor(absl::Milliseconds(100));
    }
  }

  int64_t credited = 0, already = 0, rejected = 0;
  const std::vector<DemoCourse> courses = Courses(today);
  for (size_t k = 0; k < courses.size(); ++k) {
    const DemoCourse& c = courses[k];
    const std::string key = absl::StrCat("demo-course-", dates::FormatDate(c.start));
    v1::RegisterCourseRequest reg;
    reg.set_request_id(key);
    v1::Course* course = reg.mutable_course();
    course->set_provider_id(provider);
    course->set_title(c.title);
    course->set_level(c.level);
    course->set_mode(c.mode);
    course->set_hours(c.hours);
    course->set_start_date(dates::FormatDate(c.start));
    course->set_end_date(dates::FormatDate(c.end));
    course->set_capacity(static_cast<int32_t>(teachers.size()));
    course->set_head_teacher(c.head_teacher);
    course->add_open_regions(county);
    v1::RegisterCourseResponse registered;
    {
      grpc::ClientContext ctx;
      as(&ctx, common_v1::ROLE_TRAINING_CENTER, "demo-centre");
      grpc::Status s = training->RegisterCourse(&ctx, reg, &registered);
      if (!s.ok()) return Fail(absl::StrCat("RegisterCourse ", c.title), s);
    }
    const std::string course_id = registered.course().course_id();
    {
      v1::PublishCourseRequest publish;
      publish.set_course_id(course_id);
      publish.set_request_id(key + "-publish");
      v1::PublishCourseResponse published;
      grpc::ClientContext ctx;
      as(&ctx, common_v1::ROLE_TRAINING_CENTER, "demo-centre");
      grpc::Status s = training->PublishCourse(&ctx, publish, &published);
      if (!s.ok()) return Fail(absl::StrCat("PublishCourse ", c.title), s);
    }
    v1::RecordCompletionsRequest done;
    done.set_request_id(key + "-completions");
    done.set_course_id(course_id);
    for (const profile_v1::Teacher& t : teachers) {
      absl::StatusOr<absl::CivilDay> hired = dates::ParseDate(t.hire_date());
      if (!hired.ok() || *hired > c.start) continue;
      if (t.post_status() == profile_v1::POST_STATUS_RETIRED ||
          t.post_status() == profile_v1::POST_STATUS_LEFT) {
        continue;
      }
      if (Draw(absl::StrCat(key, "/", t.teacher_id())) >= Habit(t.teacher_id())) continue;
      v1::CompletionRow* row = done.add_rows();
      row->set_teacher_id(t.teacher_id());
      row->set_hours(c.hours);
      row->set_completed_on(dates::FormatDate(c.end));
    }
    if (done.rows().empty()) continue;
    v1::RecordCompletionsResponse recorded;
    grpc::ClientContext ctx;
    as(&ctx, common_v1::ROLE_TRAINING_CENTER, "demo-centre");
    grpc::Status s = training->RecordCompletions(&ctx, done, &recorded);
    if (!s.ok()) return Fail(absl::StrCat("RecordCompletions ", c.title), s);
    credited += recorded.credited();
    already += recorded.already_credited();
    rejected += recorded.rejected();
  }

  // A few county research activities logged by teachers, waiting for HR.
  int pending = 0;
  for (size_t i = 0; i < teachers.size() && pending < 8; i += teachers.size() / 8 + 1) {
    const profile_v1::Teacher& t = teachers[i];
    v1::LogTrainingRequest log;
    log.set_request_id(absl::StrCat("demo-self-report-", i));
    log.set_teacher_id(t.teacher_id());
    log.set_activity(v1::TRAINING_ACTIVITY_RESEARCH_ACTIVITY);
    log.set_title("县级教研活动：大单元教学设计研讨");
    log.set_level(common_v1::TRAINING_LEVEL_COUNTY);
    log.set_mode(common_v1::TRAINING_MODE_FACE_TO_FACE);
    log.set_hours(6);
    log.set_started_on(dates::FormatDate(today - 14));
    log.set_completed_on(dates::FormatDate(today - 14));
    log.mutable_evidence()->set_description("县教研室组织的研讨活动签到表与发言稿");
    log.mutable_evidence()->set_file_ref(absl::StrCat("demo/evidence/", t.teacher_id(), ".pdf"));
    v1::LogTrainingResponse logged;
    grpc::ClientContext ctx;
    as(&ctx, common_v1::ROLE_TEACHER, t.teacher_id());
    grpc::Status s = training->LogTraining(&ctx, log, &logged);
    if (!s.ok()) return Fail("LogTraining", s);
    ++pending;
  }

  // What HR now sees.
  v1::GetComplianceReportRequest report;
  report.set_county_id(county);
  report.set_as_of(dates::FormatDate(today));
  report.mutable_page()->set_page_size(1);
  v1::GetComplianceReportResponse answer;
  grpc::ClientContext ctx;
  as(&ctx, common_v1::ROLE_COUNTY_HR, "demo-hr");
  grpc::Status s = training->GetComplianceReport(&ctx, report, &answer);
  if (!s.ok()) return Fail("GetComplianceReport", s);
  std::printf("training history of county %s: %zu courses, %lld completions credited "
              "(%lld already, %lld refused), %d self-reports waiting for HR\n",
              county.c_str(), courses.size(), static_cast<long long>(credited),
              static_cast<long long>(already), static_cast<long long>(rejected), pending);
  for (const auto& status : answer.by_status()) {
    std::printf("  %s: %lld teachers\n", v1::TrainingStatus_Name(status.status()).c_str(),
                static_cast<long long>(status.teachers()));
  }
  return 0;
}

}  // namespace
}  // namespace shidang::training

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return shidang::training::Run();
}

#include "services/training/courses.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/dates.h"
#include "services/common/digest.h"
#include "services/common/status.h"
#include "services/training/access.h"
#include "services/training/rules.h"

namespace shidang::training {
namespace {

// Whether a course passes a listing's filters.
bool Listed(const v1::ListCoursesRequest& req, const v1::Course& c,
            const std::optional<absl::CivilDay>& from, const std::optional<absl::CivilDay>& to) {
  if (req.state() != 0 && c.state() != req.state()) return false;
  if (req.level() != 0 && c.level() != req.level()) return false;
  if (req.mode() != 0 && c.mode() != req.mode()) return false;
  if (!req.open_to_county_id().empty() && !CourseOpenTo(c, req.open_to_county_id())) return false;
  absl::StatusOr<absl::CivilDay> start = dates::ParseDate(c.start_date());
  absl::StatusOr<absl::CivilDay> end = dates::ParseDate(c.end_date());
  if (to && start.ok() && *start > *to) return false;
  if (from && end.ok() && *end < *from) return false;
  return true;
}

}  // namespace

absl::Status Courses::Register(const CallContext& call, const v1::RegisterCourseRequest& req,
                               v1::RegisterCourseResponse* resp) {
  v1::Course course = req.course();
  if (course.provider_id().empty() && call.principal.role() == common::v1::ROLE_TRAINING_CENTER) {
    course.set_provider_id(call.principal.provider_id());
  }
  if (!course.course_id().empty() || course.state() != 0 || course.enrolled() != 0 ||
      course.completed() != 0 || !course.created_by().empty()) {
    return InvalidField(
        "course", "output_only",
        "course_id, state, enrolled, completed and created_by are set by the service");
  }
  SHIDANG_RETURN_IF_ERROR(ProblemsStatus(CourseProblems(course)));
  SHIDANG_RETURN_IF_ERROR(access::RequireCourseOwner(call.principal, course));
  course.set_course_id(
      absl::StrCat("C", HexId(IdSeed(call.actor, "RegisterCourse", req.request_id(), ""), 12), "-",
                   course.provider_id()));
  course.set_state(v1::COURSE_STATE_DRAFT);
  course.set_created_by(call.actor);
  std::vector<common::v1::Event> events = {
      events_.Make("training.course_registered", "", "", course.start_date(), call.actor,
                   req.request_id(), absl::StrCat("登记培训课程《", course.title(), "》"), course)};
  SHIDANG_ASSIGN_OR_RETURN(
      *resp->mutable_course(),
      store_.CreateCourse(course, WriteOf(call, "RegisterCourse", req), std::move(events)));
  return absl::OkStatus();
}

absl::Status Courses::Get(const v1::GetCourseRequest& req, v1::GetCourseResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(StoredCourse stored, store_.GetCourse(req.course_id()));
  *resp->mutable_course() = std::move(stored.course);
  return absl::OkStatus();
}

absl::Status Courses::List(const v1::ListCoursesRequest& req, absl::string_view provider,
                           v1::ListCoursesResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(int page_size, PageSize(req.page()));
  SHIDANG_ASSIGN_OR_RETURN(size_t offset, PageOffset(req.page()));
  SHIDANG_ASSIGN_OR_RETURN(DateFilter period, ParseDateFilter(req.from_date(), req.to_date()));
  if (!req.open_to_county_id().empty() && !IsCountyCode(req.open_to_county_id())) {
    return InvalidField("open_to_county_id", "county_code",
                        "must be a county's 6-digit GB/T 2260 code (not ending in 00)");
  }
  std::vector<std::string> providers;
  if (provider.empty()) {
    SHIDANG_ASSIGN_OR_RETURN(providers, store_.Providers());
  } else {
    providers = {std::string(provider)};
  }
  SHIDANG_ASSIGN_OR_RETURN(std::vector<StoredCourse> all, store_.ListCourses(providers));
  std::vector<v1::Course> matching;
  for (StoredCourse& s : all) {
    if (Listed(req, s.course, period.from, period.to)) matching.push_back(std::move(s.course));
  }
  Paginate(matching, offset, page_size, resp->mutable_page(),
           [&](const v1::Course& c) { *resp->add_courses() = c; });
  return absl::OkStatus();
}

absl::Status Courses::ChangeState(const CallContext& call, const google::protobuf::Message& req,
                                  absl::string_view method, absl::string_view course_id,
                                  absl::string_view request_id, v1::CourseState to,
                                  const std::vector<v1::CourseState>& from,
                                  absl::string_view summary, v1::Course* out) {
  SHIDANG_ASSIGN_OR_RETURN(StoredCourse stored, store_.GetCourse(course_id));
  SHIDANG_RETURN_IF_ERROR(access::RequireCourseOwner(call.principal, stored.course));
  v1::Course updated = stored.course;
  updated.set_state(to);
  std::vector<common::v1::Event> events = {events_.Make(
      to == v1::COURSE_STATE_PUBLISHED ? "training.course_published" : "training.course_closed", "",
      "", dates::FormatDate(clock_.Today()), call.actor, request_id,
      absl::StrCat(summary, "《", updated.title(), "》"), updated)};
  SHIDANG_ASSIGN_OR_RETURN(
      *out, store_.ChangeCourseState(updated, from, WriteOf(call, method, req), std::move(events)));
  return absl::OkStatus();
}

absl::Status Courses::Publish(const CallContext& call, const v1::PublishCourseRequest& req,
                              v1::PublishCourseResponse* resp) {
  return ChangeState(
      call, req, "PublishCourse", req.course_id(), req.request_id(), v1::COURSE_STATE_PUBLISHED,
      {v1::COURSE_STATE_DRAFT, v1::COURSE_STATE_PUBLISHED}, "发布培训课程", resp->mutable_course());
}

absl::Status Courses::Close(const CallContext& call, const v1::CloseCourseRequest& req,
                            v1::CloseCourseResponse* resp) {
  return ChangeState(call, req, "CloseCourse", req.course_id(), req.request_id(),
                     v1::COURSE_STATE_CLOSED,
                     {v1::COURSE_STATE_DRAFT, v1::COURSE_STATE_PUBLISHED, v1::COURSE_STATE_CLOSED},
                     "结束报名", resp->mutable_course());
}

absl::StatusOr<Located> Courses::EnrolledTeacher(const CallContext& call,
                                                 absl::string_view teacher_id) {
  absl::StatusOr<Located> found = Locate(store_, teacher_id);
  if (absl::IsInvalidArgument(found.status())) return found.status();
  SHIDANG_RETURN_IF_ERROR(access::CheckTeacher(call.principal, access::TeacherAction::kEnroll,
                                               teacher_id, found.status(),
                                               found.ok() ? &found->facts() : nullptr));
  return found;
}

absl::Status Courses::Enroll(const CallContext& call, const v1::EnrollRequest& req,
                             v1::EnrollResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(StoredCourse stored, store_.GetCourse(req.course_id()));
  SHIDANG_ASSIGN_OR_RETURN(Located found, EnrolledTeacher(call, req.teacher_id()));
  if (!CourseOpenTo(stored.course, found.county_id)) {
    return InvalidField("teacher_id", "not_open",
                        absl::StrCat("the course is not open to county ", found.county_id));
  }
  if (Departed(found.facts())) {
    return InvalidField("teacher_id", "departed", "the teacher has retired or left");
  }
  v1::Enrollment e;
  e.set_course_id(req.course_id());
  e.set_teacher_id(req.teacher_id());
  e.set_state(v1::ENROLLMENT_STATE_ENROLLED);
  e.set_enrolled_on(dates::FormatDate(clock_.Today()));
  e.set_actor(call.actor);
  std::vector<common::v1::Event> events = {events_.Make(
      "training.enrolled", req.teacher_id(), found.county_id, e.enrolled_on(), call.actor,
      req.request_id(), absl::StrCat("报名培训《", stored.course.title(), "》"), e)};
  SHIDANG_ASSIGN_OR_RETURN(
      auto enrolled,
      store_.Enroll(req.course_id(), e, WriteOf(call, "Enroll", req), std::move(events)));
  *resp->mutable_enrollment() = std::move(enrolled.first);
  resp->set_seats_left(enrolled.second);
  return absl::OkStatus();
}

absl::Status Courses::Withdraw(const CallContext& call, const v1::WithdrawRequest& req,
                               v1::WithdrawResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(StoredCourse stored, store_.GetCourse(req.course_id()));
  SHIDANG_ASSIGN_OR_RETURN(Located found, EnrolledTeacher(call, req.teacher_id()));
  SHIDANG_ASSIGN_OR_RETURN(std::optional<v1::Enrollment> current,
                           store_.GetEnrollment(req.course_id(), req.teacher_id()));
  if (!current.has_value()) {
    return absl::FailedPreconditionError("teacher_id: the teacher is not enrolled in this course");
  }
  v1::Enrollment e = *current;
  e.set_state(v1::ENROLLMENT_STATE_WITHDRAWN);
  e.set_withdrawn_on(dates::FormatDate(clock_.Today()));
  e.set_withdraw_reason(req.reason());
  e.set_actor(call.actor);
  std::vector<common::v1::Event> events = {events_.Make(
      "training.withdrawn", req.teacher_id(), found.county_id, e.withdrawn_on(), call.actor,
      req.request_id(), absl::StrCat("退出培训《", stored.course.title(), "》"), e)};
  SHIDANG_ASSIGN_OR_RETURN(
      *resp->mutable_enrollment(),
      store_.Withdraw(req.course_id(), e, WriteOf(call, "Withdraw", req), std::move(events)));
  return absl::OkStatus();
}

}  // namespace shidang::training

#pragma once

// Courses and enrolment: a centre registers, publishes and closes its courses; teachers (or
// their school admins) enrol and withdraw. The principal-only checks ran at the edge
// (access.h); what needs the course's or teacher's data is checked here.

#include "absl/status/status.h"
#include "services/common/clock.h"
#include "services/common/server.h"
#include "services/training/shared.h"
#include "services/training/store.h"
#include "shidang/training/v1/training.pb.h"

namespace shidang::training {

class Courses {
 public:
  Courses(TrainingStore& store, const Clock& clock, EventMaker& events)
      : store_(store), clock_(clock), events_(events) {}

  absl::Status Register(const CallContext& call, const v1::RegisterCourseRequest& req,
                        v1::RegisterCourseResponse* resp);
  absl::Status Get(const v1::GetCourseRequest& req, v1::GetCourseResponse* resp);
  // `provider`: the only provider listed ("" for all), as the edge decided from the principal.
  absl::Status List(const v1::ListCoursesRequest& req, absl::string_view provider,
                    v1::ListCoursesResponse* resp);
  absl::Status Publish(const CallContext& call, const v1::PublishCourseRequest& req,
                       v1::PublishCourseResponse* resp);
  absl::Status Close(const CallContext& call, const v1::CloseCourseRequest& req,
                     v1::CloseCourseResponse* resp);
  absl::Status Enroll(const CallContext& call, const v1::EnrollRequest& req,
                      v1::EnrollResponse* resp);
  absl::Status Withdraw(const CallContext& call, const v1::WithdrawRequest& req,
                        v1::WithdrawResponse* resp);

 private:
  absl::Status ChangeState(const CallContext& call, const google::protobuf::Message& req,
                           absl::string_view method, absl::string_view course_id,
                           absl::string_view request_id, v1::CourseState to,
                           const std::vector<v1::CourseState>& from, absl::string_view summary,
                           v1::Course* out);
  // The teacher an enrolment names, when the caller may act for them (access.h CheckTeacher).
  absl::StatusOr<Located> EnrolledTeacher(const CallContext& call, absl::string_view teacher_id);

  TrainingStore& store_;
  const Clock& clock_;
  EventMaker& events_;
};

}  // namespace shidang::training

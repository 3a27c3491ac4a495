#pragma once

// The gRPC edge of the training service (360 学时 per 5-year cycle): each method validates what
// needs no data, decides from the principal what needs no data (access.h), calls its use case
// (courses.h, completions.h, records.h, ledger.h, reports.h, policy_use.h) and converts the
// status once (server.h's HandleCall).

#include <memory>

#include "absl/status/status.h"
#include "services/common/clock.h"
#include "services/common/principal.h"
#include "services/common/redis.h"
#include "shidang/common/v1/event.pb.h"
#include "shidang/training/v1/training.grpc.pb.h"

namespace shidang::training {

class TrainingServiceImpl final : public v1::TrainingService::Service {
 public:
  TrainingServiceImpl(redis::Pool& pool, const PrincipalSigner& signer, const Clock& clock);

  grpc::Status RegisterCourse(grpc::ServerContext*, const v1::RegisterCourseRequest*,
                              v1::RegisterCourseResponse*) override;
  grpc::Status GetCourse(grpc::ServerContext*, const v1::GetCourseRequest*,
                         v1::GetCourseResponse*) override;
  grpc::Status ListCourses(grpc::ServerContext*, const v1::ListCoursesRequest*,
                           v1::ListCoursesResponse*) override;
  grpc::Status PublishCourse(grpc::ServerContext*, const v1::PublishCourseRequest*,
                             v1::PublishCourseResponse*) override;
  grpc::Status CloseCourse(grpc::ServerContext*, const v1::CloseCourseRequest*,
                           v1::CloseCourseResponse*) override;
  grpc::Status Enroll(grpc::ServerContext*, const v1::EnrollRequest*, v1::EnrollResponse*) override;
  grpc::Status Withdraw(grpc::ServerContext*, const v1::WithdrawRequest*,
                        v1::WithdrawResponse*) override;
  grpc::Status RecordCompletions(grpc::ServerContext*, const v1::RecordCompletionsRequest*,
                                 v1::RecordCompletionsResponse*) override;
  grpc::Status LogTraining(grpc::ServerContext*, const v1::LogTrainingRequest*,
                           v1::LogTrainingResponse*) override;
  grpc::Status ReviewTrainingRecord(grpc::ServerContext*, const v1::ReviewTrainingRecordRequest*,
                                    v1::ReviewTrainingRecordResponse*) override;
  grpc::Status ListTrainingRecords(grpc::ServerContext*, const v1::ListTrainingRecordsRequest*,
                                   v1::ListTrainingRecordsResponse*) override;
  grpc::Status ReverseEntry(grpc::ServerContext*, const v1::ReverseEntryRequest*,
                            v1::ReverseEntryResponse*) override;
  grpc::Status ListLedger(grpc::ServerContext*, const v1::ListLedgerRequest*,
                          v1::ListLedgerResponse*) override;
  grpc::Status SetTrainingPolicy(grpc::ServerContext*, const v1::SetTrainingPolicyRequest*,
                                 v1::SetTrainingPolicyResponse*) override;
  grpc::Status GetTrainingPolicy(grpc::ServerContext*, const v1::GetTrainingPolicyRequest*,
                                 v1::GetTrainingPolicyResponse*) override;
  grpc::Status GetTrainingSummary(grpc::ServerContext*, const v1::GetTrainingSummaryRequest*,
                                  v1::GetTrainingSummaryResponse*) override;
  grpc::Status GetComplianceReport(grpc::ServerContext*, const v1::GetComplianceReportRequest*,
                                   v1::GetComplianceReportResponse*) override;
  grpc::Status ListPendingSelfReports(grpc::ServerContext*,
                                      const v1::ListPendingSelfReportsRequest*,
                                      v1::ListPendingSelfReportsResponse*) override;

  // Keeps the local copy of a teacher's facts from the profile service's events (which event
  // carries which fact: profile_events.h). Idempotent per event id. Used by the event consumer
  // (consumer group "training" on "profile:streams").
  absl::Status ApplyProfileEvent(const common::v1::Event& event);

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace shidang::training

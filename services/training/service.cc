#include "services/training/service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/csv.h"
#include "services/common/log.h"
#include "services/common/policy.h"
#include "services/common/server.h"
#include "services/common/status.h"
#include "services/training/access.h"
#include "services/training/completions.h"
#include "services/training/courses.h"
#include "services/training/ledger.h"
#include "services/training/pending.h"
#include "services/training/policy_use.h"
#include "services/training/profile_events.h"
#include "services/training/records.h"
#include "services/training/reports.h"
#include "services/training/rules.h"
#include "services/training/shared.h"
#include "services/training/store.h"
#include "services/training/totals.h"

namespace shidang::training {
namespace {

using access::TeacherAction;
using common::v1::Principal;

constexpr char kMethodPrefix[] = "shidang.training.v1.TrainingService/";
constexpr int kMaxCompletionRows = 5000;

}  // namespace

// The use cases and what they share; each gRPC method below validates what needs no data,
// decides from the principal what needs no data (access.h), and calls its use case.
class TrainingServiceImpl::Impl {
 public:
  Impl(redis::Pool& pool, const PrincipalSigner& signer, const Clock& clock)
      : signer_(signer),
        answers_(pool),
        store_(pool),
        events_(clock),
        policy_(pool, clock),
        totals_(store_, clock, events_, policy_),
        courses_(store_, clock, events_),
        completions_(store_, clock, events_, policy_, totals_),
        records_(store_, clock, events_, policy_, totals_),
        ledger_(store_, clock, events_, policy_, totals_),
        reports_(store_, clock, policy_, totals_),
        pending_(store_),
        profile_(store_, totals_) {
    absl::Status labels = csv::RegisterEnumLabels("shidang.training.v1.TrainingStatus",
                                                  {{v1::TRAINING_STATUS_COMPLETE, "已完成"},
                                                   {v1::TRAINING_STATUS_ON_TRACK, "进度正常"},
                                                   {v1::TRAINING_STATUS_AT_RISK, "有风险"},
                                                   {v1::TRAINING_STATUS_BEHIND, "进度落后"}});
    if (!labels.ok()) LogError("training status labels: ", labels.ToString());
  }

  // A retried request_id is answered from answers_ before `body` runs (replay.h).
  template <typename Body>
  grpc::Status Handle(grpc::ServerContext* ctx, absl::string_view method,
                      const google::protobuf::Message& req, google::protobuf::Message* resp,
                      Body body) {
    return HandleCall(ctx, absl::StrCat(kMethodPrefix, method), signer_, answers_, req, resp, body);
  }

  const PrincipalSigner& signer_;
  AnswerStore answers_;
  TrainingStore store_;
  EventMaker events_;
  PolicyUse policy_;
  Totals totals_;
  Courses courses_;
  Completions completions_;
  Records records_;
  Ledger ledger_;
  Reports reports_;
  PendingReports pending_;
  ProfileFollower profile_;
};

TrainingServiceImpl::TrainingServiceImpl(redis::Pool& pool, const PrincipalSigner& signer,
                                         const Clock& clock)
    : impl_(std::make_shared<Impl>(pool, signer, clock)) {}

absl::Status TrainingServiceImpl::ApplyProfileEvent(const common::v1::Event& event) {
  return impl_->profile_.Apply(event);
}

// ---- courses and enrolment

grpc::Status TrainingServiceImpl::RegisterCourse(grpc::ServerContext* ctx,
                                                 const v1::RegisterCourseRequest* req,
                                                 v1::RegisterCourseResponse* resp) {
  // Its owner check needs the course's provider, which the course itself carries.
  return impl_->Handle(ctx, "RegisterCourse", *req, resp, [&](const CallContext& call) {
    return impl_->courses_.Register(call, *req, resp);
  });
}

grpc::Status TrainingServiceImpl::GetCourse(grpc::ServerContext* ctx,
                                            const v1::GetCourseRequest* req,
                                            v1::GetCourseResponse* resp) {
  return impl_->Handle(ctx, "GetCourse", *req, resp, [&](const CallContext& call) -> absl::Status {
    SHIDANG_RETURN_IF_ERROR(access::PrecheckCourseRead(call.principal, req->course_id()));
    return impl_->courses_.Get(*req, resp);
  });
}

grpc::Status TrainingServiceImpl::ListCourses(grpc::ServerContext* ctx,
                                              const v1::ListCoursesRequest* req,
                                              v1::ListCoursesResponse* resp) {
  return impl_->Handle(
      ctx, "ListCourses", *req, resp, [&](const CallContext& call) -> absl::Status {
        const Principal& p = call.principal;
        std::string provider = req->provider_id();
        if (p.role() == common::v1::ROLE_TRAINING_CENTER) {
          if (!provider.empty() && provider != p.provider_id()) {
            return access::Denied(p, absl::StrCat("list the courses of provider ", provider));
          }
          provider = p.provider_id();
        }
        return impl_->courses_.List(*req, provider, resp);
      });
}

grpc::Status TrainingServiceImpl::PublishCourse(grpc::ServerContext* ctx,
                                                const v1::PublishCourseRequest* req,
                                                v1::PublishCourseResponse* resp) {
  return impl_->Handle(
      ctx, "PublishCourse", *req, resp, [&](const CallContext& call) -> absl::Status {
        SHIDANG_RETURN_IF_ERROR(access::PrecheckCourseOwner(call.principal, req->course_id()));
        return impl_->courses_.Publish(call, *req, resp);
      });
}

grpc::Status TrainingServiceImpl::CloseCourse(grpc::ServerContext* ctx,
                                              const v1::CloseCourseRequest* req,
                                              v1::CloseCourseResponse* resp) {
  return impl_->Handle(
      ctx, "CloseCourse", *req, resp, [&](const CallContext& call) -> absl::Status {
        SHIDANG_RETURN_IF_ERROR(access::PrecheckCourseOwner(call.principal, req->course_id()));
        return impl_->courses_.Close(call, *req, resp);
      });
}

grpc::Status TrainingServiceImpl::Enroll(grpc::ServerContext* ctx, const v1::EnrollRequest* req,
                                         v1::EnrollResponse* resp) {
  return impl_->Handle(ctx, "Enroll", *req, resp, [&](const CallContext& call) -> absl::Status {
    SHIDANG_RETURN_IF_ERROR(
        access::PrecheckTeacher(call.principal, TeacherAction::kEnroll, req->teacher_id()));
    return impl_->courses_.Enroll(call, *req, resp);
  });
}

grpc::Status TrainingServiceImpl::Withdraw(grpc::ServerContext* ctx, const v1::WithdrawRequest* req,
                                           v1::WithdrawResponse* resp) {
  return impl_->Handle(ctx, "Withdraw", *req, resp, [&](const CallContext& call) -> absl::Status {
    SHIDANG_RETURN_IF_ERROR(
        access::PrecheckTeacher(call.principal, TeacherAction::kEnroll, req->teacher_id()));
    return impl_->courses_.Withdraw(call, *req, resp);
  });
}

// ---- completions

grpc::Status TrainingServiceImpl::RecordCompletions(grpc::ServerContext* ctx,
                                                    const v1::RecordCompletionsRequest* req,
                                                    v1::RecordCompletionsResponse* resp) {
  return impl_->Handle(
      ctx, "RecordCompletions", *req, resp, [&](const CallContext& call) -> absl::Status {
        if (req->rows().empty()) return InvalidField("rows", "required", "at least one row");
        if (req->rows_size() > kMaxCompletionRows) {
          return InvalidField("rows", "max_rows",
                              absl::StrCat("at most ", kMaxCompletionRows, " rows per batch; got ",
                                           req->rows_size()));
        }
        SHIDANG_RETURN_IF_ERROR(access::PrecheckCourseOwner(call.principal, req->course_id()));
        return impl_->completions_.Record(call, *req, resp);
      });
}

// ---- teachers' own records

grpc::Status TrainingServiceImpl::LogTraining(grpc::ServerContext* ctx,
                                              const v1::LogTrainingRequest* req,
                                              v1::LogTrainingResponse* resp) {
  return impl_->Handle(
      ctx, "LogTraining", *req, resp, [&](const CallContext& call) -> absl::Status {
        SHIDANG_RETURN_IF_ERROR(
            access::PrecheckTeacher(call.principal, TeacherAction::kLog, req->teacher_id()));
        return impl_->records_.Log(call, *req, resp);
      });
}

grpc::Status TrainingServiceImpl::ReviewTrainingRecord(grpc::ServerContext* ctx,
                                                       const v1::ReviewTrainingRecordRequest* req,
                                                       v1::ReviewTrainingRecordResponse* resp) {
  return impl_->Handle(
      ctx, "ReviewTrainingRecord", *req, resp, [&](const CallContext& call) -> absl::Status {
        // The record's id names its county (checked here before any lookup); the county that
        // holds it now differs only when its teacher transferred and took it along.
        SHIDANG_RETURN_IF_ERROR(TrainingStore::CountyOfRecord(req->record_id()).status());
        if (req->decision() != v1::REVIEW_DECISION_APPROVE &&
            req->decision() != v1::REVIEW_DECISION_REJECT) {
          return InvalidField("decision", "required", "APPROVE or REJECT");
        }
        if (req->decision() == v1::REVIEW_DECISION_REJECT && req->reason().empty()) {
          return InvalidField("reason", "required",
                              "required when rejecting: tell the teacher why");
        }
        SHIDANG_ASSIGN_OR_RETURN(std::string county,
                                 impl_->store_.CountyHoldingRecord(req->record_id()));
        SHIDANG_RETURN_IF_ERROR(access::RequireReview(call.principal, county));
        return impl_->records_.Review(call, *req, county, resp);
      });
}

grpc::Status TrainingServiceImpl::ListTrainingRecords(grpc::ServerContext* ctx,
                                                      const v1::ListTrainingRecordsRequest* req,
                                                      v1::ListTrainingRecordsResponse* resp) {
  return impl_->Handle(
      ctx, "ListTrainingRecords", *req, resp, [&](const CallContext& call) -> absl::Status {
        SHIDANG_RETURN_IF_ERROR(
            access::PrecheckTeacher(call.principal, TeacherAction::kRead, req->teacher_id()));
        return impl_->records_.List(call, *req, resp);
      });
}

// ---- the ledger and summaries

grpc::Status TrainingServiceImpl::ReverseEntry(grpc::ServerContext* ctx,
                                               const v1::ReverseEntryRequest* req,
                                               v1::ReverseEntryResponse* resp) {
  return impl_->Handle(
      ctx, "ReverseEntry", *req, resp, [&](const CallContext& call) -> absl::Status {
        if (req->entry_id().empty()) return InvalidField("entry_id", "required", "required");
        if (req->reason().empty()) {
          return InvalidField("reason", "required", "required: why the credit was wrong");
        }
        SHIDANG_RETURN_IF_ERROR(
            access::PrecheckTeacher(call.principal, TeacherAction::kCorrect, req->teacher_id()));
        return impl_->ledger_.Reverse(call, *req, resp);
      });
}

grpc::Status TrainingServiceImpl::ListLedger(grpc::ServerContext* ctx,
                                             const v1::ListLedgerRequest* req,
                                             v1::ListLedgerResponse* resp) {
  return impl_->Handle(ctx, "ListLedger", *req, resp, [&](const CallContext& call) -> absl::Status {
    SHIDANG_RETURN_IF_ERROR(
        access::PrecheckTeacher(call.principal, TeacherAction::kRead, req->teacher_id()));
    return impl_->ledger_.List(call, *req, resp);
  });
}

grpc::Status TrainingServiceImpl::GetTrainingSummary(grpc::ServerContext* ctx,
                                                     const v1::GetTrainingSummaryRequest* req,
                                                     v1::GetTrainingSummaryResponse* resp) {
  return impl_->Handle(
      ctx, "GetTrainingSummary", *req, resp, [&](const CallContext& call) -> absl::Status {
        SHIDANG_RETURN_IF_ERROR(
            access::PrecheckTeacher(call.principal, TeacherAction::kRead, req->teacher_id()));
        return impl_->ledger_.ReadSummary(call, *req, resp);
      });
}

// ---- reports

grpc::Status TrainingServiceImpl::GetComplianceReport(grpc::ServerContext* ctx,
                                                      const v1::GetComplianceReportRequest* req,
                                                      v1::GetComplianceReportResponse* resp) {
  return impl_->Handle(
      ctx, "GetComplianceReport", *req, resp, [&](const CallContext& call) -> absl::Status {
        if (!IsRegionCode(req->county_id())) {
          return InvalidField("county_id", "region_code",
                              "must be a 6-digit GB/T 2260 code of a county, city or province");
        }
        if (req->format() != v1::REPORT_FORMAT_UNSPECIFIED &&
            req->format() != v1::REPORT_FORMAT_CSV) {
          return InvalidField("format", "enum", "REPORT_FORMAT_UNSPECIFIED or REPORT_FORMAT_CSV");
        }
        SHIDANG_RETURN_IF_ERROR(
            access::RequireReport(call.principal, req->county_id(), req->school_id()));
        return impl_->reports_.Compliance(*req, resp);
      });
}

grpc::Status TrainingServiceImpl::ListPendingSelfReports(
    grpc::ServerContext* ctx, const v1::ListPendingSelfReportsRequest* req,
    v1::ListPendingSelfReportsResponse* resp) {
  return impl_->Handle(
      ctx, "ListPendingSelfReports", *req, resp, [&](const CallContext& call) -> absl::Status {
        if (!IsCountyCode(req->county_id())) {
          return InvalidField("county_id", "county_code",
                              "must be a 6-digit GB/T 2260 code of a county");
        }
        // From the principal alone, before anything is read (a school admin: their own school).
        SHIDANG_RETURN_IF_ERROR(
            access::RequireReport(call.principal, req->county_id(), req->school_id()));
        return impl_->pending_.List(call, *req, resp);
      });
}

// ---- policy

grpc::Status TrainingServiceImpl::SetTrainingPolicy(grpc::ServerContext* ctx,
                                                    const v1::SetTrainingPolicyRequest* req,
                                                    v1::SetTrainingPolicyResponse* resp) {
  return impl_->Handle(
      ctx, "SetTrainingPolicy", *req, resp, [&](const CallContext& call) -> absl::Status {
        SHIDANG_RETURN_IF_ERROR(policy::ValidateRegion(req->level(), req->region(), "region"));
        SHIDANG_RETURN_IF_ERROR(ValidateTrainingPolicy(req->training(), "training"));
        SHIDANG_RETURN_IF_ERROR(
            access::RequirePolicyWrite(call.principal, req->level(), req->region()));
        return impl_->policy_.SetTrainingPolicy(call, *req, resp);
      });
}

grpc::Status TrainingServiceImpl::GetTrainingPolicy(grpc::ServerContext* ctx,
                                                    const v1::GetTrainingPolicyRequest* req,
                                                    v1::GetTrainingPolicyResponse* resp) {
  // Every role may read the rules that apply to them.
  return impl_->Handle(ctx, "GetTrainingPolicy", *req, resp, [&](const CallContext&) {
    return impl_->policy_.GetTrainingPolicy(*req, resp);
  });
}

}  // namespace shidang::training

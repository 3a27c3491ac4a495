#include "services/training/pending.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/scope.h"
#include "services/common/status.h"
#include "services/training/shared.h"

namespace shidang::training {
namespace {

// The review queue's page: larger than other listings' (a county's queue is read whole by HR).
constexpr int kDefaultQueuePage = 100;

absl::Status KnownCounty(TrainingStore& store, const common::v1::Principal& p,
                         absl::string_view county) {
  SHIDANG_ASSIGN_OR_RETURN(std::vector<std::string> counties, store.Counties());
  if (std::find(counties.begin(), counties.end(), county) != counties.end()) {
    return absl::OkStatus();
  }
  if (scope::IsTrusted(p.role())) {
    return absl::NotFoundError(absl::StrCat("county ", county, " has no teachers"));
  }
  return scope::Denied(p, absl::StrCat("list the self-reports of county ", county));
}

}  // namespace

absl::Status PendingReports::List(const CallContext& call,
                                  const v1::ListPendingSelfReportsRequest& req,
                                  v1::ListPendingSelfReportsResponse* resp) {
  int page_size = kDefaultQueuePage;
  if (req.page().page_size() != 0) {
    SHIDANG_ASSIGN_OR_RETURN(page_size, PageSize(req.page()));
  }
  SHIDANG_ASSIGN_OR_RETURN(size_t offset, PageOffset(req.page()));
  SHIDANG_RETURN_IF_ERROR(KnownCounty(store_, call.principal, req.county_id()));
  SHIDANG_ASSIGN_OR_RETURN(std::vector<PendingEntry> all,
                           store_.PendingSelfReports(req.county_id()));
  std::vector<PendingEntry> matching;
  for (PendingEntry& e : all) {
    if (req.school_id().empty() || e.school_id == req.school_id()) {
      matching.push_back(std::move(e));
    }
  }
  std::vector<PendingEntry> page;
  Paginate(matching, offset, page_size, resp->mutable_page(),
           [&](const PendingEntry& e) { page.push_back(e); });
  SHIDANG_ASSIGN_OR_RETURN(std::vector<v1::TrainingRecord> records,
                           store_.PendingRecords(req.county_id(), page));
  for (size_t i = 0; i < page.size(); ++i) {
    // Reviewed between the index read and this one: gone from the queue.
    if (records[i].record_id().empty() ||
        records[i].state() != v1::TRAINING_RECORD_STATE_AWAITING_REVIEW) {
      continue;
    }
    v1::PendingSelfReport* out = resp->add_reports();
    out->set_teacher_id(page[i].teacher_id);
    out->set_teacher_name(page[i].name);
    out->set_school_id(page[i].school_id);
    out->set_submitted_at_ms(page[i].submitted_ms);
    *out->mutable_record() = std::move(records[i]);
  }
  return absl::OkStatus();
}

}  // namespace shidang::training

#pragma once

// The compliance report: where the teachers of a region (or one school) stand, counted from
// each teacher's stored report row where it holds and recounted where it does not. The caller's
// scope was checked at the edge (access.h RequireReport: it needs no data).

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "services/common/clock.h"
#include "services/training/policy_use.h"
#include "services/training/rules.h"
#include "services/training/store.h"
#include "services/training/totals.h"
#include "shidang/training/v1/training.pb.h"

namespace shidang::training {

class Reports {
 public:
  Reports(TrainingStore& store, const Clock& clock, PolicyUse& policy, Totals& totals)
      : store_(store), clock_(clock), policy_(policy), totals_(totals) {}

  absl::Status Compliance(const v1::GetComplianceReportRequest& req,
                          v1::GetComplianceReportResponse* resp);

  // One teacher's line of the report.
  struct Line {
    std::string teacher_id;
    std::string name;
    std::string school_id;
    std::string county_id;
    Standing standing;
  };

 private:
  // The counties the report's region names (itself when it is a county).
  absl::StatusOr<std::vector<std::string>> CountiesOf(absl::string_view region);
  // Where each teacher of the county (of one school, when set) stands on as_of: from each
  // teacher's report row (one small read each) where it holds; the others are recounted from
  // their ledgers, and their totals stored again so the next report finds them (a policy
  // version added, a cycle turned over, totals dropped by a write that could not advance them).
  absl::Status StandingsOf(absl::string_view county, absl::string_view school_id,
                           absl::CivilDay as_of, std::vector<Line>* out);
  // The teachers whose stored rows did not hold, recounted in batches.
  absl::Status AddRecounted(absl::string_view county, absl::string_view school_id,
                            absl::CivilDay as_of, const LoadedPolicy& policy,
                            const std::vector<std::string>& recount, std::vector<Line>* out);

  TrainingStore& store_;
  const Clock& clock_;
  PolicyUse& policy_;
  Totals& totals_;
};

}  // namespace shidang::training

#pragma once

// The write that puts a new teacher on file: shared by CreateTeacher and the roster import.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/server.h"
#include "services/profile/service_deps.h"
#include "services/profile/store.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::profile {

// An ID-card number already sealed and indexed (a roster seals all its new rows at once).
struct SealedIdCard {
  std::string sealed;
  std::string blind_index;
};

// The title and backbone tier a new teacher starts with, each recorded as a timeline entry when
// set; the details (who conferred it, ...) are optional.
struct InitialRecords {
  common::v1::ProfessionalTitle title = common::v1::PROFESSIONAL_TITLE_UNSPECIFIED;
  absl::string_view title_conferred_on;
  const v1::TitleConferredDetail* title_detail = nullptr;
  common::v1::BackboneTier tier = common::v1::BACKBONE_TIER_UNSPECIFIED;
  absl::string_view tier_designated_on;
  const v1::BackboneDesignatedDetail* tier_detail = nullptr;
};

// The state, entries (joined, then the initial title and tier), claims (ID-card number, national
// teacher id) and index memberships of a new teacher whose county, school and id are set. The
// ID-card number is sealed here unless `sealed` carries it sealed already. Entry ids derive from
// `seed`.
absl::StatusOr<TeacherWrite> NewTeacherWrite(ServiceDeps& deps, const CallContext& call,
                                             v1::Teacher teacher, absl::string_view request_id,
                                             absl::string_view seed, const InitialRecords& initial,
                                             SealedIdCard* sealed = nullptr);

}  // namespace shidang::profile

#include "services/profile/new_teacher.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/profile/entries_and_events.h"
#include "services/profile/rules.h"

namespace shidang::profile {
namespace {

// The ID-card and national-id claims of a new teacher, sealing the number unless it is sealed.
absl::Status AddClaims(ServiceDeps& deps, const v1::Teacher& teacher, SealedIdCard* sealed,
                       TeacherWrite* w) {
  const std::string& county = teacher.county_id();
  if (sealed != nullptr) {
    w->sealed_id_card = std::move(sealed->sealed);
    w->claims.push_back(
        {ProfileStore::IdCardIndexKey(county, sealed->blind_index), "id_card_number"});
  } else {
    std::string number = NormalizeIdCardNumber(teacher.id_card_number());
    SHIDANG_ASSIGN_OR_RETURN(w->sealed_id_card, deps.vault.Seal(number));
    w->claims.push_back(
        {ProfileStore::IdCardIndexKey(county, deps.vault.BlindIndex(number)), "id_card_number"});
  }
  if (!teacher.national_teacher_id().empty()) {
    w->claims.push_back({ProfileStore::NationalIdKey(county, teacher.national_teacher_id()),
                         "national_teacher_id"});
  }
  return absl::OkStatus();
}

// The initial title and backbone tier, as timeline entries.
void AddInitialEntries(ServiceDeps& deps, const CallContext& call, absl::string_view request_id,
                       absl::string_view seed, const InitialRecords& initial, TeacherWrite* w) {
  if (initial.title != common::v1::PROFESSIONAL_TITLE_UNSPECIFIED) {
    v1::TimelineEntry e =
        StampedEntry(deps.clock, v1::TIMELINE_ENTRY_KIND_TITLE_CONFERRED, w->teacher_id,
                     initial.title_conferred_on, call, request_id, absl::StrCat(seed, "/title"));
    if (initial.title_detail) *e.mutable_title_conferred() = *initial.title_detail;
    e.mutable_title_conferred()->set_title(initial.title);
    e.set_summary(
        absl::StrCat("职称：", LabelOf(common::v1::ProfessionalTitle_descriptor(), initial.title)));
    w->entries.push_back(std::move(e));
  }
  if (initial.tier != common::v1::BACKBONE_TIER_UNSPECIFIED) {
    v1::TimelineEntry e =
        StampedEntry(deps.clock, v1::TIMELINE_ENTRY_KIND_BACKBONE_DESIGNATED, w->teacher_id,
                     initial.tier_designated_on, call, request_id, absl::StrCat(seed, "/backbone"));
    if (initial.tier_detail) *e.mutable_backbone_designated() = *initial.tier_detail;
    e.mutable_backbone_designated()->set_tier(initial.tier);
    e.set_summary(absl::StrCat("骨干教师认定：",
                               LabelOf(common::v1::BackboneTier_descriptor(), initial.tier)));
    w->entries.push_back(std::move(e));
  }
}

}  // namespace

absl::StatusOr<TeacherWrite> NewTeacherWrite(ServiceDeps& deps, const CallContext& call,
                                             v1::Teacher teacher, absl::string_view request_id,
                                             absl::string_view seed, const InitialRecords& initial,
                                             SealedIdCard* sealed) {
  TeacherWrite w;
  w.teacher_id = teacher.teacher_id();
  w.expect = TeacherWrite::Expect::kAbsent;
  SHIDANG_RETURN_IF_ERROR(AddClaims(deps, teacher, sealed, &w));
  const std::string& county = teacher.county_id();
  w.add_to_sets.push_back(ProfileStore::SchoolIndexKey(county, teacher.school_id()));
  w.add_to_sets.push_back(ProfileStore::TeachersKey(county));
  if (teacher.school_joined_on().empty()) teacher.set_school_joined_on(teacher.hire_date());
  teacher.clear_id_card_number();

  v1::TimelineEntry joined =
      StampedEntry(deps.clock, v1::TIMELINE_ENTRY_KIND_SCHOOL_JOINED, w.teacher_id,
                   teacher.school_joined_on(), call, request_id, absl::StrCat(seed, "/joined"));
  joined.mutable_school_change()->set_to_school_id(teacher.school_id());
  joined.set_summary(DefaultSummary(joined));
  w.entries.push_back(std::move(joined));
  AddInitialEntries(deps, call, request_id, seed, initial, &w);
  w.teacher = std::move(teacher);
  return w;
}

}  // namespace shidang::profile

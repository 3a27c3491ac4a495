#include "services/profile/teacher_view.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/dates.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/profile/rules.h"

namespace shidang::profile {

absl::StatusOr<absl::CivilDay> AsOf(const Clock& clock, absl::string_view as_of) {
  if (as_of.empty()) return clock.Today();
  return dates::ParseDate(as_of, "as_of");
}

absl::StatusOr<StoredTeacher> Locate(ProfileStore& store, absl::string_view teacher_id) {
  if (teacher_id.empty()) return InvalidField("teacher_id", "required", "required");
  SHIDANG_ASSIGN_OR_RETURN(std::string county, store.HomeCounty(teacher_id));
  return store.GetTeacher(county, teacher_id);
}

absl::StatusOr<StoredTeacher> LocateFor(ProfileStore& store, const CallContext& call,
                                        absl::string_view teacher_id, TeacherAccess access) {
  if (teacher_id.empty()) return InvalidField("teacher_id", "required", "required");
  SHIDANG_RETURN_IF_ERROR(PrecheckTeacherAccess(call.principal, teacher_id, access));
  absl::StatusOr<StoredTeacher> found = Locate(store, teacher_id);
  if (absl::IsNotFound(found.status())) {
    return MissingTeacherAnswer(call.principal, teacher_id, access, found.status());
  }
  SHIDANG_RETURN_IF_ERROR(found.status());
  SHIDANG_RETURN_IF_ERROR(RequireTeacherAccess(call.principal, found->teacher, access));
  return found;
}

absl::StatusOr<v1::Teacher> TeacherView(ServiceDeps& deps, const StoredTeacher& stored,
                                        absl::CivilDay as_of, const CallContext& call,
                                        std::vector<IdCardReadOf>* deferred_reads) {
  v1::Teacher t = stored.teacher;
  SHIDANG_ASSIGN_OR_RETURN(common::v1::ResolvedPolicy resolved,
                           deps.policies.Resolve(t.county_id(), as_of));
  const common::v1::Policy& policy = resolved.policy();
  SHIDANG_ASSIGN_OR_RETURN(DerivedValues derived,
                           DeriveCurrentValues(stored.timeline, policy.ethics(), as_of));
  ApplyDerivedValues(derived, &t);
  absl::StatusOr<absl::CivilDay> birth = dates::ParseDate(t.birth_date());
  if (birth.ok()) {
    absl::StatusOr<absl::CivilDay> retire = RetirementDate(*birth, t.sex(), policy.retirement());
    if (retire.ok()) t.set_expected_retirement_date(dates::FormatDate(*retire));
  }
  t.set_etag(std::to_string(stored.version));
  t.clear_id_card_number();
  if (!stored.sealed_id_card.empty()) {
    SHIDANG_ASSIGN_OR_RETURN(std::string number, deps.vault.Open(stored.sealed_id_card));
    t.set_id_card_masked(MaskIdCard(number));
    if (MaySeeIdCard(call.principal, t)) {
      t.set_id_card_number(number);
      // The audit line names who read whose number, never the number.
      LogInfo(absl::StrCat("audit id_card_unmasked actor=", call.actor, " teacher=", t.teacher_id(),
                           " request_id=", call.request_id));
      IdCardReadOf read{t.county_id(), t.teacher_id()};
      if (deferred_reads != nullptr) {
        deferred_reads->push_back(std::move(read));
      } else {
        SHIDANG_RETURN_IF_ERROR(RecordIdCardReads(deps, call, {std::move(read)}));
      }
    }
  }
  return t;
}

}  // namespace shidang::profile

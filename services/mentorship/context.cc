#include "services/mentorship/context.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/dates.h"
#include "services/common/digest.h"
#include "services/common/status.h"

namespace shidang::mentorship {

using common::v1::Principal;

namespace {

constexpr size_t kMaxPageOffset = size_t{1} << 30;

bool IsSchoolAdminOf(const Principal& p, absl::string_view school_id) {
  return p.role() == common::v1::ROLE_SCHOOL_ADMIN && !p.school_id().empty() &&
         p.school_id() == school_id;
}

}  // namespace

bool CoversCounty(const Principal& p, absl::string_view county_id) {
  return scope::CoversRegion(p, county_id);
}

bool MayReadPairing(const Principal& p, const v1::Pairing& pairing) {
  if (CoversCounty(p, pairing.county_id())) return true;
  if (p.role() == common::v1::ROLE_TEACHER &&
      (p.subject() == pairing.mentee_id() || p.subject() == pairing.mentor_id())) {
    return true;
  }
  return IsSchoolAdminOf(p, pairing.mentee_school_id()) ||
         IsSchoolAdminOf(p, pairing.mentor_school_id());
}

absl::Status RequireManage(const Principal& p, absl::string_view county_id, v1::PairingKind kind,
                           v1::PairingRole role, absl::string_view mentee_school_id,
                           absl::string_view what) {
  if (CoversCounty(p, county_id)) return absl::OkStatus();
  if (IsSchoolAdminOf(p, mentee_school_id) && kind != v1::PAIRING_KIND_URBAN_RURAL &&
      role == v1::PAIRING_ROLE_TEACHING) {
    return absl::OkStatus();
  }
  if (p.role() == common::v1::ROLE_SCHOOL_ADMIN && IsSchoolAdminOf(p, mentee_school_id)) {
    return Denied(p, absl::StrCat(what,
                                  " (a school admin pairs TEACHING mentors only; HR pairs "
                                  "SECOND mentors and urban-rural pairs)"));
  }
  return Denied(p, what);
}

absl::Status RequireCountyRead(const Principal& p, absl::string_view county_id,
                               absl::string_view school_id, absl::string_view what) {
  if (CoversCounty(p, county_id)) return absl::OkStatus();
  if (IsSchoolAdminOf(p, school_id)) return absl::OkStatus();
  if (p.role() == common::v1::ROLE_SCHOOL_ADMIN && school_id.empty()) {
    return Denied(p, absl::StrCat(what, " of all of county ", county_id,
                                  "; name your own school in school_id"));
  }
  return Denied(p, absl::StrCat(what, " of county ", county_id,
                                school_id.empty() ? "" : absl::StrCat(" school ", school_id)));
}

absl::Status CheckCountyId(absl::string_view county_id, absl::string_view field) {
  if (county_id.size() == 6 &&
      county_id.find_first_not_of("0123456789") == absl::string_view::npos &&
      !absl::EndsWith(county_id, "00")) {
    return absl::OkStatus();
  }
  return InvalidField(field, "county_code",
                      "must be a county's 6-digit GB/T 2260 code (not ending in 00)");
}

absl::StatusOr<absl::CivilDay> DayOrToday(const Clock& clock, absl::string_view text,
                                          absl::string_view field) {
  if (text.empty()) return clock.Today();
  absl::StatusOr<absl::CivilDay> day = dates::ParseDate(text, field);
  if (!day.ok()) return InvalidField(field, "date_format", "must be a date YYYY-MM-DD");
  return *day;
}

absl::StatusOr<int> PageSize(const common::v1::PageRequest& page, int default_size, int max_size) {
  if (page.page_size() < 0 || page.page_size() > max_size) {
    return InvalidField("page.page_size", "range",
                        absl::StrCat("must be 0 (default ", default_size, ") to ", max_size));
  }
  return page.page_size() == 0 ? default_size : page.page_size();
}

absl::StatusOr<size_t> PageOffset(const common::v1::PageRequest& page) {
  if (page.page_token().empty()) return 0;
  size_t offset = 0;
  // Tokens are offsets below any listing's size; a larger one would wrap offset + page size.
  if (!absl::SimpleAtoi(page.page_token(), &offset) || offset > kMaxPageOffset) {
    return InvalidField("page.page_token", "page_token", "not a token this listing gave");
  }
  return offset;
}

void FillPage(size_t offset, int size, size_t total, common::v1::PageInfo* info) {
  info->set_total_size(static_cast<int64_t>(total));
  const size_t next = offset + static_cast<size_t>(size);
  if (next < total) info->set_next_page_token(absl::StrCat(next));
}

std::string MakeId(absl::string_view prefix, absl::string_view county_id, absl::string_view actor,
                   absl::string_view method, absl::string_view request_id) {
  const std::string seed =
      request_id.empty() ? "" : absl::StrCat(actor, "\x1f", method, "\x1f", request_id);
  return absl::StrCat(prefix, county_id, "-", HexId(seed, 16));
}

absl::StatusOr<LocatedTeacher> LocateTeacher(Deps& deps, absl::string_view teacher_id,
                                             absl::string_view field) {
  if (teacher_id.empty()) return InvalidField(field, "required", "a teacher id");
  absl::StatusOr<std::string> county = deps.store.TeacherCounty(teacher_id);
  if (absl::IsNotFound(county.status())) {
    return absl::NotFoundError(absl::StrCat(field, ": no teacher ", teacher_id));
  }
  SHIDANG_RETURN_IF_ERROR(county.status());
  SHIDANG_ASSIGN_OR_RETURN(std::optional<v1::TeacherCopy> teacher,
                           deps.store.GetTeacher(*county, teacher_id));
  if (!teacher.has_value()) {
    return absl::NotFoundError(absl::StrCat(field, ": no teacher ", teacher_id));
  }
  return LocatedTeacher{*county, *std::move(teacher)};
}

}  // namespace shidang::mentorship

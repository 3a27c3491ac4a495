#include "services/profile/request_checks.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/profile/rules.h"

namespace shidang::profile {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;

}  // namespace

bool IsCountyCode(absl::string_view code) {
  return code.size() == 6 && code.find_first_not_of("0123456789") == absl::string_view::npos &&
         !absl::EndsWith(code, "00");
}

absl::Status CheckCountyId(absl::string_view county_id, absl::string_view field) {
  if (!IsCountyCode(county_id)) {
    return InvalidField(field, "county_code",
                        "must be a county's 6-digit GB/T 2260 code (not ending in 00)");
  }
  return absl::OkStatus();
}

absl::StatusOr<int> PageSize(const common::v1::PageRequest& page) {
  if (page.page_size() < 0 || page.page_size() > kMaxPageSize) {
    return InvalidField(
        "page.page_size", "range",
        absl::StrCat("must be 0 (default ", kDefaultPageSize, ") to ", kMaxPageSize));
  }
  return page.page_size() == 0 ? kDefaultPageSize : page.page_size();
}

absl::Status CheckSchoolFields(const v1::School& s, absl::string_view prefix) {
  absl::Status bad;
  if (!IsSchoolNameLength(s.name())) {
    AddFieldViolation(&bad, absl::StrCat(prefix, "name"), "length",
                      absl::StrCat("required: 1 to ", kMaxSchoolNameChars, " characters"));
  }
  if (s.stage() == 0)
    AddFieldViolation(&bad, absl::StrCat(prefix, "stage"), "required", "required");
  if (s.ownership() == 0) {
    AddFieldViolation(&bad, absl::StrCat(prefix, "ownership"), "required", "公办 or 民办");
  }
  if (s.location() == 0) {
    AddFieldViolation(&bad, absl::StrCat(prefix, "location"), "required", "城区, 镇区 or 乡村");
  }
  if (s.quality() == 0) {
    AddFieldViolation(&bad, absl::StrCat(prefix, "quality"), "required", "优质, 普通 or 薄弱");
  }
  if (s.kind() == 0) {
    AddFieldViolation(&bad, absl::StrCat(prefix, "kind"), "required",
                      "中心校, 村小, 教学点 or 普通学校");
  }
  return bad;
}

}  // namespace shidang::profile

#pragma once

// Checks of request fields that several profile methods share. Pure: no I/O.

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "shidang/common/v1/paging.pb.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::profile {

// A county's 6-digit GB/T 2260 code (not ending in 00, which names a city or province).
bool IsCountyCode(absl::string_view code);

// INVALID_ARGUMENT naming `field` unless IsCountyCode.
absl::Status CheckCountyId(absl::string_view county_id, absl::string_view field);

// The page size a request asks for: 0 means the default (50); INVALID_ARGUMENT "page.page_size"
// outside 0..500.
absl::StatusOr<int> PageSize(const common::v1::PageRequest& page);

// Every problem with a school's input fields: name of 1 to 50 characters (counted in characters,
// not bytes), stage, ownership, location, quality and kind. Fields are named with `prefix`.
absl::Status CheckSchoolFields(const v1::School& school, absl::string_view prefix);

}  // namespace shidang::profile

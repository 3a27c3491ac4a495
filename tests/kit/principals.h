#pragma once

// Test kit: a principal as the gateway would sign it, for tests that call a service directly.

#include <string>
#include <utility>

#include "shidang/common/v1/principal.pb.h"

namespace shidang::testing {

// A principal of `role` acting as `subject`, scoped to a region, a school or a provider where
// the role has one (empty: none).
inline common::v1::Principal Who(common::v1::Role role, std::string subject,
                                 std::string region = "", std::string school = "",
                                 std::string provider = "") {
  common::v1::Principal p;
  p.set_role(role);
  p.set_subject(std::move(subject));
  p.set_region(std::move(region));
  p.set_school_id(std::move(school));
  p.set_provider_id(std::move(provider));
  return p;
}

}  // namespace shidang::testing

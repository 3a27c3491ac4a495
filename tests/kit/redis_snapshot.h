#pragma once

// Test kit: everything a Redis holds, to show that a refused call wrote nothing at all.

#include <map>
#include <string>

#include "services/common/redis.h"

namespace shidang::testing {

// Every key of the server behind `pool` and its DUMP (the value's bytes); a key whose DUMP fails
// maps to "". A failed read is a (non-fatal) test failure.
std::map<std::string, std::string> Snapshot(redis::Pool& pool);

}  // namespace shidang::testing

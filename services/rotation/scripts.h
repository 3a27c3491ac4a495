#pragma once

// The rotation service's Lua scripts, each in its own file under services/rotation/scripts/ with
// a header naming its KEYS, ARGV, answer and errors; compiled in by embed_scripts.cmake. Each is
// the body of a Mutation (services/common/mutation.h).

namespace shidang::rotation::scripts {

extern const char kCreateRotation[];      // scripts/create_rotation.lua
extern const char kTransitionRotation[];  // scripts/transition_rotation.lua
extern const char kPutDeferral[];         // scripts/put_deferral.lua

}  // namespace shidang::rotation::scripts

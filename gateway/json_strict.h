#pragma once

// The JSON a request body may be, checked before protobuf's JSON mapping (which accepts a
// trailing comma, a repeated key and single-quoted keys, and reports errors without their
// position): RFC 8259 exactly, with no key repeated within an object, at most 64 levels deep.

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace shidang::gateway {

inline constexpr int kMaxJsonDepth = 64;

// OK, or INVALID_ARGUMENT on field "body" saying where (line, column and byte offset, 1-based
// line and column, 0-based byte) and what: "JSON is not valid at line 1, column 12 (byte 11):
// syntax error" or "... duplicate key \"name\"".
absl::Status CheckStrictJson(absl::string_view text);

// For JSON that passed CheckStrictJson, read as a `type` message: OK, or INVALID_ARGUMENT on field
// "body" when one object gives a field twice under its two spellings (the proto name and the JSON
// name, "teacher_id" and "teacherId"), which protobuf's parser takes without a word, the last one
// winning. Map values and the well-known types' own JSON forms are not messages here.
absl::Status CheckOneKeyPerField(absl::string_view text, const google::protobuf::Descriptor& type);

}  // namespace shidang::gateway

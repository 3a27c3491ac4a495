#pragma once

// One field violation carried inside an absl::Status without protobuf, for the libraries below
// shidang_violations (dates): BadRequestOf (violations.h) reads it as a BadRequest with one
// FieldViolation, so the gRPC edge names the field in the error's details as it does for
// InvalidField.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shidang {

struct PlainFieldViolation {
  std::string field;
  std::string rule;
  std::string description;
};

// `status` (an error) carrying `violation`.
absl::Status WithPlainFieldViolation(absl::Status status, const PlainFieldViolation& violation);

// The violation WithPlainFieldViolation attached to `status`, if any.
std::optional<PlainFieldViolation> PlainFieldViolationOf(const absl::Status& status);

// Removes it (once it is carried as a BadRequest instead).
void ErasePlainFieldViolation(absl::Status* status);

}  // namespace shidang

#pragma once

// Structured errors inside a process: which field, which rule, which rows. They travel inside an
// absl::Status as payloads keyed by their type URL; status.h converts them once at the gRPC edge.
// No gRPC here, so domain rules and the Redis layer can report violations without linking it.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "shidang/common/v1/error.pb.h"

namespace shidang {

// Type URL under which a shidang.common.v1.BadRequest travels (as absl payload and as Any).
inline constexpr absl::string_view kBadRequestTypeUrl =
    "type.googleapis.com/shidang.common.v1.BadRequest";

// INVALID_ARGUMENT whose message names the field and what is allowed, carrying a BadRequest with
// one FieldViolation.
//   return InvalidField("teacher.birth_date", "date_format", "must be a date YYYY-MM-DD");
// gives "teacher.birth_date: must be a date YYYY-MM-DD".
absl::Status InvalidField(absl::string_view field, absl::string_view rule,
                          absl::string_view description);

// Adds one more field violation to *status, so that a validator can report every bad field at
// once: an OK status becomes INVALID_ARGUMENT; an error keeps its code, and its message gains
// "; <field>: <description>".
void AddFieldViolation(absl::Status* status, absl::string_view field, absl::string_view rule,
                       absl::string_view description);

// Attaches row violations (of an upload or a batch) to `status` and returns it. An OK status
// becomes INVALID_ARGUMENT "<n> rows are invalid", since an OK status cannot carry details.
absl::Status WithRowViolations(absl::Status status,
                               const std::vector<common::v1::RowViolation>& rows);

// The BadRequest carried by `status`, if any (also one field violation a library below this one
// attached without protobuf: plain_violation.h).
std::optional<common::v1::BadRequest> BadRequestOf(const absl::Status& status);

// `status` with such a plain field violation turned into the BadRequest payload, as the gRPC edge
// carries it out.
absl::Status WithViolationsAsBadRequest(absl::Status status);

namespace status_internal {
inline absl::Status AsStatus(absl::Status status) { return status; }
template <typename T>
absl::Status AsStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}
}  // namespace status_internal

}  // namespace shidang

// Returns from the enclosing function when `expr` (an absl::Status or absl::StatusOr) is an error.
#define SHIDANG_RETURN_IF_ERROR(expr)                                                  \
  do {                                                                                 \
    ::absl::Status shidang_status_macro_ = ::shidang::status_internal::AsStatus(expr); \
    if (!shidang_status_macro_.ok()) return shidang_status_macro_;                     \
  } while (0)

// Evaluates `expr` (an absl::StatusOr<T>); returns its status when it is an error, else assigns
// the value to `lhs`, which may declare a variable:
//   SHIDANG_ASSIGN_OR_RETURN(auto day, dates::ParseDate(request.as_of(), "as_of"));
// `lhs` must not contain an unparenthesised comma.
#define SHIDANG_ASSIGN_OR_RETURN(lhs, expr) \
  SHIDANG_ASSIGN_OR_RETURN_IMPL_(SHIDANG_STATUS_CONCAT_(shidang_statusor_, __LINE__), lhs, expr)

// NOLINTBEGIN(bugprone-macro-parentheses): `statusor` names a variable and `lhs` may declare one;
// parentheses would make neither compile.
#define SHIDANG_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                   \
  if (!statusor.ok()) return std::move(statusor).status();  \
  lhs = std::move(statusor).value()
// NOLINTEND(bugprone-macro-parentheses)

#define SHIDANG_STATUS_CONCAT_(a, b) SHIDANG_STATUS_CONCAT_INNER_(a, b)
#define SHIDANG_STATUS_CONCAT_INNER_(a, b) a##b

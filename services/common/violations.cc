#include "services/common/violations.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "services/common/plain_violation.h"

namespace shidang {
namespace {

common::v1::BadRequest BadRequestOrEmpty(const absl::Status& status) {
  return BadRequestOf(status).value_or(common::v1::BadRequest());
}

void SetBadRequest(absl::Status* status, const common::v1::BadRequest& bad_request) {
  status->SetPayload(kBadRequestTypeUrl, absl::Cord(bad_request.SerializeAsString()));
}

// A new status with `code` and `message` and every payload of `from`.
absl::Status Rebuild(absl::StatusCode code, absl::string_view message, const absl::Status& from) {
  absl::Status result(code, message);
  from.ForEachPayload([&result](absl::string_view type_url, const absl::Cord& payload) {
    result.SetPayload(type_url, payload);
  });
  return result;
}

}  // namespace

absl::Status InvalidField(absl::string_view field, absl::string_view rule,
                          absl::string_view description) {
  absl::Status status = absl::InvalidArgumentError(absl::StrCat(field, ": ", description));
  common::v1::BadRequest bad_request;
  common::v1::FieldViolation* violation = bad_request.add_field_violations();
  violation->set_field(std::string(field));
  violation->set_rule(std::string(rule));
  violation->set_description(std::string(description));
  SetBadRequest(&status, bad_request);
  return status;
}

void AddFieldViolation(absl::Status* status, absl::string_view field, absl::string_view rule,
                       absl::string_view description) {
  if (status->ok()) {
    *status = InvalidField(field, rule, description);
    return;
  }
  common::v1::BadRequest bad_request = BadRequestOrEmpty(*status);
  common::v1::FieldViolation* violation = bad_request.add_field_violations();
  violation->set_field(std::string(field));
  violation->set_rule(std::string(rule));
  violation->set_description(std::string(description));
  *status = Rebuild(status->code(), absl::StrCat(status->message(), "; ", field, ": ", description),
                    *status);
  SetBadRequest(status, bad_request);
}

absl::Status WithRowViolations(absl::Status status,
                               const std::vector<common::v1::RowViolation>& rows) {
  if (status.ok()) {
    status = absl::InvalidArgumentError(absl::StrCat(rows.size(), " rows are invalid"));
  }
  common::v1::BadRequest bad_request = BadRequestOrEmpty(status);
  for (const common::v1::RowViolation& row : rows) *bad_request.add_row_violations() = row;
  SetBadRequest(&status, bad_request);
  return status;
}

std::optional<common::v1::BadRequest> BadRequestOf(const absl::Status& status) {
  auto payload = status.GetPayload(kBadRequestTypeUrl);
  if (!payload.has_value()) {
    // A library below this one (dates) names its field without protobuf.
    std::optional<PlainFieldViolation> plain = PlainFieldViolationOf(status);
    if (!plain.has_value()) return std::nullopt;
    common::v1::BadRequest bad_request;
    common::v1::FieldViolation* violation = bad_request.add_field_violations();
    violation->set_field(std::move(plain->field));
    violation->set_rule(std::move(plain->rule));
    violation->set_description(std::move(plain->description));
    return bad_request;
  }
  common::v1::BadRequest bad_request;
  if (!bad_request.ParseFromString(std::string(*payload))) return std::nullopt;
  return bad_request;
}

absl::Status WithViolationsAsBadRequest(absl::Status status) {
  if (!PlainFieldViolationOf(status).has_value()) return status;
  std::optional<common::v1::BadRequest> bad_request = BadRequestOf(status);
  ErasePlainFieldViolation(&status);
  if (bad_request.has_value()) SetBadRequest(&status, *bad_request);
  return status;
}

}  // namespace shidang

#include "services/common/plain_violation.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shidang {
namespace {

constexpr absl::string_view kPayloadUrl = "type.shidang/plain-field-violation";

// "<size>:<bytes>" so that no part's bytes can end another.
void AppendPart(std::string* out, absl::string_view part) {
  absl::StrAppend(out, part.size(), ":", part);
}

std::optional<std::string> TakePart(absl::string_view* rest) {
  const size_t colon = rest->find(':');
  size_t size = 0;
  if (colon == absl::string_view::npos || !absl::SimpleAtoi(rest->substr(0, colon), &size) ||
      size > rest->size() - colon - 1) {
    return std::nullopt;
  }
  std::string part(rest->substr(colon + 1, size));
  rest->remove_prefix(colon + 1 + size);
  return part;
}

}  // namespace

absl::Status WithPlainFieldViolation(absl::Status status, const PlainFieldViolation& violation) {
  std::string encoded;
  AppendPart(&encoded, violation.field);
  AppendPart(&encoded, violation.rule);
  AppendPart(&encoded, violation.description);
  status.SetPayload(kPayloadUrl, absl::Cord(encoded));
  return status;
}

std::optional<PlainFieldViolation> PlainFieldViolationOf(const absl::Status& status) {
  auto payload = status.GetPayload(kPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  const std::string encoded(*payload);
  absl::string_view rest = encoded;
  std::optional<std::string> field = TakePart(&rest);
  std::optional<std::string> rule = field ? TakePart(&rest) : std::nullopt;
  std::optional<std::string> description = rule ? TakePart(&rest) : std::nullopt;
  if (!description.has_value()) return std::nullopt;
  return PlainFieldViolation{*std::move(field), *std::move(rule), *std::move(description)};
}

void ErasePlainFieldViolation(absl::Status* status) { status->ErasePayload(kPayloadUrl); }

}  // namespace shidang

#include "services/common/status.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/any.pb.h"

namespace shidang {
namespace {

void AddMoreViolations(common::v1::BadRequest* bad_request, absl::string_view what, int listed,
                       int total) {
  common::v1::FieldViolation* more = bad_request->add_field_violations();
  more->set_field(std::string(what));
  more->set_rule("more_violations");
  more->set_description(absl::StrCat(total, " problems (", what, "); the first ", listed,
                                     " are listed, ", total - listed, " more are not"));
}

// The BadRequest cut to the bounds of status.h: the first violations that fit, the counts of all.
std::string BoundedBadRequest(const absl::Cord& payload) {
  common::v1::BadRequest all;
  if (!all.ParseFromString(std::string(payload))) return std::string();
  common::v1::BadRequest kept;
  size_t bytes = 0;
  for (const common::v1::FieldViolation& v : all.field_violations()) {
    common::v1::FieldViolation bounded;
    bounded.set_field(BoundedText(v.field(), kMaxViolationTextBytes));
    bounded.set_rule(BoundedText(v.rule(), kMaxViolationTextBytes));
    bounded.set_description(BoundedText(v.description(), kMaxViolationTextBytes));
    bytes += bounded.ByteSizeLong() + 4;
    if (bytes > kMaxErrorDetailsBytes / 2) break;
    *kept.add_field_violations() = std::move(bounded);
  }
  for (const common::v1::RowViolation& v : all.row_violations()) {
    if (kept.row_violations_size() >= kMaxRowViolations) break;
    common::v1::RowViolation bounded;
    bounded.set_row(v.row());
    bounded.set_column(BoundedText(v.column(), kMaxViolationTextBytes));
    bounded.set_rule(BoundedText(v.rule(), kMaxViolationTextBytes));
    bounded.set_description(BoundedText(v.description(), kMaxViolationTextBytes));
    bytes += bounded.ByteSizeLong() + 4;
    if (bytes > kMaxErrorDetailsBytes) break;
    *kept.add_row_violations() = std::move(bounded);
  }
  const int fields_listed = kept.field_violations_size();
  const int rows_listed = kept.row_violations_size();
  if (fields_listed < all.field_violations_size()) {
    AddMoreViolations(&kept, "fields", fields_listed, all.field_violations_size());
  }
  if (rows_listed < all.row_violations_size()) {
    AddMoreViolations(&kept, "rows", rows_listed, all.row_violations_size());
  }
  return kept.SerializeAsString();
}

}  // namespace

std::string BoundedText(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  const std::string note = absl::StrCat("… (", text.size(), " bytes in all)");
  size_t cut = max_bytes > note.size() ? max_bytes - note.size() : 0;
  // Back to the start of a UTF-8 character (not a continuation byte 10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat(text.substr(0, cut), note);
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const std::string message = BoundedText(status.message(), kMaxErrorMessageBytes);
  common::v1::RpcStatus rpc_status;
  rpc_status.set_code(static_cast<int>(status.code()));
  rpc_status.set_message(message);
  size_t bytes = 0;
  status.ForEachPayload([&](absl::string_view type_url, const absl::Cord& payload) {
    std::string value =
        type_url == kBadRequestTypeUrl ? BoundedBadRequest(payload) : std::string(payload);
    bytes += value.size();
    if (bytes > kMaxErrorDetailsBytes) return;  // an unknown payload too large to carry
    google::protobuf::Any* any = rpc_status.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::move(value));
  });
  // absl::StatusCode and grpc::StatusCode share their numbers (both follow google.rpc.Code).
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message,
                      rpc_status.SerializeAsString());
}

common::v1::RpcStatus RpcStatusOf(const grpc::Status& status) {
  common::v1::RpcStatus rpc_status;
  if (!status.error_details().empty()) rpc_status.ParseFromString(status.error_details());
  rpc_status.set_code(static_cast<int>(status.error_code()));
  rpc_status.set_message(status.error_message());
  return rpc_status;
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status result(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  const common::v1::RpcStatus rpc_status = RpcStatusOf(status);
  for (const google::protobuf::Any& any : rpc_status.details()) {
    result.SetPayload(any.type_url(), absl::Cord(any.value()));
  }
  return result;
}

}  // namespace shidang

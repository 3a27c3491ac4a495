#include "services/common/status.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
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

// Room kept in a cut BadRequest for its "more_violations" entries.
constexpr size_t kMoreViolationsBytes = 2 * 128;

// How many problems of `what` ("fields" or "rows") a BadRequest stands for: those it lists, or
// the total an earlier cut counted in its "more_violations" entry (AddMoreViolations above, whose
// description starts with the total), so that a cut of a cut (the gateway fitting an error to a
// client, FitRpcStatus) still counts what the first cut left out.
int TotalOf(const common::v1::BadRequest& bad_request, absl::string_view what, int listed) {
  for (const common::v1::FieldViolation& v : bad_request.field_violations()) {
    int total = 0;
    if (v.rule() == "more_violations" && v.field() == what &&
        absl::SimpleAtoi(v.description().substr(0, v.description().find(' ')), &total)) {
      return std::max(total, listed);
    }
  }
  return listed;
}

// The BadRequest cut to the bounds of status.h and to about `room` bytes: the first violations
// that fit, the counts of all.
std::string BoundedBadRequest(const absl::Cord& payload, size_t room) {
  common::v1::BadRequest all;
  if (!all.ParseFromString(std::string(payload))) return std::string();
  common::v1::BadRequest kept;
  const size_t limit = room > kMoreViolationsBytes ? room - kMoreViolationsBytes : 0;
  size_t bytes = 0;
  int fields = 0;  // those given, without an earlier cut's count
  bool fields_full = false;
  for (const common::v1::FieldViolation& v : all.field_violations()) {
    if (v.rule() == "more_violations") continue;
    ++fields;
    if (fields_full) continue;
    common::v1::FieldViolation bounded;
    bounded.set_field(BoundedText(v.field(), kMaxViolationTextBytes));
    bounded.set_rule(BoundedText(v.rule(), kMaxViolationTextBytes));
    bounded.set_description(BoundedText(v.description(), kMaxViolationTextBytes));
    bytes += bounded.ByteSizeLong() + 4;
    fields_full = bytes > limit / 2;
    if (!fields_full) *kept.add_field_violations() = std::move(bounded);
  }
  for (const common::v1::RowViolation& v : all.row_violations()) {
    if (kept.row_violations_size() >= kMaxRowViolations) break;
    common::v1::RowViolation bounded;
    bounded.set_row(v.row());
    bounded.set_column(BoundedText(v.column(), kMaxViolationTextBytes));
    bounded.set_rule(BoundedText(v.rule(), kMaxViolationTextBytes));
    bounded.set_description(BoundedText(v.description(), kMaxViolationTextBytes));
    bytes += bounded.ByteSizeLong() + 4;
    if (bytes > limit) break;
    *kept.add_row_violations() = std::move(bounded);
  }
  const int fields_listed = kept.field_violations_size();
  const int rows_listed = kept.row_violations_size();
  const int fields_total = TotalOf(all, "fields", fields);
  const int rows_total = TotalOf(all, "rows", all.row_violations_size());
  if (fields_listed < fields_total) {
    AddMoreViolations(&kept, "fields", fields_listed, fields_total);
  }
  if (rows_listed < rows_total) AddMoreViolations(&kept, "rows", rows_listed, rows_total);
  return kept.SerializeAsString();
}

// Adds a payload to `rpc_status` as an Any if it fits in `room` bytes of serialized RpcStatus (a
// BadRequest cut to fit), counting what it took in *taken.
void AddDetailWithin(absl::string_view type_url, const absl::Cord& payload, size_t room,
                     size_t* taken, common::v1::RpcStatus* rpc_status) {
  const size_t wrapper = type_url.size() + 16;  // the Any's tags and lengths
  if (*taken + wrapper >= room) return;
  std::string value = type_url == kBadRequestTypeUrl
                          ? BoundedBadRequest(payload, room - *taken - wrapper)
                          : std::string(payload);
  if (*taken + wrapper + value.size() > room) return;  // an unknown payload too large to carry
  *taken += wrapper + value.size();
  google::protobuf::Any* any = rpc_status->add_details();
  any->set_type_url(std::string(type_url));
  any->set_value(std::move(value));
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
  size_t taken = rpc_status.ByteSizeLong();
  WithViolationsAsBadRequest(status).ForEachPayload(
      [&](absl::string_view type_url, const absl::Cord& payload) {
        AddDetailWithin(type_url, payload, kMaxErrorDetailsBytes, &taken, &rpc_status);
      });
  // absl::StatusCode and grpc::StatusCode share their numbers (both follow google.rpc.Code).
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), message,
                      rpc_status.SerializeAsString());
}

std::optional<std::string> FitRpcStatus(absl::string_view serialized, size_t max_bytes) {
  common::v1::RpcStatus all;
  if (!all.ParseFromArray(serialized.data(), static_cast<int>(serialized.size()))) {
    return std::nullopt;
  }
  common::v1::RpcStatus fitted;
  fitted.set_code(all.code());
  fitted.set_message(all.message());
  size_t taken = fitted.ByteSizeLong();
  if (taken > max_bytes) return std::nullopt;
  for (const google::protobuf::Any& any : all.details()) {
    AddDetailWithin(any.type_url(), absl::Cord(any.value()), max_bytes, &taken, &fitted);
  }
  return fitted.SerializeAsString();
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

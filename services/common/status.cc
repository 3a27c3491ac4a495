#include "services/common/status.h"

#include <string>

#include "absl/strings/cord.h"
#include "google/protobuf/any.pb.h"

namespace shidang {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  common::v1::RpcStatus rpc_status;
  rpc_status.set_code(static_cast<int>(status.code()));
  rpc_status.set_message(std::string(status.message()));
  status.ForEachPayload([&rpc_status](absl::string_view type_url, const absl::Cord& payload) {
    google::protobuf::Any* any = rpc_status.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::string(payload));
  });
  // absl::StatusCode and grpc::StatusCode share their numbers (both follow google.rpc.Code).
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
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

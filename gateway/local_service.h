#pragma once

// The generic service of the gateway's in-process gRPC server, which listens on an internal
// loopback port behind the gRPC front (grpc_front.h) and answers what is not a public method: the
// paths registered with ServeLocally (server reflection) in process, and UNIMPLEMENTED for every
// other path the server has no handler for (internal methods look exactly like methods that do not
// exist). grpc.health.v1 is the server's own registered service and never reaches here.

#include <grpcpp/generic/async_generic_service.h>

#include <functional>
#include <map>
#include <string>

namespace shidang::gateway {

class LocalService : public grpc::CallbackGenericService {
 public:
  // Serves `path` with reactors from `factory`. Call before the server starts.
  void ServeLocally(std::string path, std::function<grpc::ServerGenericBidiReactor*()> factory);

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override;

 private:
  std::map<std::string, std::function<grpc::ServerGenericBidiReactor*()>, std::less<>> local_;
};

}  // namespace shidang::gateway

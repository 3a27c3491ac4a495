#pragma once

// Server reflection (grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo) for the public
// API, answered from the descriptor set the gateway loaded, so grpcurl and similar tools can list
// and describe what the gateway serves. ListServices names the public services that have a
// backend; FileByFilename, FileContainingSymbol, FileContainingExtension and
// AllExtensionNumbersOfType answer from the whole set (a file comes with every file it imports).
// The messages are our own copy of reflection.proto (see its header for why the package differs).

#include <grpcpp/generic/async_generic_service.h>

#include <string>
#include <vector>

#include "gateway/method_table.h"
#include "gateway/reflection.pb.h"

namespace shidang::gateway {

inline constexpr char kReflectionMethodPath[] =
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

class Reflection {
 public:
  // `methods` must outlive this object; `services` is what ListServices answers.
  Reflection(const MethodTable* methods, std::vector<std::string> services);

  // The answer to one request of the stream.
  reflection::v1alpha::ServerReflectionResponse Respond(
      const reflection::v1alpha::ServerReflectionRequest& request) const;

  // A reactor serving one ServerReflectionInfo stream (for the gateway's generic handler).
  grpc::ServerGenericBidiReactor* NewReactor() const;

 private:
  void AddFileWithImports(const google::protobuf::FileDescriptor* file,
                          reflection::v1alpha::FileDescriptorResponse* out) const;

  const MethodTable* const methods_;
  const std::vector<std::string> services_;
};

}  // namespace shidang::gateway

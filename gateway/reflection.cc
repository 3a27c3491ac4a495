#include "gateway/reflection.h"

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"

namespace shidang::gateway {
namespace {

namespace pb = google::protobuf;
namespace rv = reflection::v1alpha;

void SetError(rv::ServerReflectionResponse* response, grpc::StatusCode code, std::string message) {
  rv::ErrorResponse* error = response->mutable_error_response();
  error->set_error_code(static_cast<int32_t>(code));
  error->set_error_message(std::move(message));
}

class ReflectionReactor : public grpc::ServerGenericBidiReactor {
 public:
  explicit ReflectionReactor(const Reflection* reflection) : reflection_(reflection) {
    StartRead(&in_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::OK);  // the client closed its side: the stream is over
      return;
    }
    rv::ServerReflectionRequest request;
    grpc::ProtoBufferReader reader(&in_);
    if (!request.ParseFromZeroCopyStream(&reader)) {
      Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "not a grpc.reflection.v1alpha.ServerReflectionRequest"));
      return;
    }
    const rv::ServerReflectionResponse response = reflection_->Respond(request);
    bool own_buffer = false;
    const grpc::Status serialized =
        grpc::SerializationTraits<rv::ServerReflectionResponse>::Serialize(response, &out_,
                                                                           &own_buffer);
    if (!serialized.ok()) {
      Finish(serialized);
      return;
    }
    StartWrite(&out_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    in_.Clear();
    StartRead(&in_);
  }

  void OnDone() override { delete this; }

 private:
  const Reflection* const reflection_;
  grpc::ByteBuffer in_;
  grpc::ByteBuffer out_;
};

}  // namespace

Reflection::Reflection(const MethodTable* methods, std::vector<std::string> services)
    : methods_(methods), services_(std::move(services)) {}

grpc::ServerGenericBidiReactor* Reflection::NewReactor() const {
  return new ReflectionReactor(this);
}

void Reflection::AddFileWithImports(const pb::FileDescriptor* file,
                                    rv::FileDescriptorResponse* out) const {
  std::set<const pb::FileDescriptor*> seen{file};
  std::vector<const pb::FileDescriptor*> pending{file};
  while (!pending.empty()) {
    const pb::FileDescriptor* next = pending.back();
    pending.pop_back();
    // The file as it was in the set (with its comments); rebuilt from the pool when absent.
    if (const pb::FileDescriptorProto* proto = methods_->FileProto(next->name())) {
      out->add_file_descriptor_proto(proto->SerializeAsString());
    } else {
      pb::FileDescriptorProto rebuilt;
      next->CopyTo(&rebuilt);
      out->add_file_descriptor_proto(rebuilt.SerializeAsString());
    }
    for (int i = 0; i < next->dependency_count(); ++i) {
      if (seen.insert(next->dependency(i)).second) pending.push_back(next->dependency(i));
    }
  }
}

rv::ServerReflectionResponse Reflection::Respond(const rv::ServerReflectionRequest& request) const {
  rv::ServerReflectionResponse response;
  response.set_valid_host(request.host());
  *response.mutable_original_request() = request;
  const pb::DescriptorPool& pool = methods_->pool();
  switch (request.message_request_case()) {
    case rv::ServerReflectionRequest::kListServices:
      for (const std::string& name : services_) {
        response.mutable_list_services_response()->add_service()->set_name(name);
      }
      break;
    case rv::ServerReflectionRequest::kFileByFilename: {
      const pb::FileDescriptor* file = pool.FindFileByName(request.file_by_filename());
      if (file == nullptr) {
        SetError(&response, grpc::StatusCode::NOT_FOUND,
                 absl::StrCat("no file named ", request.file_by_filename()));
      } else {
        AddFileWithImports(file, response.mutable_file_descriptor_response());
      }
      break;
    }
    case rv::ServerReflectionRequest::kFileContainingSymbol: {
      const pb::FileDescriptor* file =
          pool.FindFileContainingSymbol(request.file_containing_symbol());
      if (file == nullptr) {
        SetError(&response, grpc::StatusCode::NOT_FOUND,
                 absl::StrCat("no symbol named ", request.file_containing_symbol()));
      } else {
        AddFileWithImports(file, response.mutable_file_descriptor_response());
      }
      break;
    }
    case rv::ServerReflectionRequest::kFileContainingExtension: {
      const rv::ExtensionRequest& wanted = request.file_containing_extension();
      const pb::Descriptor* type = pool.FindMessageTypeByName(wanted.containing_type());
      const pb::FieldDescriptor* extension =
          type == nullptr ? nullptr : pool.FindExtensionByNumber(type, wanted.extension_number());
      if (extension == nullptr) {
        SetError(&response, grpc::StatusCode::NOT_FOUND,
                 absl::StrCat("no extension ", wanted.extension_number(), " of ",
                              wanted.containing_type()));
      } else {
        AddFileWithImports(extension->file(), response.mutable_file_descriptor_response());
      }
      break;
    }
    case rv::ServerReflectionRequest::kAllExtensionNumbersOfType: {
      const pb::Descriptor* type =
          pool.FindMessageTypeByName(request.all_extension_numbers_of_type());
      if (type == nullptr) {
        SetError(&response, grpc::StatusCode::NOT_FOUND,
                 absl::StrCat("no message type named ", request.all_extension_numbers_of_type()));
      } else {
        std::vector<const pb::FieldDescriptor*> extensions;
        pool.FindAllExtensions(type, &extensions);
        rv::ExtensionNumberResponse* numbers = response.mutable_all_extension_numbers_response();
        numbers->set_base_type_name(type->full_name());
        for (const pb::FieldDescriptor* extension : extensions) {
          numbers->add_extension_number(extension->number());
        }
      }
      break;
    }
    case rv::ServerReflectionRequest::MESSAGE_REQUEST_NOT_SET:
      SetError(&response, grpc::StatusCode::INVALID_ARGUMENT,
               "the request names no question (list_services, file_by_filename, "
               "file_containing_symbol, file_containing_extension or "
               "all_extension_numbers_of_type)");
      break;
  }
  return response;
}

}  // namespace shidang::gateway

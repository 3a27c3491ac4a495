#pragma once

// JSON <-> protobuf for the HTTP front, on protobuf's own JSON mapping (util/json_util.h) over a
// type resolver of the gateway's descriptor pool (the services' messages are not compiled into
// the gateway). Path bindings and query parameters are set through reflection. Errors become the
// JSON body {"code", "status", "message", "details"} described in http_server.h.

#include <grpcpp/support/status.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/type.pb.h"
#include "google/protobuf/util/type_resolver.h"

namespace shidang::gateway {

// A TypeResolver that remembers each type it resolved. protobuf 3.21's JSON conversion asks its
// resolver for the message's Type, and again for every nested message and enum, on every call,
// and the descriptor-pool resolver rebuilds each from the descriptors (strings, options, JSON
// names): in perf that was the largest protobuf cost of the HTTP front. Types never change in a
// running gateway (the descriptor set is read once), so a copy of the remembered one is exact.
// Thread-safe.
class CachingTypeResolver : public google::protobuf::util::TypeResolver {
 public:
  explicit CachingTypeResolver(std::unique_ptr<google::protobuf::util::TypeResolver> base)
      : base_(std::move(base)) {}

  google::protobuf::util::Status ResolveMessageType(const std::string& type_url,
                                                    google::protobuf::Type* type) override;
  google::protobuf::util::Status ResolveEnumType(const std::string& type_url,
                                                 google::protobuf::Enum* enum_type) override;

 private:
  const std::unique_ptr<google::protobuf::util::TypeResolver> base_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, google::protobuf::Type> types_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, google::protobuf::Enum> enums_ ABSL_GUARDED_BY(mu_);
};

// A field of `type` by its proto name ("school_id") or its JSON name ("schoolId"), or nullptr.
const google::protobuf::FieldDescriptor* FindField(const google::protobuf::Descriptor* type,
                                                   absl::string_view name);

// The fields along "a.b.c" (either spelling per part). INVALID_ARGUMENT naming the part when a
// part is unknown or a non-last part is not a singular message field.
absl::StatusOr<std::vector<const google::protobuf::FieldDescriptor*>> ResolveFieldPath(
    const google::protobuf::Descriptor* type, absl::string_view path);

// Sets (or, for a repeated field, appends) the field at `path` from its text: strings as given,
// numbers in decimal, bools "true"/"false", enums by name (or number), bytes in base64.
// INVALID_ARGUMENT naming `path` and what is allowed when the text does not fit the field.
absl::Status SetFieldFromText(google::protobuf::Message* message, absl::string_view path,
                              absl::string_view text);

// Decodes %XX escapes (and '+' as a space when `plus_is_space`, as in a query string).
// INVALID_ARGUMENT on a malformed escape.
absl::StatusOr<std::string> PercentDecode(absl::string_view text, bool plus_is_space);

// Sets the query string's parameters ("a=1&b.c=x&r=1&r=2") on `message`. A singular field given
// twice is INVALID_ARGUMENT; a repeated field takes every value in order.
absl::Status MergeQuery(absl::string_view query, google::protobuf::Message* message);

// Parses `json` as the message type `type_url` and merges it into `message` (whose type it must
// be), refusing unknown fields. INVALID_ARGUMENT on bad JSON, naming the line, column and byte
// offset where the parser stopped, with a BadRequest field violation on "body".
absl::Status MergeJson(google::protobuf::util::TypeResolver* resolver, const std::string& type_url,
                       absl::string_view json, google::protobuf::Message* message);

// The JSON of serialized message bytes of type `type_url`: lowerCamelCase names, fields at their
// defaults included, enums by name.
absl::StatusOr<std::string> BinaryToJson(google::protobuf::util::TypeResolver* resolver,
                                         const std::string& type_url, const std::string& bytes);

// The HTTP status for a gRPC status code (DESIGN.md's table; 500 for the rest).
int HttpStatusFromCode(grpc::StatusCode code);

// "INVALID_ARGUMENT", ... for a code.
std::string CodeName(grpc::StatusCode code);

// The error body: google.rpc.Status in the protobuf JSON mapping (rendered from the
// shidang.common.v1.RpcStatus the status carries) with the code's name added:
//   {"status": "INVALID_ARGUMENT", "code": 3, "message": "...",
//    "details": [{"@type": "type.googleapis.com/shidang.common.v1.BadRequest",
//                 "fieldViolations": [{"field": "as_of", "rule": "...", "description": "..."}]}]}
// `code` stays the gRPC number (as google.rpc.Status has it, so gRPC-aware clients read it
// unchanged); `status` is its name for people. Details whose type the resolver does not know are
// dropped rather than losing the whole body.
std::string ErrorJson(const grpc::Status& status, google::protobuf::util::TypeResolver* resolver);

}  // namespace shidang::gateway

#pragma once

// The gateway's knowledge of the public API, read at start from the descriptor set the protos build
// (protoc --include_imports --descriptor_set_out). Nothing here is written per service: a new
// service joins by adding its protos to the set and its address to --backends.
//
// How the custom method options are read: the descriptor set is parsed with the generated
// google::protobuf::FileDescriptorSet class, and each method's options are re-parsed into the
// generated google::protobuf::MethodOptions. The extensions shidang.common.v1.http / roles /
// idempotent / without_token are registered in the generated extension registry by options.pb.cc
// (linked from shidang_protos; method_table.cc refers to the extension identifiers, so the linker
// keeps them), so they come out typed. Reading them from a DynamicMessage pool instead would leave
// them as unknown fields. The re-parse makes this independent of how the descriptor-set message was
// produced.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "shidang/common/v1/options.pb.h"
#include "shidang/common/v1/principal.pb.h"

namespace shidang::gateway {

// One RPC as the gateway sees it.
struct MethodInfo {
  // "/shidang.profile.v1.ProfileService/GetTeacher": the HTTP/2 :path of the call.
  std::string path;
  // "shidang.profile.v1.ProfileService".
  std::string service;
  // "GetTeacher".
  std::string method;
  // Roles allowed from outside; empty means internal only (not served by the gateway).
  std::set<common::v1::Role> roles;
  bool idempotent = false;
  // Callable without a bearer token (the without_token option: signing in, refreshing a session):
  // admitted with no principal, whatever the client sends.
  bool without_token = false;
  bool client_streaming = false;
  bool server_streaming = false;
  // The HTTP route declared beside the RPC (for the HTTP/JSON front, part 2); unset when absent.
  bool has_http = false;
  common::v1::HttpRoute http;
  // The method in the table's pool (input and output types, for transcoding).
  const google::protobuf::MethodDescriptor* descriptor = nullptr;

  // Served from outside: some role may call it, or it needs no token at all.
  bool is_public() const { return !roles.empty() || without_token; }
  bool is_unary() const { return !client_streaming && !server_streaming; }
  bool Allows(common::v1::Role role) const { return roles.count(role) > 0; }
};

class MethodTable {
 public:
  // Parses a serialized FileDescriptorSet (with its imports) and indexes every method of every
  // service in it. INVALID_ARGUMENT when the bytes are not a descriptor set or the files do not
  // build (a missing import, a duplicate symbol).
  static absl::StatusOr<std::unique_ptr<MethodTable>> FromSerializedSet(absl::string_view bytes);
  // Same, from a file (--descriptor_set). NOT_FOUND when the file cannot be read.
  static absl::StatusOr<std::unique_ptr<MethodTable>> FromFile(const std::string& path);

  MethodTable(const MethodTable&) = delete;
  MethodTable& operator=(const MethodTable&) = delete;

  // The method at an HTTP/2 path ("/pkg.Service/Method"), or nullptr when none exists.
  const MethodInfo* Find(absl::string_view path) const;

  // Every method, in descriptor order.
  const std::vector<std::unique_ptr<MethodInfo>>& methods() const { return methods_; }
  // Services with at least one public method, sorted.
  const std::vector<std::string>& public_services() const { return public_services_; }
  // Every service in the set, sorted.
  const std::vector<std::string>& services() const { return services_; }
  // The idempotent methods of a service ("GetTeacher", ...), for its retry policy.
  std::vector<std::string> IdempotentMethods(absl::string_view service) const;

  // The pool built from the set: for reflection and transcoding.
  const google::protobuf::DescriptorPool& pool() const { return pool_; }
  // The file as it was in the set, or nullptr.
  const google::protobuf::FileDescriptorProto* FileProto(absl::string_view name) const;

 private:
  MethodTable() = default;

  google::protobuf::DescriptorPool pool_;
  std::map<std::string, google::protobuf::FileDescriptorProto, std::less<>> files_;
  std::vector<std::unique_ptr<MethodInfo>> methods_;
  absl::flat_hash_map<std::string, const MethodInfo*> by_path_;
  std::vector<std::string> public_services_;
  std::vector<std::string> services_;
};

}  // namespace shidang::gateway

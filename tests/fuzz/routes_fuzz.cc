// The HTTP route table over arbitrary input, two ways: request paths matched against the real
// routes of every service, and route templates (as a proto's `http` option would declare them)
// built into a table and matched. Refused or accepted, never a crash or a read out of bounds.
// Input: byte 0 picks the HTTP method; the rest is "<template>\n<path>" (or just a path).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "gateway/http_routes.h"
#include "gateway/method_table.h"
#include "google/protobuf/descriptor.pb.h"
#include "shidang/common/v1/options.pb.h"
#include "shidang/profile/v1/profile.pb.h"
#include "shidang/rotation/v1/rotation.pb.h"
#include "shidang/training/v1/training.pb.h"

namespace {

namespace pb = google::protobuf;
using shidang::gateway::HttpRouter;
using shidang::gateway::MethodTable;

void AddWithImports(const pb::FileDescriptor* file, std::set<std::string>* seen,
                    pb::FileDescriptorSet* set) {
  if (!seen->insert(file->name()).second) return;
  for (int i = 0; i < file->dependency_count(); ++i) AddWithImports(file->dependency(i), seen, set);
  file->CopyTo(set->add_file());
}

// The files of `extra` plus every file the services' protos need, serialized.
std::string DescriptorSet(const pb::FileDescriptorProto* extra) {
  pb::FileDescriptorSet set;
  std::set<std::string> seen;
  AddWithImports(shidang::profile::v1::CreateTeacherRequest::descriptor()->file(), &seen, &set);
  AddWithImports(shidang::training::v1::RegisterCourseRequest::descriptor()->file(), &seen, &set);
  AddWithImports(shidang::rotation::v1::CreateRotationRequest::descriptor()->file(), &seen, &set);
  if (extra != nullptr) *set.add_file() = *extra;
  return set.SerializeAsString();
}

// One service with one public method whose route is `http_method` `path_template`, binding
// fields of a small request (`a`, `b`, `inner.c`).
pb::FileDescriptorProto FileWithRoute(const std::string& http_method,
                                      const std::string& path_template) {
  pb::FileDescriptorProto file;
  file.set_name("fuzz/v1/fuzz.proto");
  file.set_package("fuzz.v1");
  file.set_syntax("proto3");
  file.add_dependency("shidang/common/v1/options.proto");
  pb::DescriptorProto* inner = file.add_message_type();
  inner->set_name("Inner");
  auto* c = inner->add_field();
  c->set_name("c");
  c->set_number(1);
  c->set_type(pb::FieldDescriptorProto::TYPE_STRING);
  c->set_label(pb::FieldDescriptorProto::LABEL_OPTIONAL);
  pb::DescriptorProto* request = file.add_message_type();
  request->set_name("Req");
  int number = 1;
  for (const char* name : {"a", "b"}) {
    auto* f = request->add_field();
    f->set_name(name);
    f->set_number(number++);
    f->set_type(pb::FieldDescriptorProto::TYPE_STRING);
    f->set_label(pb::FieldDescriptorProto::LABEL_OPTIONAL);
  }
  auto* nested = request->add_field();
  nested->set_name("inner");
  nested->set_number(number);
  nested->set_type(pb::FieldDescriptorProto::TYPE_MESSAGE);
  nested->set_type_name(".fuzz.v1.Inner");
  nested->set_label(pb::FieldDescriptorProto::LABEL_OPTIONAL);
  pb::ServiceDescriptorProto* service = file.add_service();
  service->set_name("FuzzService");
  pb::MethodDescriptorProto* method = service->add_method();
  method->set_name("Do");
  method->set_input_type(".fuzz.v1.Req");
  method->set_output_type(".fuzz.v1.Req");
  shidang::common::v1::HttpRoute* route =
      method->mutable_options()->MutableExtension(shidang::common::v1::http);
  route->set_method(http_method);
  route->set_path(path_template);
  route->set_body("*");
  method->mutable_options()->AddExtension(shidang::common::v1::roles,
                                          shidang::common::v1::ROLE_ADMIN);
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "get", "HEAD", ""};
  static const auto* real_table = MethodTable::FromSerializedSet(DescriptorSet(nullptr))->release();
  static const auto* real_router = HttpRouter::Build(*real_table)->release();
  if (size == 0) return 0;
  const std::string http_method = kMethods[data[0] % 8];
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t newline = rest.find('\n');
  const std::string path = newline == std::string::npos ? rest : rest.substr(newline + 1);
  (void)real_router->Find(http_method, path);
  absl::string_view verb;
  (void)shidang::gateway::SplitPath(path, true, &verb);
  if (newline == std::string::npos) return 0;
  const pb::FileDescriptorProto file = FileWithRoute(http_method, rest.substr(0, newline));
  absl::StatusOr<std::unique_ptr<MethodTable>> table =
      MethodTable::FromSerializedSet(DescriptorSet(&file));
  if (!table.ok()) return 0;
  absl::StatusOr<std::unique_ptr<HttpRouter>> router = HttpRouter::Build(**table);
  if (!router.ok()) return 0;
  (void)(*router)->Find(http_method, path);
  return 0;
}

// The HTTP route table over arbitrary input, two ways: request paths matched against the real
// routes of every service, and route templates (as a proto's `http` option would declare them)
// built into a table and matched. Refused or accepted, never a crash or a read out of bounds.
// Input: byte 0 picks the HTTP method; the rest is "<template>\n<path>" (or just a path).
//
// Speed: the real method and route tables (every service's files with descriptor.proto) are built
// once. Per input only the fuzzed template's own table is built: one small file that imports
// nothing (the options carry the route and roles as extensions the generated registry knows, and
// MethodTable reads them from the file's options, so the pool needs no options.proto).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>

#include "gateway/http_routes.h"
#include "gateway/method_table.h"
#include "google/protobuf/descriptor.pb.h"
#include "shidang/account/v1/account.pb.h"
#include "shidang/common/v1/options.pb.h"
#include "shidang/mentorship/v1/mentorship.pb.h"
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

// Every service's files with everything they import, serialized.
std::string RealDescriptorSet() {
  pb::FileDescriptorSet set;
  std::set<std::string> seen;
  for (const pb::Descriptor* type : {shidang::profile::v1::CreateTeacherRequest::descriptor(),
                                     shidang::training::v1::RegisterCourseRequest::descriptor(),
                                     shidang::rotation::v1::CreateRotationRequest::descriptor(),
                                     shidang::mentorship::v1::Pairing::descriptor(),
                                     shidang::account::v1::SignInRequest::descriptor()}) {
    AddWithImports(type->file(), &seen, &set);
  }
  return set.SerializeAsString();
}

void AddField(pb::DescriptorProto* message, const char* name, int number,
              pb::FieldDescriptorProto::Type type, pb::FieldDescriptorProto::Label label) {
  pb::FieldDescriptorProto* field = message->add_field();
  field->set_name(name);
  field->set_number(number);
  field->set_type(type);
  field->set_label(label);
}

// A public method `name` of `service` over `Req`, with the route `http_method` `path` (body "*").
void AddMethod(pb::ServiceDescriptorProto* service, const char* name, const char* http_method,
               const char* path) {
  pb::MethodDescriptorProto* method = service->add_method();
  method->set_name(name);
  method->set_input_type(".fuzz.v1.Req");
  method->set_output_type(".fuzz.v1.Req");
  shidang::common::v1::HttpRoute* route =
      method->mutable_options()->MutableExtension(shidang::common::v1::http);
  route->set_method(http_method);
  route->set_path(path);
  route->set_body("*");
  method->mutable_options()->AddExtension(shidang::common::v1::roles,
                                          shidang::common::v1::ROLE_ADMIN);
}

// The route of FuzzService.Fixed, which a fuzzed template may repeat (refused as declared twice)
// or match with another method (405).
constexpr char kFixedMethod[] = "POST";
constexpr char kFixedPath[] = "/v1/fuzz/{a}:again";

// One service over a small request with string fields `a` and `b`, a nested `inner.c`, a number
// `n` and a repeated `r` (a binding may name only singular scalars, so `inner` and `r` are
// refused): method Do, whose route each input sets, and method Fixed.
pb::FileDescriptorSet FuzzSet() {
  constexpr auto kOptional = pb::FieldDescriptorProto::LABEL_OPTIONAL;
  pb::FileDescriptorSet set;
  pb::FileDescriptorProto* file = set.add_file();
  file->set_name("fuzz/v1/fuzz.proto");
  file->set_package("fuzz.v1");
  file->set_syntax("proto3");
  pb::DescriptorProto* inner = file->add_message_type();
  inner->set_name("Inner");
  AddField(inner, "c", 1, pb::FieldDescriptorProto::TYPE_STRING, kOptional);
  pb::DescriptorProto* request = file->add_message_type();
  request->set_name("Req");
  AddField(request, "a", 1, pb::FieldDescriptorProto::TYPE_STRING, kOptional);
  AddField(request, "b", 2, pb::FieldDescriptorProto::TYPE_STRING, kOptional);
  AddField(request, "inner", 3, pb::FieldDescriptorProto::TYPE_MESSAGE, kOptional);
  request->mutable_field(2)->set_type_name(".fuzz.v1.Inner");
  AddField(request, "n", 4, pb::FieldDescriptorProto::TYPE_INT64, kOptional);
  AddField(request, "r", 5, pb::FieldDescriptorProto::TYPE_STRING,
           pb::FieldDescriptorProto::LABEL_REPEATED);
  pb::ServiceDescriptorProto* service = file->add_service();
  service->set_name("FuzzService");
  AddMethod(service, "Do", "", "");
  AddMethod(service, "Fixed", kFixedMethod, kFixedPath);
  return set;
}

// The real routes, built on the first input (so the edges their building reaches count in the
// coverage figure, as they did when every input built them).
const HttpRouter& RealRoutes() {
  static const HttpRouter* routes = [] {
    static const MethodTable* methods =
        MethodTable::FromSerializedSet(RealDescriptorSet())->release();
    return HttpRouter::Build(*methods)->release();
  }();
  return *routes;
}

// The route table of the fuzz file with `http_method` `path_template` as the route of Do, matched
// against `path`: the outcome, or kNoPath when the table or a route is refused.
HttpRouter::Outcome BuildAndMatch(const std::string& http_method, const std::string& path_template,
                                  const std::string& path) {
  static const pb::FileDescriptorSet* const kFuzzSet = new pb::FileDescriptorSet(FuzzSet());
  pb::FileDescriptorSet set = *kFuzzSet;
  shidang::common::v1::HttpRoute* route = set.mutable_file(0)
                                              ->mutable_service(0)
                                              ->mutable_method(0)
                                              ->mutable_options()
                                              ->MutableExtension(shidang::common::v1::http);
  route->set_method(http_method);
  route->set_path(path_template);
  absl::StatusOr<std::unique_ptr<MethodTable>> table =
      MethodTable::FromSerializedSet(set.SerializeAsString());
  if (!table.ok()) return HttpRouter::Outcome::kNoPath;
  absl::StatusOr<std::unique_ptr<HttpRouter>> router = HttpRouter::Build(**table);
  if (!router.ok()) return HttpRouter::Outcome::kNoPath;
  return (*router)->Find(http_method, path).outcome;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // A fuzz file the pool refused would turn every template into a silent no-op: check that the
  // three outcomes are reachable before fuzzing.
  if (BuildAndMatch("GET", "/v1/{inner.c}:go", "/v1/x:go") != HttpRouter::Outcome::kFound ||
      BuildAndMatch("GET", "/v1/x", "/v1/fuzz/y:again") != HttpRouter::Outcome::kWrongMethod ||
      BuildAndMatch(kFixedMethod, kFixedPath, "/v1/fuzz/y:again") != HttpRouter::Outcome::kNoPath) {
    std::fprintf(stderr, "fuzz_routes: the route tables do not build\n");
    std::abort();
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* kMethods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "get", "HEAD", ""};
  if (size == 0) return 0;
  const std::string http_method = kMethods[data[0] % 8];
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t newline = rest.find('\n');
  const std::string path = newline == std::string::npos ? rest : rest.substr(newline + 1);
  (void)RealRoutes().Find(http_method, path);
  absl::string_view verb;
  (void)shidang::gateway::SplitPath(path, true, &verb);
  if (newline == std::string::npos) return 0;
  BuildAndMatch(http_method, rest.substr(0, newline), path);
  return 0;
}

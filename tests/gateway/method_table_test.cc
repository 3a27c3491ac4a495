// MethodTable: the custom options (roles, idempotent, http) come out of a serialized descriptor
// set typed, whatever else the set holds.

#include "gateway/method_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "google/protobuf/descriptor.pb.h"
#include "shidang/common/v1/options.pb.h"

namespace shidang::gateway {
namespace {

namespace pb = google::protobuf;
using common::v1::ROLE_ADMIN;
using common::v1::ROLE_COUNTY_HR;
using common::v1::ROLE_TEACHER;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

void AddWithImports(const pb::FileDescriptor* file, pb::FileDescriptorSet* set) {
  for (int i = 0; i < file->dependency_count(); ++i) AddWithImports(file->dependency(i), set);
  for (const auto& present : set->file()) {
    if (present.name() == file->name()) return;
  }
  file->CopyTo(set->add_file());
}

pb::MethodDescriptorProto* AddMethod(pb::ServiceDescriptorProto* service, const std::string& name) {
  pb::MethodDescriptorProto* method = service->add_method();
  method->set_name(name);
  method->set_input_type(".demo.v1.Thing");
  method->set_output_type(".demo.v1.Thing");
  return method;
}

// A set with the real options.proto (and its imports) and a demo service using its options, the
// way protoc --include_imports writes one.
std::string DemoSet() {
  pb::FileDescriptorSet set;
  AddWithImports(common::v1::HttpRoute::descriptor()->file(), &set);
  pb::FileDescriptorProto* demo = set.add_file();
  demo->set_name("demo/v1/demo.proto");
  demo->set_package("demo.v1");
  demo->set_syntax("proto3");
  demo->add_dependency("shidang/common/v1/options.proto");
  demo->add_message_type()->set_name("Thing");
  pb::ServiceDescriptorProto* service = demo->add_service();
  service->set_name("DemoService");

  pb::MethodOptions* get = AddMethod(service, "GetThing")->mutable_options();
  get->AddExtension(common::v1::roles, ROLE_TEACHER);
  get->AddExtension(common::v1::roles, ROLE_COUNTY_HR);
  get->SetExtension(common::v1::idempotent, true);
  common::v1::HttpRoute* route = get->MutableExtension(common::v1::http);
  route->set_method("GET");
  route->set_path("/v1/things/{id}");

  pb::MethodOptions* put = AddMethod(service, "PutThing")->mutable_options();
  put->AddExtension(common::v1::roles, ROLE_ADMIN);

  AddMethod(service, "Internal");  // no roles: not public

  pb::MethodOptions* open = AddMethod(service, "SignIn")->mutable_options();
  open->SetExtension(common::v1::without_token, true);

  pb::MethodDescriptorProto* stream = AddMethod(service, "Watch");
  stream->set_server_streaming(true);
  stream->mutable_options()->AddExtension(common::v1::roles, ROLE_ADMIN);

  pb::ServiceDescriptorProto* hidden = demo->add_service();
  hidden->set_name("HiddenService");
  AddMethod(hidden, "Only");
  return set.SerializeAsString();
}

TEST(MethodTableTest, ReadsRolesIdempotentAndRouteFromTheOptions) {
  auto table = MethodTable::FromSerializedSet(DemoSet());
  ASSERT_TRUE(table.ok()) << table.status();

  const MethodInfo* get = (*table)->Find("/demo.v1.DemoService/GetThing");
  ASSERT_NE(get, nullptr);
  EXPECT_EQ(get->service, "demo.v1.DemoService");
  EXPECT_EQ(get->method, "GetThing");
  EXPECT_THAT(get->roles, UnorderedElementsAre(ROLE_TEACHER, ROLE_COUNTY_HR));
  EXPECT_TRUE(get->idempotent);
  EXPECT_TRUE(get->is_public());
  EXPECT_TRUE(get->is_unary());
  EXPECT_TRUE(get->Allows(ROLE_TEACHER));
  EXPECT_FALSE(get->Allows(ROLE_ADMIN));
  ASSERT_TRUE(get->has_http);
  EXPECT_EQ(get->http.method(), "GET");
  EXPECT_EQ(get->http.path(), "/v1/things/{id}");
  ASSERT_NE(get->descriptor, nullptr);
  EXPECT_EQ(get->descriptor->input_type()->full_name(), "demo.v1.Thing");

  const MethodInfo* put = (*table)->Find("/demo.v1.DemoService/PutThing");
  ASSERT_NE(put, nullptr);
  EXPECT_THAT(put->roles, ElementsAre(ROLE_ADMIN));
  EXPECT_FALSE(put->idempotent);
  EXPECT_FALSE(put->has_http);

  const MethodInfo* internal = (*table)->Find("/demo.v1.DemoService/Internal");
  ASSERT_NE(internal, nullptr);
  EXPECT_FALSE(internal->is_public());
  EXPECT_FALSE(internal->without_token);
  EXPECT_FALSE(get->without_token);

  // without_token: public with no roles at all.
  const MethodInfo* open = (*table)->Find("/demo.v1.DemoService/SignIn");
  ASSERT_NE(open, nullptr);
  EXPECT_TRUE(open->without_token);
  EXPECT_TRUE(open->roles.empty());
  EXPECT_TRUE(open->is_public());

  const MethodInfo* watch = (*table)->Find("/demo.v1.DemoService/Watch");
  ASSERT_NE(watch, nullptr);
  EXPECT_FALSE(watch->is_unary());

  EXPECT_EQ((*table)->Find("/demo.v1.DemoService/Nope"), nullptr);
  EXPECT_EQ((*table)->Find("demo.v1.DemoService/GetThing"), nullptr);
  EXPECT_THAT((*table)->public_services(), ElementsAre("demo.v1.DemoService"));
  EXPECT_THAT((*table)->services(), ElementsAre("demo.v1.DemoService", "demo.v1.HiddenService"));
  EXPECT_THAT((*table)->IdempotentMethods("demo.v1.DemoService"), ElementsAre("GetThing"));
  EXPECT_NE((*table)->FileProto("demo/v1/demo.proto"), nullptr);
  EXPECT_NE((*table)->pool().FindFileContainingSymbol("demo.v1.Thing"), nullptr);
}

TEST(MethodTableTest, RefusesBytesThatAreNotADescriptorSet) {
  auto table = MethodTable::FromSerializedSet("\xff\xff\xff not a descriptor set");
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(table.status().message(), HasSubstr("FileDescriptorSet"));
}

TEST(MethodTableTest, RefusesASetWithAMissingImport) {
  pb::FileDescriptorSet set;
  pb::FileDescriptorProto* file = set.add_file();
  file->set_name("lonely.proto");
  file->add_dependency("not/there.proto");
  auto table = MethodTable::FromSerializedSet(set.SerializeAsString());
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(table.status().message(), HasSubstr("not/there.proto"));
}

TEST(MethodTableTest, MissingFileIsNotFound) {
  auto table = MethodTable::FromFile("/nonexistent/shidang.desc");
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.status().code(), absl::StatusCode::kNotFound);
}

#ifdef SHIDANG_DESCRIPTOR_SET
// The descriptor set the build makes loads, and every method of it is indexed.
TEST(MethodTableTest, LoadsTheBuiltDescriptorSet) {
  auto table = MethodTable::FromFile(SHIDANG_DESCRIPTOR_SET);
  ASSERT_TRUE(table.ok()) << table.status();
  for (const auto& method : (*table)->methods()) {
    EXPECT_EQ((*table)->Find(method->path), method.get());
  }
}
#endif

}  // namespace
}  // namespace shidang::gateway

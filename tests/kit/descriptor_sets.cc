#include "tests/kit/descriptor_sets.h"

#include "gtest/gtest.h"
#include "tests/kit/files.h"

namespace shidang::testing {

google::protobuf::FileDescriptorSet DescriptorSetWithTestService(
    const std::string& public_set_path, const std::string& testing_set_path,
    const std::function<void(const std::string& service,
                             google::protobuf::MethodDescriptorProto* method)>& annotate,
    std::string* testing_file) {
  google::protobuf::FileDescriptorSet set;
  EXPECT_TRUE(set.ParseFromString(ReadFile(public_set_path))) << public_set_path;
  google::protobuf::FileDescriptorSet testing;
  EXPECT_TRUE(testing.ParseFromString(ReadFile(testing_set_path))) << testing_set_path;
  for (google::protobuf::FileDescriptorProto& file : *testing.mutable_file()) {
    bool present = false;
    for (const auto& have : set.file()) present = present || have.name() == file.name();
    if (present) continue;
    if (file.package() == "shidang.testing.v1") {
      if (testing_file != nullptr) *testing_file = file.name();
      file.add_dependency("shidang/common/v1/options.proto");
      for (auto& service : *file.mutable_service()) {
        for (auto& method : *service.mutable_method()) annotate(service.name(), &method);
      }
    }
    *set.add_file() = file;
  }
  return set;
}

std::string DescriptorSetWithEchoOpenTo(const std::string& public_set_path,
                                        const std::string& testing_set_path,
                                        common::v1::Role role) {
  const google::protobuf::FileDescriptorSet set = DescriptorSetWithTestService(
      public_set_path, testing_set_path,
      [role](const std::string&, google::protobuf::MethodDescriptorProto* method) {
        if (method->name() == "Echo")
          method->mutable_options()->AddExtension(common::v1::roles, role);
      });
  return set.SerializeAsString();
}

}  // namespace shidang::testing

#pragma once

#include <functional>
#include <string>

#include "google/protobuf/descriptor.pb.h"
#include "shidang/common/v1/options.pb.h"

namespace shidang::testing {

// The public API's descriptor set (the file at `public_set_path`) with the test service's files
// (`testing_set_path`, tests/kit/testing.proto) added, as a deployment would build it: each
// method of a shidang.testing.v1 service goes through `annotate(service name, method)` to get
// the options a real service declares in its proto (roles, HTTP route, idempotent). The name of
// the testing.proto file, for files that depend on it, goes to `testing_file` when given. A file
// that does not parse fails the test.
google::protobuf::FileDescriptorSet DescriptorSetWithTestService(
    const std::string& public_set_path, const std::string& testing_set_path,
    const std::function<void(const std::string& service,
                             google::protobuf::MethodDescriptorProto* method)>& annotate,
    std::string* testing_file = nullptr);

// The same with the test service's Echo open to `role` alone (and its other methods to none),
// serialized: what a test of the gateway's own conduct (not its role checks) needs.
std::string DescriptorSetWithEchoOpenTo(const std::string& public_set_path,
                                        const std::string& testing_set_path, common::v1::Role role);

}  // namespace shidang::testing

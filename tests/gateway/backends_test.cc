#include "gateway/backends.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace shidang::gateway {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ParseBackendsTest, ReadsServicesAndAddressLists) {
  auto parsed = ParseBackends(
      "shidang.profile.v1.ProfileService=127.0.0.1:7101, 127.0.0.2:7101 ;"
      "shidang.training.v1.TrainingService=dns:///localhost:7102;");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_THAT(parsed->at("shidang.profile.v1.ProfileService"),
              ElementsAre("127.0.0.1:7101", "127.0.0.2:7101"));
  EXPECT_THAT(parsed->at("shidang.training.v1.TrainingService"),
              ElementsAre("dns:///localhost:7102"));
  auto empty = ParseBackends("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(ParseBackendsTest, RefusesMalformedEntriesNamingThem) {
  struct Case {
    const char* flag;
    const char* mentions;
  } cases[] = {
      {"svc", "svc"},
      {"=127.0.0.1:1", "=127.0.0.1:1"},
      {"svc=", "svc="},
      {"svc=127.0.0.1", "127.0.0.1"},
      {"svc=127.0.0.1:0", "127.0.0.1:0"},
      {"svc=127.0.0.1:70000", "127.0.0.1:70000"},
      {"svc=host:port", "host:port"},
      {"svc=dns:///a:1,127.0.0.1:2", "only address"},
      {"svc=127.0.0.1:1;svc=127.0.0.1:2", "twice"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseBackends(c.flag);
    ASSERT_FALSE(parsed.ok()) << c.flag;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << c.flag;
    EXPECT_THAT(parsed.status().message(), HasSubstr(c.mentions)) << c.flag;
  }
}

TEST(ChannelTargetTest, BuildsOneTargetPerService) {
  EXPECT_EQ(*ChannelTarget({"127.0.0.1:7101", "127.0.0.2:7101"}),
            "ipv4:127.0.0.1:7101,127.0.0.2:7101");
  EXPECT_EQ(*ChannelTarget({"[::1]:7101", "[::2]:7101"}), "ipv6:[::1]:7101,[::2]:7101");
  EXPECT_EQ(*ChannelTarget({"localhost:7102"}), "dns:///localhost:7102");
  EXPECT_EQ(*ChannelTarget({"dns:///profile.internal:7101"}), "dns:///profile.internal:7101");
  EXPECT_EQ(*ChannelTarget({"unix:/tmp/x.sock"}), "unix:/tmp/x.sock");
  auto mixed = ChannelTarget({"a.internal:1", "b.internal:1"});
  ASSERT_FALSE(mixed.ok());
  EXPECT_THAT(mixed.status().message(), HasSubstr("dns:///"));
  EXPECT_FALSE(ChannelTarget({"127.0.0.1:1", "[::1]:1"}).ok());
}

TEST(ServiceConfigJsonTest, RoundRobinAndRetriesOnlyForIdempotentMethods) {
  google::protobuf::Struct config;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  ServiceConfigJson("demo.v1.DemoService", {"GetThing", "ListThings"}), &config)
                  .ok());
  const auto& fields = config.fields();
  EXPECT_TRUE(fields.at("loadBalancingConfig")
                  .list_value()
                  .values(0)
                  .struct_value()
                  .fields()
                  .count("round_robin"));
  const auto& method_config = fields.at("methodConfig").list_value().values(0).struct_value();
  const auto& names = method_config.fields().at("name").list_value();
  ASSERT_EQ(names.values_size(), 2);
  EXPECT_EQ(names.values(0).struct_value().fields().at("service").string_value(),
            "demo.v1.DemoService");
  EXPECT_EQ(names.values(0).struct_value().fields().at("method").string_value(), "GetThing");
  EXPECT_EQ(names.values(1).struct_value().fields().at("method").string_value(), "ListThings");
  const auto& retry = method_config.fields().at("retryPolicy").struct_value().fields();
  EXPECT_EQ(retry.at("retryableStatusCodes").list_value().values(0).string_value(), "UNAVAILABLE");

  google::protobuf::Struct no_retries;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  ServiceConfigJson("demo.v1.DemoService", {}), &no_retries)
                  .ok());
  EXPECT_EQ(no_retries.fields().count("methodConfig"), 0u);
}

}  // namespace
}  // namespace shidang::gateway

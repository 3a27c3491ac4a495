// One script, one slot (DESIGN "Data and flow"): every Mutation must keep all its keys — the
// idempotency record, the event stream and the service's own — under one hash tag, so it can run
// on Redis Cluster. Here the scripts run on a real redis-server in cluster mode that owns every
// slot: Redis refuses declared keys of two slots (CROSSSLOT) and, since Mutation scripts carry
// the "#!lua" shebang, also a body that touches a key of another slot it was not given.
//
// Every script of every service runs here without this file naming it: shidang_embed_lua
// (cmake/ShidangLua.cmake) lists each embedded .lua file in a generated registry, and
// EveryScriptTest runs each one with the example of its header (the state it needs, its K and A)
// and checks that it answers ok and that every key it left is in its one slot.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lua_registry.h"
#include "services/common/keys.h"
#include "services/common/mutation.h"
#include "tests/kit/redis_server.h"

namespace shidang {

// Names a script by its path in test output (found by argument-dependent lookup, so here and not
// in the anonymous namespace).
void PrintTo(const EmbeddedLua& script, std::ostream* out) { *out << script.path; }

namespace {

using ::testing::HasSubstr;

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's choice for port 0).
int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    perror("FreeLoopbackPort");
    abort();
  }
  close(fd);
  return ntohs(address.sin_port);
}

class HashTagTest : public ::testing::Test {
 protected:
  // One cluster-mode server for the whole suite: a fresh cluster takes about a second to agree
  // that it is up.
  static void SetUpTestSuite() {
    testing::RedisServerOptions options;
    options.cluster_enabled = true;
    // The cluster bus listens on TCP at port + 10000 by default, which with --port 0 is 10000 for
    // every test server at once: give it a free port of its own, on loopback only.
    options.extra_args = {"--cluster-port", std::to_string(FreeLoopbackPort()), "--bind",
                          "127.0.0.1"};
    server_ = new testing::RedisServer(options);
    redis::Pool& pool = server_->pool();
    auto added = pool.Command({"CLUSTER", "ADDSLOTSRANGE", "0", "16383"});
    ASSERT_TRUE(added.ok()) << added.status();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      auto info = pool.Command({"CLUSTER", "INFO"});
      if (info.ok() && absl::StrContains(info->str(), "cluster_state:ok")) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "the one-node cluster did not reach cluster_state:ok in 10 s";
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  // Runs `mutation` for `request` on the cluster-mode server as Mutation::Run does, except that
  // Run's own same-tag check is skipped, so that Redis Cluster itself judges the keys.
  static absl::StatusOr<MutationResult> RunOnCluster(const Mutation& mutation,
                                                     const MutationRequest& request) {
    absl::StatusOr<MutationCall> call = Mutation::Prepare(request);
    if (!call.ok()) return call.status();
    absl::StatusOr<redis::Reply> reply =
        server_->pool().Eval(mutation.script(), call->keys, call->args);
    if (!reply.ok()) return reply.status();
    return Mutation::Decode(*reply, request);
  }

  // A request with a request_id under county `county`, touching `keys`.
  static MutationRequest Request(const std::string& county, redis::Args keys) {
    const std::string tag = keys::HashTag("c", county);
    common::v1::Event request;  // stands in for a service's request message
    request.set_request_id(absl::StrCat("req-", ++counter_));
    MutationRequest m;
    EXPECT_TRUE(
        AttachIdempotency(m, "training", tag, "county_hr:" + county, "Credit", request).ok());
    m.stream_key = keys::StreamKey("training", tag);
    m.events.push_back(NewEvent("training", "training.credited", absl::Now()));
    m.keys = std::move(keys);
    return m;
  }

  static std::string TeacherKey(const std::string& county, const std::string& teacher) {
    return absl::StrCat("training:", keys::HashTag("c", county), ":teacher:", teacher);
  }

  static testing::RedisServer* server_;
  static int counter_;
};

testing::RedisServer* HashTagTest::server_ = nullptr;
int HashTagTest::counter_ = 0;

// Touches every key it is given and publishes its event.
constexpr char kTouchAllBody[] = R"lua(
  for _, key in ipairs(K) do redis.call('HINCRBY', key, 'n', 1) end
  emit_all()
  return {ok = tostring(#K)}
)lua";

TEST_F(HashTagTest, KeySlotAgreesWithRedisCluster) {
  for (const std::string& key :
       {TeacherKey("110105", "t1"), keys::StreamKey("training", "{c:110105}"),
        std::string("plain-key"), std::string("a{}b"), std::string("{p:42}:course:7")}) {
    auto slot = server_->pool().Command({"CLUSTER", "KEYSLOT", key});
    ASSERT_TRUE(slot.ok()) << slot.status();
    EXPECT_EQ(keys::KeySlot(key), slot->integer()) << key;
  }
}

TEST_F(HashTagTest, MutationWithKeysOfOneTagRuns) {
  const Mutation touch_all(kTouchAllBody);
  MutationRequest m = Request("110105", {TeacherKey("110105", "t1"), TeacherKey("110105", "t2")});
  auto first = RunOnCluster(touch_all, m);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->payload, "2");
  EXPECT_EQ(first->stream_entry_ids.size(), 1u);
  auto replay = RunOnCluster(touch_all, m);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_TRUE(replay->replayed);
  // And through Run itself.
  EXPECT_TRUE(touch_all.Run(server_->pool(), Request("110105", {TeacherKey("110105", "t3")})).ok());
}

TEST_F(HashTagTest, MutationWithAKeyOfAnotherTagIsCrossSlot) {
  const Mutation touch_all(kTouchAllBody);
  MutationRequest m = Request("110105", {TeacherKey("110105", "t1"), TeacherKey("110106", "t9")});
  auto refused = RunOnCluster(touch_all, m);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("CROSSSLOT"));
  // Run refuses it before it reaches Redis.
  EXPECT_EQ(touch_all.Run(server_->pool(), m).status().code(), absl::StatusCode::kInternal);
}

TEST_F(HashTagTest, BodyTouchingAKeyItWasNotGivenIsRefused) {
  // Declares only county 110105's keys but writes a key of county 110106.
  const Mutation sneaky(R"lua(
    redis.call('SET', 'training:{c:110106}:sneaky', '1')
    return {ok = ''}
  )lua");
  auto refused = RunOnCluster(sneaky, Request("110105", {TeacherKey("110105", "t1")}));
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("do not hash to the same slot"));
  auto exists = server_->pool().Command({"EXISTS", "training:{c:110106}:sneaky"});
  ASSERT_TRUE(exists.ok());
  EXPECT_EQ(exists->integer(), 0);
}

// The embedded files that are scripts of their own (a piece has no example).
std::vector<EmbeddedLua> RunnableScripts() {
  std::vector<EmbeddedLua> runnable;
  for (const EmbeddedLua& file : kEmbeddedLua) {
    if (!file.example.empty()) runnable.push_back(file);
  }
  return runnable;
}

TEST(EmbeddedLuaTest, RegistryHoldsTheScriptsOfEveryService) {
  std::vector<std::string> services;
  for (const EmbeddedLua& script : RunnableScripts()) {
    std::vector<std::string> parts = absl::StrSplit(script.path, '/');
    ASSERT_GE(parts.size(), 3u) << script.path;
    services.push_back(parts[1]);
  }
  EXPECT_THAT(services, ::testing::IsSupersetOf({"profile", "training"}));
}

// A reply element as a string: Lua numbers in an example come back as integers.
std::string TextOf(const redis::Reply& element) {
  return element.is_integer() ? std::to_string(element.integer()) : std::string(element.str());
}

redis::Args ArgsOf(const redis::Reply& array) {
  redis::Args args;
  for (size_t i = 0; i < array.size(); ++i) args.push_back(TextOf(array[i]));
  return args;
}

class EveryScriptTest : public HashTagTest, public ::testing::WithParamInterface<EmbeddedLua> {};

TEST_P(EveryScriptTest, RunsItsExampleTouchingOneSlot) {
  const EmbeddedLua& script = GetParam();
  redis::Pool& pool = server_->pool();
  ASSERT_TRUE(pool.Command({"FLUSHALL"}).ok());
  // The example is Lua that sets given, K and A: Redis evaluates it, escapes and all.
  auto example = pool.Command(
      {"EVAL",
       absl::StrCat("local given, K, A = {}, {}, {}\n", script.example, "\nreturn {given, K, A}"),
       "0"});
  ASSERT_TRUE(example.ok()) << script.path << ": its example is not Lua: " << example.status();
  ASSERT_EQ(example->size(), 3u) << script.path;
  const redis::Reply given = (*example)[0];
  for (size_t i = 0; i < given.size(); ++i) {
    auto done = pool.Command(ArgsOf(given[i]));
    ASSERT_TRUE(done.ok()) << script.path << ": given command " << i + 1 << ": " << done.status();
  }
  const redis::Args keys = ArgsOf((*example)[1]);
  ASSERT_FALSE(keys.empty()) << script.path << ": its example has no K";

  // A plain script (not a Mutation body; its header says so) runs as it is, K as KEYS, A as ARGV.
  if (absl::StrContains(script.text, "Plain script:")) {
    auto reply = pool.Eval(redis::Script(std::string(script.text)), keys, ArgsOf((*example)[2]));
    ASSERT_TRUE(reply.ok()) << script.path << ": " << reply.status();
    EXPECT_FALSE(reply->is_error()) << script.path << ": " << reply->str();
    auto stored = pool.Command({"DBSIZE"});
    auto in_slot =
        pool.Command({"CLUSTER", "COUNTKEYSINSLOT", std::to_string(keys::KeySlot(keys[0]))});
    ASSERT_TRUE(stored.ok() && in_slot.ok());
    EXPECT_GT(stored->integer(), 0) << script.path;
    EXPECT_EQ(in_slot->integer(), stored->integer()) << script.path << ": keys outside its slot";
    return;
  }
  // The kit's keys (idempotency record, stream) under the tag of the example's first key, as a
  // store puts them; three prepared events, for bodies that emit by number.
  const std::string service = std::vector<std::string>(absl::StrSplit(script.path, '/')).at(1);
  const std::string tag = absl::StrCat("{", keys::HashedPart(keys[0]), "}");
  common::v1::Event request;  // stands in for a service's request message
  request.set_request_id(absl::StrCat("req-", ++counter_));
  MutationRequest m;
  ASSERT_TRUE(AttachIdempotency(m, service, tag, "hash_tag_test", "Example", request).ok());
  m.stream_key = keys::StreamKey(service, tag);
  for (int i = 0; i < 3; ++i) m.events.push_back(NewEvent(service, "example", absl::Now()));
  m.keys = keys;
  m.args = ArgsOf((*example)[2]);

  const Mutation mutation(script.text);
  auto result = RunOnCluster(mutation, m);
  ASSERT_TRUE(result.ok()) << script.path << ": " << result.status();
  EXPECT_FALSE(result->replayed);
  // Redis Cluster refused any key of another slot it read or wrote; and every key now stored,
  // the example's state, the script's writes and the kit's, is in the one slot.
  auto stored = pool.Command({"DBSIZE"});
  auto in_slot =
      pool.Command({"CLUSTER", "COUNTKEYSINSLOT", std::to_string(keys::KeySlot(m.stream_key))});
  ASSERT_TRUE(stored.ok() && in_slot.ok());
  EXPECT_GT(stored->integer(), 0) << script.path;
  EXPECT_EQ(in_slot->integer(), stored->integer()) << script.path << ": keys outside its slot";
}

INSTANTIATE_TEST_SUITE_P(Embedded, EveryScriptTest, ::testing::ValuesIn(RunnableScripts()),
                         [](const ::testing::TestParamInfo<EmbeddedLua>& info) {
                           std::string name(info.param.path);
                           for (char& c : name) {
                             if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace shidang

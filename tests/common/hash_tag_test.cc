// One script, one slot (DESIGN "Data and flow"): every Mutation must keep all its keys — the
// idempotency record, the event stream and the service's own — under one hash tag, so it can run
// on Redis Cluster. Here the scripts run on a real redis-server in cluster mode that owns every
// slot: Redis refuses declared keys of two slots (CROSSSLOT) and, since Mutation scripts carry
// the "#!lua" shebang, also a body that touches a key of another slot it was not given.
//
// Services add their own scripts here: build a realistic MutationRequest (through the service's
// store key builders) and EXPECT_TRUE(RunOnCluster(kTheirMutation, request).ok()).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/keys.h"
#include "services/common/mutation.h"
#include "tests/kit/redis_server.h"

namespace shidang {
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
    EXPECT_TRUE(AttachIdempotency(m, "training", tag, "county_hr:" + county, "Credit", request)
                    .ok());
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
  MutationRequest m =
      Request("110105", {TeacherKey("110105", "t1"), TeacherKey("110105", "t2")});
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
  MutationRequest m =
      Request("110105", {TeacherKey("110105", "t1"), TeacherKey("110106", "t9")});
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

}  // namespace
}  // namespace shidang

// The price of answering retries with the first answer (services/common/replay.h), measured in
// one run against its own redis-server (unix socket, appendonly everysec as in production): the
// write path alone (a Mutation that HSETs 8 fields, publishes an event and stores its own
// idempotency record) against the same write inside AnswerStore::Answer (claim, the write, store
// the serialized answer). Also counts the round trips each adds (Redis's commandstats), and the
// price of a retry answered from the store. Three rounds; prints ops/s and the median ratio.
// Only ratios within one run mean anything (the machine is shared). Target: at most 2 extra
// round trips per write (every one here runs one script: counted from commandstats).
//
//   bench_replay [operations per measurement, default 5000]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bench/bench_kit.h"
#include "services/common/keys.h"
#include "services/common/mutation.h"
#include "services/common/redis.h"
#include "services/common/replay.h"
#include "services/common/violations.h"
#include "shidang/common/v1/event.pb.h"
#include "tests/kit/redis_server.h"

namespace shidang {
namespace {

constexpr int kRounds = 3;
constexpr char kMethod[] = "shidang.profile.v1.ProfileService/UpdateTeacher";
constexpr char kActor[] = "county_hr:110105";

constexpr char kUpdateTeacherBody[] = R"lua(
  redis.call('HSET', K[1], unpack(A))
  emit(1)
  return {ok = K[1]}
)lua";

const std::string kTag = keys::HashTag("c", "110105");

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "bench: %s failed\n", what);
    std::exit(1);
  }
}

// Stands in for an UpdateTeacherRequest (it has a request_id field).
common::v1::Event Request(const std::string& prefix, int i) {
  common::v1::Event request;
  request.set_request_id(absl::StrCat(prefix, "-", i));
  request.set_teacher_id(absl::StrCat("t", i % 1000));
  request.set_summary("更新教师基本信息");
  return request;
}

// What the service does: the Mutation of the change, filling the response.
absl::Status Write(redis::Pool& pool, const Mutation& script, const common::v1::Event& request,
                   common::v1::Event* response) {
  MutationRequest m;
  SHIDANG_RETURN_IF_ERROR(AttachIdempotency(m, "profile", kTag, kActor, "UpdateTeacher", request));
  m.stream_key = keys::StreamKey("profile", kTag);
  m.stream_cap = 1000000;
  m.events.push_back(NewEvent("profile", "profile.teacher_updated", absl::Now()));
  m.keys = {absl::StrCat("profile:", kTag, ":teacher:", request.teacher_id())};
  m.args = {"name",      "张老师",
            "school_id", "s-110105-0042",
            "title",     "PROFESSIONAL_TITLE_SENIOR",
            "status",    request.request_id()};
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result, script.Run(pool, m));
  *response = request;
  response->set_id(result.payload);
  return absl::OkStatus();
}

double Measure(int n, const std::function<void(int)>& op) {
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) op(i);
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  return n / took.count();
}

// Round trips Redis has answered: scripts run by EVALSHA or EVAL (commandstats counts the
// commands a script runs under their own names; every call here is one script).
int64_t Commands(redis::Pool& pool) {
  auto info = pool.Command({"INFO", "commandstats"});
  Check(info.ok(), "INFO");
  int64_t total = 0;
  for (absl::string_view line : absl::StrSplit(info->str(), "\r\n")) {
    if (!absl::ConsumePrefix(&line, "cmdstat_evalsha:calls=") &&
        !absl::ConsumePrefix(&line, "cmdstat_eval:calls=")) {
      continue;
    }
    int64_t n = 0;
    Check(absl::SimpleAtoi(line.substr(0, line.find(',')), &n), "commandstats calls");
    total += n;
  }
  return total;
}

using bench::Median;

int Main(int argc, char** argv) {
  int n = 5000;
  if (argc > 1 && (!absl::SimpleAtoi(argv[1], &n) || n < 10)) {
    std::fprintf(stderr, "usage: %s [operations >= 10]\n", argv[0]);
    return 2;
  }
  testing::RedisServer server;
  redis::Pool pool(server.config());
  const Mutation script(kUpdateTeacherBody);
  const AnswerStore answers(pool);
  const absl::Time deadline = absl::InfiniteFuture();

  std::vector<double> ratios, retry_ratios;
  double extra_round_trips = 0;
  for (int round = 0; round < kRounds; ++round) {
    const std::string bare_prefix = absl::StrCat("bare", round);
    const std::string kept_prefix = absl::StrCat("kept", round);
    int64_t commands = Commands(pool);
    const double bare = Measure(n, [&](int i) {
      common::v1::Event response;
      Check(Write(pool, script, Request(bare_prefix, i), &response).ok(), "write");
    });
    const int64_t bare_commands = Commands(pool) - commands;
    commands = Commands(pool);
    const double kept = Measure(n, [&](int i) {
      const common::v1::Event request = Request(kept_prefix, i);
      common::v1::Event response;
      Check(answers
                .Answer(kMethod, kActor, deadline, request, &response,
                        [&] { return Write(pool, script, request, &response); })
                .ok(),
            "answered write");
    });
    const int64_t kept_commands = Commands(pool) - commands;
    // The same requests again: every one a retry answered from the store.
    const double retried = Measure(n, [&](int i) {
      const common::v1::Event request = Request(kept_prefix, i);
      common::v1::Event response;
      Check(answers
                .Answer(kMethod, kActor, deadline, request, &response,
                        [&] { return absl::InternalError("a retry ran the write again"); })
                .ok(),
            "retry");
    });
    ratios.push_back(kept / bare);
    retry_ratios.push_back(retried / bare);
    extra_round_trips = static_cast<double>(kept_commands - bare_commands) / n;
    std::printf(
        "round %d (n=%d)\n"
        "  write alone            %8.0f ops/s  (%.2f round trips each)\n"
        "  write + stored answer  %8.0f ops/s  (%.2f round trips each)  ratio %.2f\n"
        "  retry, from the store  %8.0f ops/s  ratio to a write %.2f\n",
        round + 1, n, bare, static_cast<double>(bare_commands) / n, kept,
        static_cast<double>(kept_commands) / n, ratios.back(), retried, retry_ratios.back());
    std::fflush(stdout);
  }
  std::printf(
      "median ratio write+answer / write %.2f; extra round trips per write %.2f (target <= 2: "
      "%s); retry / write %.2f\n",
      Median(ratios), extra_round_trips, extra_round_trips <= 2.0 ? "met" : "NOT met",
      Median(retry_ratios));
  return 0;
}

}  // namespace
}  // namespace shidang

int main(int argc, char** argv) { return shidang::Main(argc, argv); }

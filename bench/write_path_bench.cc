// The price of the atomic write path, measured in one run against its own redis-server (unix
// socket, appendonly everysec as in production): a Mutation that HSETs 8 fields of a teacher,
// publishes one event and stores the idempotency record, against a bare HSET of the same fields;
// one request per round trip and pipelined; and a GET through redis::Pool against a bare hiredis
// GET, for the pool's own overhead. Three rounds; prints ops/s and the median ratios.
// Only ratios within one run mean anything (the machine is shared). Target: write path >= 0.3
// of the bare write.
//
//   bench_write_path [operations per measurement, default 20000]

#include <hiredis/hiredis.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/keys.h"
#include "services/common/mutation.h"
#include "services/common/redis.h"
#include "tests/kit/redis_server.h"

namespace shidang {
namespace {

constexpr int kRounds = 3;
constexpr int kPipelineDepth = 64;
constexpr int kTeachers = 1000;

// HSET the field pairs in A on the teacher K[1], publish the prepared event.
constexpr char kUpdateTeacherBody[] = R"lua(
  if #A == 0 or #A % 2 ~= 0 then return {err = 3, msg = 'fields come in pairs', field = 'fields'} end
  redis.call('HSET', K[1], unpack(A))
  emit(1)
  return {ok = K[1]}
)lua";

const std::string kTag = keys::HashTag("c", "110105");

std::string TeacherKey(int i) {
  return absl::StrCat("profile:", kTag, ":teacher:t", i % kTeachers);
}

redis::Args TeacherFields(int i) {
  return {"name",       absl::StrCat("张老师", i),
          "gender",     "GENDER_FEMALE",
          "birth_date", "1985-03-14",
          "school_id",  "s-110105-0042",
          "title",      "PROFESSIONAL_TITLE_SENIOR",
          "subject",    "数学",
          "hired_on",   "2008-09-01",
          "status",     absl::StrCat("v", i)};
}

// What a service does per request before the script: fingerprint, idempotency key, event.
MutationRequest BuildRequest(int round, int i) {
  common::v1::Event request;  // stands in for UpdateTeacherRequest
  request.set_request_id(absl::StrCat("bench-", round, "-", i));
  request.set_teacher_id(absl::StrCat("t", i % kTeachers));
  request.set_summary("更新教师基本信息");
  MutationRequest m;
  if (!AttachIdempotency(m, "profile", kTag, "county_hr:110105", "UpdateTeacher", request).ok()) {
    std::abort();
  }
  m.stream_key = keys::StreamKey("profile", kTag);
  m.stream_cap = 1000000;
  common::v1::Event event = NewEvent("profile", "profile.teacher_updated", absl::Now());
  event.set_teacher_id(request.teacher_id());
  event.set_county_id("110105");
  event.set_actor("county_hr:110105");
  event.set_request_id(request.request_id());
  event.set_summary("更新教师基本信息");
  m.events.push_back(std::move(event));
  m.keys = {TeacherKey(i)};
  m.args = TeacherFields(i);
  return m;
}

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "bench: %s failed\n", what);
    std::exit(1);
  }
}

// Runs `op` n times, returns operations per second.
double Measure(int n, const std::function<void(int)>& op) {
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) op(i);
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  return n / took.count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// One round trip of kPipelineDepth update_teacher mutations (EVALSHA), for operations
// first.. of measurement `run`.
void PipelinedMutations(redis::Pool& pool, const Mutation& update_teacher, int run, int first) {
  std::vector<redis::Args> batch;
  for (int j = 0; j < kPipelineDepth; ++j) {
    MutationRequest m = BuildRequest(run, first + j);
    absl::StatusOr<MutationCall> call = Mutation::Prepare(m);
    Check(call.ok(), "Prepare");
    redis::Args evalsha = {"EVALSHA", update_teacher.script().sha1(),
                           std::to_string(call->keys.size())};
    evalsha.insert(evalsha.end(), call->keys.begin(), call->keys.end());
    evalsha.insert(evalsha.end(), call->args.begin(), call->args.end());
    batch.push_back(std::move(evalsha));
  }
  auto replies = pool.Pipeline(batch);
  Check(replies.ok(), "pipelined EVALSHA");
  for (const redis::Reply& r : *replies) Check(!r.is_error(), "pipelined EVALSHA reply");
}

// One round trip of kPipelineDepth bare HSETs of the same fields, for teachers first...
void PipelinedHsets(redis::Pool& pool, int first) {
  std::vector<redis::Args> batch;
  for (int j = 0; j < kPipelineDepth; ++j) {
    redis::Args hset = {"HSET", TeacherKey(first + j)};
    redis::Args fields = TeacherFields(first + j);
    hset.insert(hset.end(), fields.begin(), fields.end());
    batch.push_back(std::move(hset));
  }
  auto replies = pool.Pipeline(batch);
  Check(replies.ok(), "pipelined HSET");
}

int Main(int argc, char** argv) {
  int n = 20000;
  if (argc > 1 && (!absl::SimpleAtoi(argv[1], &n) || n < kPipelineDepth)) {
    std::fprintf(stderr, "usage: %s [operations >= %d]\n", argv[0], kPipelineDepth);
    return 2;
  }
  n -= n % kPipelineDepth;
  testing::RedisServer server;
  redis::Pool pool(server.config());
  const Mutation update_teacher(kUpdateTeacherBody);
  Check(pool.Command({"SCRIPT", "LOAD", update_teacher.script().source()}).ok(), "SCRIPT LOAD");
  Check(pool.Command({"SET", "bench:get", std::string(64, 'x')}).ok(), "SET");

  redisContext* raw = redisConnectUnix(server.socket_path().c_str());
  Check(raw != nullptr && raw->err == 0, "raw connect");

  std::vector<double> write_ratio, pipelined_ratio, get_ratio;
  for (int round = 0; round < kRounds; ++round) {
    // A fresh request id per operation and per measurement: each run is a first run.
    const double mutation = Measure(n, [&](int i) {
      Check(update_teacher.Run(pool, BuildRequest(round * 2, i)).ok(), "Mutation::Run");
    });
    const double bare = Measure(n, [&](int i) {
      redis::Args hset = {"HSET", TeacherKey(i)};
      redis::Args fields = TeacherFields(i);
      hset.insert(hset.end(), fields.begin(), fields.end());
      Check(pool.Command(hset).ok(), "HSET");
    });

    const double mutation_pipelined =
        kPipelineDepth * Measure(n / kPipelineDepth, [&](int b) {
          PipelinedMutations(pool, update_teacher, round * 2 + 1, b * kPipelineDepth);
        });
    const double bare_pipelined = kPipelineDepth * Measure(n / kPipelineDepth, [&](int b) {
                                    PipelinedHsets(pool, b * kPipelineDepth);
                                  });

    const double get_pool = Measure(n, [&](int) {
      Check(pool.Command({"GET", "bench:get"}).ok(), "Pool GET");
    });
    const double get_raw = Measure(n, [&](int) {
      const char* argv_get[] = {"GET", "bench:get"};
      const size_t lens[] = {3, 9};
      void* reply = redisCommandArgv(raw, 2, argv_get, lens);
      Check(reply != nullptr, "raw GET");
      freeReplyObject(reply);
    });

    write_ratio.push_back(mutation / bare);
    pipelined_ratio.push_back(mutation_pipelined / bare_pipelined);
    get_ratio.push_back(get_pool / get_raw);
    std::printf(
        "round %d (n=%d)\n"
        "  write, 1 per round trip : Mutation %8.0f ops/s   bare HSET %8.0f ops/s   ratio %.2f\n"
        "  write, pipelined x%-3d   : Mutation %8.0f ops/s   bare HSET %8.0f ops/s   ratio %.2f\n"
        "  read                    : Pool GET %8.0f ops/s   raw GET   %8.0f ops/s   ratio %.2f\n",
        round + 1, n, mutation, bare, write_ratio.back(), kPipelineDepth, mutation_pipelined,
        bare_pipelined, pipelined_ratio.back(), get_pool, get_raw, get_ratio.back());
    std::fflush(stdout);
  }
  redisFree(raw);

  const double write_median = Median(write_ratio);
  std::printf(
      "median ratios: write %.2f (target >= 0.30: %s), pipelined write %.2f, Pool/raw GET %.2f\n",
      write_median, write_median >= 0.3 ? "met" : "NOT met", Median(pipelined_ratio),
      Median(get_ratio));
  return 0;
}

}  // namespace
}  // namespace shidang

int main(int argc, char** argv) { return shidang::Main(argc, argv); }

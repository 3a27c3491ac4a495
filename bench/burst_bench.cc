// Bursts through one service: the training service (its default threading, services/common/
// server.h) on its own redis-server, driven by N callers at once, each sending RegisterCourse
// (a write: a script, an event, an idempotency record) as soon as its last call answered. Prints
// p50/p99 per concurrency and the p99 ratios against 10 callers, and counts every answer by code:
// with the service's defaults nothing is refused at 1,000 callers.
//
// With --soak_seconds, runs that long at --soak_callers instead and samples the service's
// resident memory every 10 s (the 30-minute soak whose memory must stay flat is
// --soak_seconds=1800).
//
//   bench_burst [--calls_per_caller=5] [--soak_seconds=0 --soak_callers=200]
//
// Only ratios within one run mean anything (the machine is shared).

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/common/principal.h"
#include "shidang/training/v1/training.grpc.pb.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_process.h"
#include "tests/training/centre_courses.h"

ABSL_FLAG(int, calls_per_caller, 5, "Calls each caller sends, one after another.");
ABSL_FLAG(int, soak_seconds, 0, "If > 0: run a soak this long instead and report memory.");
ABSL_FLAG(int, soak_callers, 200, "Callers at once during the soak.");

namespace shidang {
namespace {

namespace tv1 = training::v1;

const std::string kPrincipalKey(40, 'k');

struct Round {
  std::vector<double> latencies_ms;
  std::map<grpc::StatusCode, int> codes;
  std::string first_error;
};

// `callers` chains of calls at once; each chain sends its next call when the last answered, until
// it sent `calls` or `until` passed.
class Load {
 public:
  Load(tv1::TrainingService::Stub* stub, const PrincipalSigner& signer, std::string prefix)
      : stub_(stub), signer_(signer), prefix_(std::move(prefix)) {}

  Round Run(int callers, int calls, absl::Time until) {
    calls_ = calls;
    until_ = until;
    remaining_ = callers;
    for (int i = 0; i < callers; ++i) Next(i, 0);
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* remaining) { return *remaining == 0; }, &remaining_));
    Round done = std::move(round_);
    round_ = Round();
    return done;
  }

 private:
  struct Call {
    grpc::ClientContext context;
    tv1::RegisterCourseRequest request;
    tv1::RegisterCourseResponse response;
    absl::Time start;
  };

  void Next(int caller, int sent) {
    if (sent >= calls_ || absl::Now() >= until_) {
      absl::MutexLock lock(&mu_);
      --remaining_;
      return;
    }
    auto call = std::make_shared<Call>();
    const std::string id = absl::StrCat(prefix_, "-", caller, "-", sent);
    call->request = training::NewCourse(id, absl::StrCat("课程 ", id));
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    signer_.Attach(&call->context, training::Centre());
    call->start = absl::Now();
    stub_->async()->RegisterCourse(
        &call->context, &call->request, &call->response,
        [this, call, caller, sent](const grpc::Status& status) {
          {
            absl::MutexLock lock(&mu_);
            round_.latencies_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - call->start));
            ++round_.codes[status.error_code()];
            if (!status.ok() && round_.first_error.empty()) {
              round_.first_error =
                  absl::StrCat(status.error_code(), " \"", status.error_message(), "\"");
            }
          }
          Next(caller, sent + 1);
        });
  }

  tv1::TrainingService::Stub* stub_;
  const PrincipalSigner& signer_;
  const std::string prefix_;
  int calls_ = 0;
  absl::Time until_;
  absl::Mutex mu_;
  int remaining_ ABSL_GUARDED_BY(mu_) = 0;
  Round round_ ABSL_GUARDED_BY(mu_);
};

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t index = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[index];
}

// The answers by code, and the first failure's code and message (the service says why: a full
// queue, a spent Redis budget, a passed deadline).
std::string Codes(const Round& round) {
  std::string out;
  for (const auto& [code, n] : round.codes) absl::StrAppend(&out, " code", code, "=", n);
  if (!round.first_error.empty()) absl::StrAppend(&out, " (first error: ", round.first_error, ")");
  return out;
}

int64_t ResidentKb(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    int64_t kb = 0;
    if (line.rfind("VmRSS:", 0) == 0 &&
        absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(6, line.size() - 9)), &kb)) {
      return kb;
    }
  }
  return -1;
}

void Soak(Load& load, const testing::ServiceProcess& service, int seconds, int callers) {
  const absl::Time end = absl::Now() + absl::Seconds(seconds);
  std::printf("soak: %d callers for %d s; service RSS every 10 s (kB):\n", callers, seconds);
  std::vector<int64_t> samples;
  int64_t calls = 0;
  std::map<grpc::StatusCode, int> codes;
  while (absl::Now() < end) {
    const Round round = load.Run(callers, 1 << 30, std::min(end, absl::Now() + absl::Seconds(10)));
    calls += static_cast<int64_t>(round.latencies_ms.size());
    for (const auto& [code, n] : round.codes) codes[code] += n;
    samples.push_back(ResidentKb(service.pid()));
    std::printf("  %zu: %lld kB after %lld calls, p99 %.1f ms\n", samples.size(),
                static_cast<long long>(samples.back()), static_cast<long long>(calls),
                Percentile(round.latencies_ms, 0.99));
    std::fflush(stdout);
  }
  if (samples.size() < 2) return;
  // The first sample includes warm-up (thread stacks, pools, allocator arenas): growth is judged
  // from the second on.
  const int64_t base = samples[1];
  const int64_t peak = *std::max_element(samples.begin() + 1, samples.end());
  std::printf("soak: RSS %lld kB at 20 s, %lld at the end, peak %lld (growth %.1f%%);",
              static_cast<long long>(base), static_cast<long long>(samples.back()),
              static_cast<long long>(peak), 100.0 * (samples.back() - base) / base);
  for (const auto& [code, n] : codes) std::printf(" code%d=%d", code, n);
  std::printf("\n");
}

int Main() {
  testing::RedisServer redis;
  testing::TempDir keys;
  std::ofstream(keys.path() + "/principal.key", std::ios::binary) << kPrincipalKey;
  auto service = testing::ServiceProcess::Start(
      SHIDANG_TRAINING_BINARY,
      {"--redis=" + redis.address(), "--principal_key_file=" + keys.path() + "/principal.key",
       "--today=2025-11-25"});
  if (!service.ok()) {
    std::fprintf(stderr, "%s\n", service.status().ToString().c_str());
    return 1;
  }
  grpc::ChannelArguments args;
  auto stub = tv1::TrainingService::NewStub(
      grpc::CreateCustomChannel((*service)->address(), grpc::InsecureChannelCredentials(), args));
  const PrincipalSigner signer(kPrincipalKey);
  Load load(stub.get(), signer, absl::StrCat("b", absl::ToUnixMillis(absl::Now())));
  load.Run(10, 20, absl::InfiniteFuture());  // warm-up: connections, scripts loaded

  if (const int soak = absl::GetFlag(FLAGS_soak_seconds); soak > 0) {
    Soak(load, **service, soak, absl::GetFlag(FLAGS_soak_callers));
    return 0;
  }
  const int per_caller = absl::GetFlag(FLAGS_calls_per_caller);
  std::map<int, double> p99;
  for (int callers : {10, 200, 1000}) {
    // At least 1,000 calls per measurement, so that a p99 is 10 calls or more.
    const int calls = std::max(per_caller, 1000 / callers);
    const absl::Time start = absl::Now();
    const Round round = load.Run(callers, calls, absl::InfiniteFuture());
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    p99[callers] = Percentile(round.latencies_ms, 0.99);
    std::printf("%5d callers: %zu calls, %.0f calls/s, p50 %.1f ms, p99 %.1f ms, max %.1f ms;%s\n",
                callers, round.latencies_ms.size(), round.latencies_ms.size() / seconds,
                Percentile(round.latencies_ms, 0.5), p99[callers],
                Percentile(round.latencies_ms, 1.0), Codes(round).c_str());
  }
  std::printf("p99 ratio against 10 callers: 200 -> %.1fx, 1000 -> %.1fx\n", p99[200] / p99[10],
              p99[1000] / p99[10]);
  return 0;
}

}  // namespace
}  // namespace shidang

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return shidang::Main();
}

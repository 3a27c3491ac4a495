// bench_training: the training service as a real process on its own redis-server. A training
// centre confirms 2,000 completions in one RecordCompletions batch (three batches a round, each on
// a new course, the median reported), against raw pipelined writes
// of the same keys with the same bytes (the centre's mark, the ledger entry, the teacher's mark
// and running totals, the events) in the same Redis in the same run (target: the batch at >= 0.25
// of the raw writes' speed; the ratio against the mark and ledger entry alone, the baseline of
// earlier versions, is printed beside it), with the CPU time the service and Redis spent on the
// batch; ledger memory per entry from MEMORY USAGE (target <= 200 B); and a county's
// GetComplianceReport against a raw pipelined read of the same teachers' report rows, the
// per-teacher summary the report reads (target within 3x). Teachers become known the way they do
// in production: through profile events the service consumes.
//
//   build/bench/bench_training [--teachers=10000] [--batch_rows=2000] [--history_courses=39]
//                              [--rounds=3] [--commandstats]

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "bench/bench_kit.h"
#include "services/common/events.h"
#include "services/common/keys.h"
#include "services/common/mutation.h"
#include "services/common/principal.h"
#include "services/training/store.h"
#include "shidang/profile/v1/profile.pb.h"
#include "shidang/training/v1/training.grpc.pb.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_process.h"

ABSL_FLAG(int, teachers, 10000, "Teachers in the county (the report's size).");
ABSL_FLAG(int, batch_rows, 2000, "Rows in the timed completion batch (at most 5,000).");
ABSL_FLAG(int, history_courses, 39,
          "Earlier courses every teacher completed before the timed batch (ledger history, "
          "five years of it: 2021 to 2024).");
ABSL_FLAG(int, rounds, 3, "Rounds; the median is reported.");
ABSL_FLAG(bool, commandstats, false,
          "Also print Redis's INFO commandstats over each timed batch (what its commands and "
          "scripts cost inside Redis).");

namespace shidang::training {
namespace {

using common::v1::Principal;

constexpr char kCounty[] = "330723";
constexpr char kSchool[] = "S330723-aaaaaaaaaa";
constexpr char kToday[] = "2025-11-25";

struct Round {
  double batch_s = 0;
  double raw_write_s = 0;        // the same keys and bytes the batch wrote
  double raw_mark_ledger_s = 0;  // the centre's mark and the ledger entry only
  double service_cpu_ms = 0;     // during the batch
  double redis_cpu_ms = 0;       // Redis's main thread during the batch
  double ratio = 0;              // median over the round's batches of raw_write_s / batch_s
  double narrow_ratio = 0;       // the same for raw_mark_ledger_s
  double bytes_per_entry = 0;
  double hash_bytes_per_entry = 0;
  double entries_per_teacher = 0;
  double report_s = 0;
  double raw_read_s = 0;
};

using bench::Die;
using bench::Median;

Principal Who(common::v1::Role role, const std::string& subject, const std::string& region,
              const std::string& provider) {
  Principal p;
  p.set_role(role);
  p.set_subject(subject);
  p.set_region(region);
  p.set_provider_id(provider);
  return p;
}

std::string TeacherId(int i) { return absl::StrFormat("T%06d", i); }

// Timed completion batches per round, each with its own raw baselines.
constexpr int kTimedBatches = 3;

// Waits while Redis rewrites its append-only file.
void AwaitAofRewrite(testing::RedisServer& redis) {
  const absl::Time deadline = absl::Now() + absl::Minutes(5);
  while (absl::Now() < deadline) {
    auto info = redis.pool().Command({"INFO", "persistence"});
    if (!info.ok()) Die("INFO persistence failed");
    if (!absl::StrContains(info->str(), "aof_rewrite_in_progress:1") &&
        !absl::StrContains(info->str(), "aof_rewrite_scheduled:1")) {
      return;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  Die("the append-only file rewrite did not finish");
}

// CPU time (user + system) of a process so far, from /proc.
double ProcessCpuMs(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name "(...)": state is field 3, utime 14 and stime 15.
  std::vector<absl::string_view> f = absl::StrSplit(
      absl::string_view(text).substr(std::min(text.size(), text.rfind(')') + 2)), ' ');
  double utime = 0, stime = 0;
  if (f.size() < 13 || !absl::SimpleAtod(f[11], &utime) || !absl::SimpleAtod(f[12], &stime)) {
    Die("cannot read the service's CPU time");
  }
  return (utime + stime) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU time of Redis's main thread so far (INFO cpu).
double RedisMainCpuMs(testing::RedisServer& redis) {
  auto info = redis.pool().Command({"INFO", "cpu"});
  if (!info.ok()) Die("INFO cpu failed");
  double total = 0;
  for (absl::string_view line : absl::StrSplit(info->str(), '\n')) {
    double v = 0;
    if ((absl::ConsumePrefix(&line, "used_cpu_user_main_thread:") ||
         absl::ConsumePrefix(&line, "used_cpu_sys_main_thread:")) &&
        absl::SimpleAtod(absl::StripAsciiWhitespace(line), &v)) {
      total += v * 1000.0;
    }
  }
  return total;
}

// Publishes "profile.teacher_created" for every teacher, as the profile service does, and waits
// until the training service has applied them all.
void AddTeachers(testing::RedisServer& redis, int n) {
  std::string stream = keys::StreamKey("profile", keys::HashTag("c", kCounty));
  if (!RegisterStream(redis.pool(), "profile", stream).ok()) Die("cannot register the stream");
  Mutation publish("emit_all() return {ok = ''}");
  constexpr int kPerScript = 250;
  for (int first = 0; first < n; first += kPerScript) {
    MutationRequest m;
    m.stream_key = stream;
    for (int i = first; i < std::min(n, first + kPerScript); ++i) {
      profile::v1::Teacher t;
      t.set_teacher_id(TeacherId(i));
      t.set_name(absl::StrCat("教师", i));
      t.set_county_id(kCounty);
      t.set_school_id(kSchool);
      t.set_hire_date("2012-09-01");
      t.set_post_status(profile::v1::POST_STATUS_ON_DUTY);
      common::v1::Event e = NewEvent("profile", "profile.teacher_created", absl::Now());
      e.set_teacher_id(t.teacher_id());
      e.set_county_id(kCounty);
      e.mutable_payload()->PackFrom(t);
      m.events.push_back(std::move(e));
    }
    absl::Status s = publish.Run(redis.pool(), m).status();
    if (!s.ok()) Die(absl::StrCat("publish: ", s.ToString()));
  }
  absl::Time deadline = absl::Now() + absl::Minutes(5);
  while (absl::Now() < deadline) {
    auto known = redis.pool().Command({"ZCARD", TrainingStore::TeachersKey(kCounty)});
    if (known.ok() && known->integer() >= n) return;
    absl::SleepFor(absl::Milliseconds(100));
  }
  Die("the training service never learned every teacher");
}

// One round: a training service on its own redis-server, its county's teachers known and their
// ledger history written, then the timed batches, the ledger memory and the timed report.
class BenchRound {
 public:
  BenchRound(int n, int rows, int history, int round)
      : n_(n), rows_(rows), history_(history), round_(round), signer_(std::string(40, 'k')) {
    std::ofstream(keys_.path() + "/principal.key", std::ios::binary) << std::string(40, 'k');
    auto process = testing::ServiceProcess::Start(
        SHIDANG_TRAINING_BINARY,
        {"--redis=" + redis_.address(), "--principal_key_file=" + keys_.path() + "/principal.key",
         std::string("--today=") + kToday});
    if (!process.ok())
      Die(absl::StrCat("cannot start the training service: ", process.status().ToString()));
    process_ = *std::move(process);
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_MAX_METADATA_SIZE, 1 << 20);
    args.SetMaxSendMessageSize(64 << 20);
    args.SetMaxReceiveMessageSize(64 << 20);
    stub_ = v1::TrainingService::NewStub(
        grpc::CreateCustomChannel(process_->address(), grpc::InsecureChannelCredentials(), args));
  }

  Round Run() {
    AddTeachers(redis_, n_);
    LoadHistory();
    // A rewrite of the append-only file forks a child that takes a core for seconds: let the one
    // the history load set off finish, and compact the file now, so none runs while timing.
    AwaitAofRewrite(redis_);
    if (!redis_.pool().Command({"BGREWRITEAOF"}).ok()) Die("BGREWRITEAOF failed");
    AwaitAofRewrite(redis_);

    Round r = TimedBatches();
    MeasureLedgers(&r);
    TimeReport(&r);
    return r;
  }

 private:
  template <typename Method, typename Req, typename Resp>
  void Call(Method method, const Principal& who, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(300));
    signer_.Attach(&ctx, who);
    grpc::Status s = ((*stub_).*method)(&ctx, req, resp);
    if (!s.ok()) Die(absl::StrCat("rpc failed: ", s.error_message(), "\n", process_->StderrText()));
  }

  // Course `c`: the `history` earlier ones (untimed, for ledger history) ten a year from 2021,
  // the timed ones in November 2025 (before today); registered and published.
  v1::Course RegisterCourse(int c) {
    v1::RegisterCourseRequest req;
    req.set_request_id(absl::StrCat("course-", c));
    v1::Course* k = req.mutable_course();
    k->set_provider_id("P1");
    k->set_title(absl::StrCat("新课标解读 第", c + 1, "期"));
    k->set_level(common::v1::TRAINING_LEVEL_COUNTY);
    k->set_mode(common::v1::TRAINING_MODE_FACE_TO_FACE);
    k->set_hours(24);
    const int year = c < history_ ? 2021 + c / 10 : 2025;
    const int month = c < history_ ? c % 10 + 1 : 11;
    k->set_start_date(absl::StrFormat("%d-%02d-01", year, month));
    k->set_end_date(absl::StrFormat("%d-%02d-20", year, month));
    k->set_capacity(n_);
    k->add_open_regions(kCounty);
    v1::RegisterCourseResponse registered;
    Call(&v1::TrainingService::Stub::RegisterCourse, centre_, req, &registered);
    v1::PublishCourseRequest publish;
    publish.set_course_id(registered.course().course_id());
    publish.set_request_id(absl::StrCat("course-", c, "-publish"));
    v1::PublishCourseResponse published;
    Call(&v1::TrainingService::Stub::PublishCourse, centre_, publish, &published);
    return published.course();
  }

  // Rows for teachers [first, last) of the county.
  v1::RecordCompletionsRequest Batch(const v1::Course& k, int first, int last) const {
    v1::RecordCompletionsRequest req;
    req.set_request_id(absl::StrCat("batch-", round_, "-", k.course_id(), "-", first));
    req.set_course_id(k.course_id());
    for (int i = first; i < last; ++i) {
      v1::CompletionRow* row = req.add_rows();
      row->set_teacher_id(TeacherId(i));
      row->set_hours(i % 2 == 0 ? 24 : 12.5);
      row->set_completed_on(k.end_date());
    }
    return req;
  }

  // Every teacher completes each of the `history` earlier courses.
  void LoadHistory() {
    constexpr int kMaxRows = 5000;
    for (int c = 0; c < history_; ++c) {
      v1::Course k = RegisterCourse(c);
      for (int first = 0; first < n_; first += kMaxRows) {
        const int last = std::min(n_, first + kMaxRows);
        v1::RecordCompletionsResponse done;
        Call(&v1::TrainingService::Stub::RecordCompletions, centre_, Batch(k, first, last), &done);
        if (done.credited() != last - first) {
          Die(absl::StrCat("history batch credited ", done.credited(), " of ", last - first));
        }
      }
    }
  }

  // (1) Timed batches, each on a new course and each followed by its raw baselines, so the two
  // see the same machine; the round reports the median of each.
  Round TimedBatches() {
    std::vector<Round> timed;
    timed.reserve(kTimedBatches);
    for (int k = 0; k < kTimedBatches; ++k) timed.push_back(TimedBatch(k));
    auto median_of = [&](double Round::*field) {
      std::vector<double> v;
      v.reserve(timed.size());
      for (const Round& t : timed) v.push_back(t.*field);
      return Median(v);
    };
    Round r;
    r.batch_s = median_of(&Round::batch_s);
    r.raw_write_s = median_of(&Round::raw_write_s);
    r.raw_mark_ledger_s = median_of(&Round::raw_mark_ledger_s);
    r.service_cpu_ms = median_of(&Round::service_cpu_ms);
    r.redis_cpu_ms = median_of(&Round::redis_cpu_ms);
    for (Round& t : timed) t.raw_write_s /= t.batch_s, t.raw_mark_ledger_s /= t.batch_s;
    r.ratio = median_of(&Round::raw_write_s);
    r.narrow_ratio = median_of(&Round::raw_mark_ledger_s);
    return r;
  }

  // Timed batch k and its two raw baselines.
  Round TimedBatch(int k) {
    Round t;
    const v1::RecordCompletionsRequest timed = Batch(RegisterCourse(history_ + k), 0, rows_);
    const std::string stream_before = SendTimed(timed, &t);
    const RawCopy copy = ReadBack(timed, stream_before);
    t.raw_write_s = RawWrites(timed, copy, true);
    t.raw_mark_ledger_s = RawWrites(timed, copy, false);
    return t;
  }

  // Sends the timed batch, with the time and CPU it took (and, with --commandstats, what its
  // commands cost inside Redis). Returns the id of the county stream's newest entry before it.
  std::string SendTimed(const v1::RecordCompletionsRequest& timed, Round* t) {
    v1::RecordCompletionsResponse done;
    const double service_cpu = ProcessCpuMs(process_->pid());
    const double redis_cpu = RedisMainCpuMs(redis_);
    auto newest = redis_.pool().Command(
        {"XREVRANGE", TrainingStore::CountyStreamKey(kCounty), "+", "-", "COUNT", "1"});
    if (!newest.ok() || newest->size() != 1) Die("cannot read the county's stream");
    std::string stream_before((*newest)[0][0].str());
    const bool commandstats = absl::GetFlag(FLAGS_commandstats);
    if (commandstats &&
        (!redis_.pool().Command({"CONFIG", "RESETSTAT"}).ok() ||
         !redis_.pool().Command({"CONFIG", "SET", "slowlog-log-slower-than", "1000"}).ok() ||
         !redis_.pool().Command({"SLOWLOG", "RESET"}).ok())) {
      Die("cannot reset Redis's statistics");
    }
    const absl::Time start = absl::Now();
    Call(&v1::TrainingService::Stub::RecordCompletions, centre_, timed, &done);
    t->batch_s = absl::ToDoubleSeconds(absl::Now() - start);
    t->service_cpu_ms = ProcessCpuMs(process_->pid()) - service_cpu;
    t->redis_cpu_ms = RedisMainCpuMs(redis_) - redis_cpu;
    if (commandstats) PrintCommandStats();
    if (done.credited() != rows_) {
      Die(absl::StrCat("timed batch credited ", done.credited(), " of ", rows_));
    }
    return stream_before;
  }

  void PrintCommandStats() {
    auto stats = redis_.pool().Command({"INFO", "commandstats"});
    if (stats.ok()) std::printf("%s\n", std::string(stats->str()).c_str());
    // The scripts' own times (over 1 ms), oldest first.
    auto slow = redis_.pool().Command({"SLOWLOG", "GET", "100"});
    if (slow.ok()) {
      std::printf("commands over 1 ms (usec):");
      for (size_t i = slow->size(); i-- > 0;) {
        std::printf(" %s %lld", std::string((*slow)[i][3][0].str()).c_str(),
                    static_cast<long long>((*slow)[i][2].integer()));
      }
      std::printf("\n");
    }
  }

  // What the timed batch wrote, read back to be written again raw: per row the centre's mark,
  // the ledger entry and the teacher's mark and running totals; and the stream entries it added
  // after `stream_before` (one per chunk of rows, or one per event) as [field, value, ...].
  struct RawCopy {
    std::vector<redis::Reply> written;  // 3 per row: HGET, LINDEX, HMGET
    std::vector<redis::Args> stream_entries;
  };
  RawCopy ReadBack(const v1::RecordCompletionsRequest& timed, const std::string& stream_before) {
    const std::string mark = absl::StrCat("c:", timed.course_id());
    const std::string done_key = TrainingStore::DoneKey("P1", timed.course_id());
    std::vector<redis::Args> reads;
    for (int i = 0; i < rows_; ++i) {
      reads.push_back({"HGET", done_key, TeacherId(i)});
      reads.push_back({"LINDEX", TrainingStore::LedgerKey(kCounty, TeacherId(i)), "-1"});
      reads.push_back(
          {"HMGET", TrainingStore::FactsKey(kCounty, TeacherId(i)), mark, "tally", "row", "ps"});
    }
    auto written = redis_.pool().Pipeline(reads);
    auto events = redis_.pool().Command(
        {"XRANGE", TrainingStore::CountyStreamKey(kCounty), "(" + stream_before, "+"});
    if (!written.ok() || !events.ok()) Die("cannot read back what the batch wrote");
    RawCopy copy;
    copy.written = *std::move(written);
    size_t events_published = 0;
    for (size_t e = 0; e < events->size(); ++e) {
      const redis::Reply fields = (*events)[e][1];
      redis::Args entry;
      for (size_t f = 0; f < fields.size(); ++f) entry.emplace_back(fields[f].str());
      auto published = EventsOfEntry(fields);
      if (!published.ok()) Die("unreadable stream entry");
      events_published += published->size();
      copy.stream_entries.push_back(std::move(entry));
    }
    if (events_published < static_cast<size_t>(rows_)) {
      Die("the batch published fewer events than rows");
    }
    return copy;
  }

  // Baseline: the same keys written raw with the bytes the batch wrote: per row the centre's
  // mark (HSET), the ledger entry (RPUSH), the teacher's mark and running totals (one HSET of
  // four fields), and the stream entries the batch added (XADD each, with the same fields),
  // pipelined 500 rows per round trip. Without `same_keys`, as earlier stops reported it, the
  // mark and the ledger entry alone. Returns the seconds it took.
  double RawWrites(const v1::RecordCompletionsRequest& timed, const RawCopy& copy, bool same_keys) {
    const std::string mark = absl::StrCat("c:", timed.course_id());
    const std::vector<redis::Reply>& written = copy.written;
    const std::vector<redis::Args>& stream_entries = copy.stream_entries;
    const std::string raw = same_keys ? "raw" : "raw2";
    absl::Time began = absl::Now();
    std::vector<redis::Args> pipeline;
    size_t next_entry = 0;
    for (int i = 0; i < rows_; ++i) {
      const std::string id = TeacherId(i);
      const size_t first_reply = 3 * static_cast<size_t>(i);  // three replies per row
      const redis::Reply& totals = written[first_reply + 2];
      pipeline.push_back({"HSET", absl::StrCat(raw, ":{p:P1}:done:", timed.course_id()), id,
                          std::string(written[first_reply].str())});
      pipeline.push_back({"RPUSH", absl::StrCat(raw, ":{c:", kCounty, "}:ledger:", id),
                          std::string(written[first_reply + 1].str())});
      if (same_keys) {
        pipeline.push_back({"HSET", absl::StrCat(raw, ":{c:", kCounty, "}:t:", id), mark,
                            std::string(totals[0].str()), "tally", std::string(totals[1].str()),
                            "row", std::string(totals[2].str()), "ps",
                            std::string(totals[3].str())});
        // The entries spread over the rows as the batch wrote them.
        for (; next_entry * static_cast<size_t>(rows_) <
               static_cast<size_t>(i + 1) * stream_entries.size();
             ++next_entry) {
          redis::Args xadd = {"XADD", absl::StrCat(raw, ":{c:", kCounty, "}:events"), "*"};
          xadd.insert(xadd.end(), stream_entries[next_entry].begin(),
                      stream_entries[next_entry].end());
          pipeline.push_back(std::move(xadd));
        }
      }
      if (i % 500 == 499 || i == rows_ - 1) {
        auto replies = redis_.pool().Pipeline(pipeline);
        if (!replies.ok()) Die("raw write failed");
        for (const auto& reply : *replies) {
          if (reply.is_error()) Die(absl::StrCat("raw write failed: ", reply.str()));
        }
        pipeline.clear();
      }
    }
    return absl::ToDoubleSeconds(absl::Now() - began);
  }

  // (2) Ledger memory: a sample of 100 ledgers, bytes over entries; and the teacher hash beside
  // the ledger (facts, running totals, once-only marks), per entry too.
  void MeasureLedgers(Round* r) {
    double bytes = 0, entries = 0;
    for (int i = 0; i < n_; i += std::max(1, n_ / 100)) {
      std::string ledger = TrainingStore::LedgerKey(kCounty, TeacherId(i));
      auto used = redis_.pool().Command({"MEMORY", "USAGE", ledger, "SAMPLES", "0"});
      auto len = redis_.pool().Command({"LLEN", ledger});
      if (!used.ok() || !len.ok()) Die("cannot measure a ledger");
      bytes += static_cast<double>(used->integer());
      entries += static_cast<double>(len->integer());
    }
    r->bytes_per_entry = bytes / entries;
    double hash_bytes = 0;
    for (int i = 0; i < n_; i += std::max(1, n_ / 100)) {
      auto used = redis_.pool().Command(
          {"MEMORY", "USAGE", TrainingStore::FactsKey(kCounty, TeacherId(i)), "SAMPLES", "0"});
      if (!used.ok()) Die("cannot measure a teacher hash");
      hash_bytes += static_cast<double>(used->integer());
    }
    r->hash_bytes_per_entry = hash_bytes / entries;
    r->entries_per_teacher = entries / static_cast<double>(std::min(n_, 100));
  }

  // (3) The county's report, once to bring every cached summary up to date (untimed), then
  // timed; against the same cached summaries read raw, pipelined 1,000 per round trip.
  void TimeReport(Round* r) {
    v1::GetComplianceReportRequest report;
    report.set_county_id(kCounty);
    report.mutable_page()->set_page_size(100);
    v1::GetComplianceReportResponse answered;
    Call(&v1::TrainingService::Stub::GetComplianceReport, hr_, report, &answered);
    absl::Time start = absl::Now();
    Call(&v1::TrainingService::Stub::GetComplianceReport, hr_, report, &answered);
    r->report_s = absl::ToDoubleSeconds(absl::Now() - start);
    if (answered.teachers() != n_) Die(absl::StrCat("report counted ", answered.teachers()));

    start = absl::Now();
    std::vector<redis::Args> reads;
    int64_t read_bytes = 0;
    auto flush = [&] {
      auto replies = redis_.pool().Pipeline(reads);
      if (!replies.ok()) Die("raw read failed");
      for (const auto& reply : *replies) read_bytes += static_cast<int64_t>(reply.str().size());
      reads.clear();
    };
    for (int i = 0; i < n_; ++i) {
      reads.push_back({"HGET", TrainingStore::FactsKey(kCounty, TeacherId(i)), "row"});
      if (reads.size() == 1000) flush();
    }
    if (!reads.empty()) flush();
    r->raw_read_s = absl::ToDoubleSeconds(absl::Now() - start);
    if (read_bytes == 0) Die("no cached summaries read");
  }

  const int n_, rows_, history_, round_;
  testing::RedisServer redis_;
  testing::TempDir keys_;
  std::unique_ptr<testing::ServiceProcess> process_;
  std::unique_ptr<v1::TrainingService::Stub> stub_;
  PrincipalSigner signer_;
  const Principal centre_ = Who(common::v1::ROLE_TRAINING_CENTER, "c1", "", "P1");
  const Principal hr_ = Who(common::v1::ROLE_COUNTY_HR, "hr1", kCounty, "");
};

Round RunRound(int n, int rows, int history, int round) {
  return BenchRound(n, rows, history, round).Run();
}

}  // namespace
}  // namespace shidang::training

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  using namespace shidang::training;  // NOLINT
  const int n = absl::GetFlag(FLAGS_teachers);
  const int rows = absl::GetFlag(FLAGS_batch_rows);
  const int history = absl::GetFlag(FLAGS_history_courses);
  if (rows < 1 || rows > 5000 || rows > n || history < 0 || history > 40) {
    std::fprintf(stderr,
                 "need 1 <= batch_rows <= min(5000, teachers), 0 <= history_courses <= 40\n");
    return 2;
  }
  std::vector<double> batch, raw_write, ratio, narrow_ratio, bytes, report, raw_read, report_ratio;
  double entries = 0;
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    Round r = RunRound(n, rows, history, round);
    std::printf(
        "round %d: batch of %d completions %.1f ms (%.0f rows/s; CPU: service %.0f ms, Redis "
        "main thread %.0f ms), raw writes of the same keys %.1f ms, ratio %.3f (mark + ledger "
        "entry only: %.1f ms, ratio %.3f); ledger %.0f B/entry (%.1f entries/teacher; teacher "
        "hash %.0f B/entry more); report of %d teachers %.1f ms, raw pipelined read %.1f ms, "
        "report/raw %.2fx\n",
        round + 1, rows, r.batch_s * 1e3, rows / r.batch_s, r.service_cpu_ms, r.redis_cpu_ms,
        r.raw_write_s * 1e3, r.ratio, r.raw_mark_ledger_s * 1e3, r.narrow_ratio, r.bytes_per_entry,
        r.entries_per_teacher, r.hash_bytes_per_entry, n, r.report_s * 1e3, r.raw_read_s * 1e3,
        r.report_s / r.raw_read_s);
    std::fflush(stdout);
    batch.push_back(r.batch_s);
    raw_write.push_back(r.raw_write_s);
    ratio.push_back(r.ratio);
    narrow_ratio.push_back(r.narrow_ratio);
    bytes.push_back(r.bytes_per_entry);
    report.push_back(r.report_s);
    raw_read.push_back(r.raw_read_s);
    report_ratio.push_back(r.report_s / r.raw_read_s);
    entries = r.entries_per_teacher;
  }
  double m_ratio = Median(ratio), m_bytes = Median(bytes), m_report = Median(report_ratio);
  std::printf(
      "median: batch of %d %.1f ms, raw writes of the same keys %.1f ms, batch/raw speed ratio "
      "%.3f (target >= 0.25: %s; against the mark and ledger entry alone %.3f); "
      "ledger %.0f B/entry at %.1f entries/teacher (target <= 200: %s); report %.1f ms, raw read "
      "%.1f ms, %.2fx (target <= 3x: %s) for %d teachers\n",
      rows, Median(batch) * 1e3, Median(raw_write) * 1e3, m_ratio,
      m_ratio >= 0.25 ? "met" : "NOT met", Median(narrow_ratio), m_bytes, entries,
      m_bytes <= 200 ? "met" : "NOT met", Median(report) * 1e3, Median(raw_read) * 1e3, m_report,
      m_report <= 3 ? "met" : "NOT met", n);
  return 0;
}

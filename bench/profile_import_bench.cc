// bench_profile_import: a county of 10,000 teachers imported through the real profile service
// (ImportRoster: CSV decoded, every row validated, one all-or-nothing script), then listed back by
// pages; against writing the same fields with raw pipelined HSETs on the same machine in the same
// run. Reports rows per second, the ratio (target >= 0.25) and memory per teacher in Redis.
//
//   build/bench/bench_profile_import [--teachers=10000] [--rounds=3] [--commandstats]

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/bench_kit.h"
#include "services/common/principal.h"
#include "services/profile/demo_county.h"
#include "shidang/profile/v1/profile.grpc.pb.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_process.h"

ABSL_FLAG(int, teachers, 10000, "Teachers in the county.");
ABSL_FLAG(int, rounds, 3, "Rounds; the median is reported.");
ABSL_FLAG(bool, commandstats, false,
          "Also print Redis's INFO commandstats for the teachers' import (what the script's "
          "commands cost inside Redis).");

namespace shidang::profile {
namespace {

struct Round {
  double import_rows_per_s = 0;
  double list_rows_per_s = 0;
  double raw_rows_per_s = 0;
  double bytes_per_teacher = 0;
  double timeline_bytes_per_teacher = 0;
  double import_ms = 0;     // the ImportRoster call, end to end
  double script_ms = 0;     // of which Redis ran the write script (SLOWLOG)
  double redis_cpu_ms = 0;  // Redis's CPU time (user + system) over the import
};

// Redis's own CPU time so far (INFO cpu), in ms: less disturbed by a busy machine than wall time.
double RedisCpuMs(redis::Pool& pool) {
  auto info = pool.Command({"INFO", "cpu"});
  if (!info.ok()) return 0;
  double total = 0;
  for (absl::string_view line : absl::StrSplit(info->str(), "\r\n")) {
    for (absl::string_view name : {"used_cpu_user:", "used_cpu_sys:"}) {
      double seconds = 0;
      if (absl::StartsWith(line, name) && absl::SimpleAtod(line.substr(name.size()), &seconds)) {
        total += seconds * 1000;
      }
    }
  }
  return total;
}

using bench::Median;

// HSET `key` with the teacher's fields, as the baseline writes them.
redis::Args RawTeacherHset(std::string key, const DemoTeacher& t) {
  const std::pair<const char*, std::string> fields[] = {
      {"national_teacher_id", t.national_teacher_id},
      {"name", t.name},
      {"sex", std::to_string(t.sex)},
      {"birth_date", absl::FormatCivilTime(t.birth_date)},
      {"id_card_number", t.id_card_number},
      {"hire_date", absl::FormatCivilTime(t.hire_date)},
      {"school", t.school_code},
      {"school_joined_on", absl::FormatCivilTime(t.school_joined_on)},
      {"stage", std::to_string(t.stage)},
      {"subjects", absl::StrJoin(t.subjects, ",")},
      {"staffed", t.staffed ? "1" : "0"},
      {"post_status", std::to_string(t.post_status)},
      {"title", std::to_string(t.title)},
      {"backbone_tier", std::to_string(t.backbone_tier)},
      {"phone", t.phone},
  };
  redis::Args hset = {"HSET", std::move(key)};
  hset.reserve(2 + 2 * std::size(fields));
  for (const auto& [name, value] : fields) {
    hset.emplace_back(name);
    hset.push_back(value);
  }
  return hset;
}

// Baseline: the same fields, raw, pipelined 1,000 teachers per round trip, in the same Redis.
// Returns rows per second.
double RawRowsPerSecond(redis::Pool& pool, const DemoCounty& county) {
  const absl::Time start = absl::Now();
  std::vector<redis::Args> batch;
  int64_t written = 0;
  for (const DemoTeacher& t : county.teachers) {
    batch.push_back(RawTeacherHset(
        absl::StrCat("raw:{c:", county.county_id, "}:t:", t.national_teacher_id), t));
    if (batch.size() == 1000) {
      written += static_cast<int64_t>(batch.size());
      (void)pool.Pipeline(batch);
      batch.clear();
    }
  }
  written += static_cast<int64_t>(batch.size());
  (void)pool.Pipeline(batch);
  return static_cast<double>(written) / absl::ToDoubleSeconds(absl::Now() - start);
}

// Memory: a sample of teachers' hashes, and their timelines apart.
void MeasureMemory(redis::Pool& pool, const std::string& county_id, Round* r) {
  auto ids = pool.Command({"ZRANGE", "profile:{c:" + county_id + "}:teachers", "0", "99"});
  double hash_bytes = 0, timeline_bytes = 0;
  auto usage = [&](const std::string& kind, const std::string& id) {
    auto bytes = pool.Command(
        {"MEMORY", "USAGE", "profile:{c:" + county_id + "}:" + kind + ":" + id, "SAMPLES", "0"});
    return static_cast<double>(bytes->integer());
  };
  for (size_t i = 0; i < ids->size(); ++i) {
    std::string id((*ids)[i].str());
    hash_bytes += usage("t", id);
    timeline_bytes += usage("tl", id);
  }
  r->bytes_per_teacher = hash_bytes / static_cast<double>(ids->size());
  r->timeline_bytes_per_teacher = timeline_bytes / static_cast<double>(ids->size());
}

// What Redis spent running the write script (EVALSHA entries of SLOWLOG), in ms.
double ScriptMs(redis::Pool& pool) {
  double ms = 0;
  auto slow = pool.Command({"SLOWLOG", "GET", "100"});
  for (size_t i = 0; slow.ok() && i < slow->size(); ++i) {
    const redis::Reply& entry = (*slow)[i];
    if (entry.size() > 3 && entry[3].size() > 0 && entry[3][0].str() == "EVALSHA") {
      ms += static_cast<double>(entry[2].integer()) / 1000;
    }
  }
  return ms;
}

// The county, and its schools imported from the demo's roster.
template <typename CallFn>
void CreateCountyAndSchools(CallFn& call, const DemoCounty& county) {
  v1::CreateCountyRequest create;
  create.set_county_id(county.county_id);
  create.set_name(county.county_name);
  create.set_city_code(county.city_id);
  create.set_province_code(county.province_id);
  v1::CreateCountyResponse created;
  call(&v1::ProfileService::Stub::CreateCounty, create, &created);
  v1::ImportRosterRequest schools;
  schools.set_county_id(county.county_id);
  schools.set_kind(v1::ROSTER_KIND_SCHOOLS);
  schools.set_csv(SchoolsCsv(county));
  v1::ImportRosterResponse imported;
  call(&v1::ProfileService::Stub::ImportRoster, schools, &imported);
}

// Reads the county's teachers back by pages of 500; returns how many there were.
template <typename CallFn>
int64_t ListEveryTeacher(CallFn& call, const std::string& county_id) {
  int64_t listed = 0;
  v1::ListTeachersRequest list;
  list.set_county_id(county_id);
  list.mutable_page()->set_page_size(500);
  while (true) {
    v1::ListTeachersResponse page;
    call(&v1::ProfileService::Stub::ListTeachers, list, &page);
    listed += page.teachers_size();
    if (page.page().next_page_token().empty()) break;
    list.mutable_page()->set_page_token(page.page().next_page_token());
  }
  return listed;
}

Round RunRound(const DemoCounty& county, int round) {
  Round r;
  testing::RedisServer redis;
  testing::TempDir keys;
  const std::string key(40, 'k');
  std::ofstream(keys.path() + "/principal.key") << key;
  std::ofstream(keys.path() + "/data.key") << std::string(40, 'd');
  auto process = testing::ServiceProcess::Start(
      SHIDANG_PROFILE_BINARY,
      {"--redis=" + redis.address(), "--principal_key_file=" + keys.path() + "/principal.key",
       "--data_key_file=" + keys.path() + "/data.key", "--consume="});
  if (!process.ok()) {
    bench::Die(absl::StrCat("cannot start the profile service: ", process.status().ToString()));
  }
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_MAX_METADATA_SIZE, 1 << 20);
  args.SetMaxSendMessageSize(16 << 20);
  args.SetMaxReceiveMessageSize(16 << 20);
  auto stub = v1::ProfileService::NewStub(
      grpc::CreateCustomChannel((*process)->address(), grpc::InsecureChannelCredentials(), args));
  PrincipalSigner signer(key);
  common::v1::Principal admin;
  admin.set_role(common::v1::ROLE_ADMIN);
  admin.set_subject("bench");
  auto call = [&](auto method, const auto& req, auto* resp) {
    grpc::ClientContext ctx;
    signer.Attach(&ctx, admin);
    grpc::Status s = ((*stub).*method)(&ctx, req, resp);
    if (!s.ok()) bench::Die("rpc failed: " + s.error_message());
  };
  CreateCountyAndSchools(call, county);
  v1::ImportRosterResponse imported;

  v1::ImportRosterRequest teachers;
  teachers.set_county_id(county.county_id);
  teachers.set_kind(v1::ROSTER_KIND_TEACHERS);
  teachers.set_csv(TeachersCsv(county));
  teachers.set_request_id(absl::StrCat("bench-", round));
  // Where the time goes: Redis's own clock for the scripts (SLOWLOG keeps every command slower
  // than 10 ms; only the import's script is), the rest is the service and the round trips.
  (void)redis.pool().Command({"CONFIG", "SET", "slowlog-log-slower-than", "10000"});
  (void)redis.pool().Command({"SLOWLOG", "RESET"});
  (void)redis.pool().Command({"CONFIG", "RESETSTAT"});
  const double cpu_before = RedisCpuMs(redis.pool());
  absl::Time start = absl::Now();
  call(&v1::ProfileService::Stub::ImportRoster, teachers, &imported);
  double import_s = absl::ToDoubleSeconds(absl::Now() - start);
  r.redis_cpu_ms = RedisCpuMs(redis.pool()) - cpu_before;
  r.import_ms = import_s * 1000;
  r.script_ms = ScriptMs(redis.pool());
  r.import_rows_per_s = static_cast<double>(imported.created()) / import_s;
  if (absl::GetFlag(FLAGS_commandstats)) {
    auto stats = redis.pool().Command({"INFO", "commandstats"});
    if (stats.ok()) std::printf("%s\n", std::string(stats->str()).c_str());
  }

  start = absl::Now();
  const int64_t listed = ListEveryTeacher(call, county.county_id);
  r.list_rows_per_s = static_cast<double>(listed) / absl::ToDoubleSeconds(absl::Now() - start);
  if (listed != imported.created()) {
    bench::Die(absl::StrCat("listed ", listed, " of ", imported.created()));
  }

  MeasureMemory(redis.pool(), county.county_id, &r);

  r.raw_rows_per_s = RawRowsPerSecond(redis.pool(), county);
  return r;
}

}  // namespace
}  // namespace shidang::profile

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  using namespace shidang::profile;  // NOLINT
  DemoCountyOptions options;
  options.teachers = absl::GetFlag(FLAGS_teachers);
  options.schools = 120;
  options.today = absl::CivilDay(2025, 11, 25);
  absl::StatusOr<DemoCounty> county = GenerateDemoCounty(options);
  if (!county.ok()) {
    std::fprintf(stderr, "%s\n", county.status().ToString().c_str());
    return 1;
  }
  std::vector<double> ratio, import, list, raw, bytes, timeline;
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    Round r = RunRound(*county, round);
    std::printf(
        "round %d: import %.0f rows/s (%.0f ms, of which the Redis script %.0f ms; Redis CPU "
        "%.0f ms), list %.0f rows/s, raw pipelined HSET %.0f rows/s, ratio %.3f; %.0f B/teacher + "
        "%.0f B timeline\n",
        round + 1, r.import_rows_per_s, r.import_ms, r.script_ms, r.redis_cpu_ms, r.list_rows_per_s,
        r.raw_rows_per_s, r.import_rows_per_s / r.raw_rows_per_s, r.bytes_per_teacher,
        r.timeline_bytes_per_teacher);
    ratio.push_back(r.import_rows_per_s / r.raw_rows_per_s);
    import.push_back(r.import_rows_per_s);
    list.push_back(r.list_rows_per_s);
    raw.push_back(r.raw_rows_per_s);
    bytes.push_back(r.bytes_per_teacher);
    timeline.push_back(r.timeline_bytes_per_teacher);
  }
  std::printf(
      "median: import %.0f rows/s, list %.0f rows/s, raw %.0f rows/s, import/raw ratio %.3f "
      "(target >= 0.25); memory %.0f B per teacher (target <= 1024) + %.0f B timeline\n",
      Median(import), Median(list), Median(raw), Median(ratio), Median(bytes), Median(timeline));
  return 0;
}

// bench_rotation: the rotation service as a real process on its own redis-server, with a county of
// 10,000 teachers in 200 schools (100 urban ones that send, 100 rural ones that receive) and 1,500
// rotations, the teachers and schools learned the way they are in production: from the profile
// service's events, which the service consumes. Each measure is set against raw Redis work on the
// same keys in the same run:
//   - GetRotationCompliance for the county against a raw pipelined read of the keys it reads
//     (the county's teachers, schools, deferrals and rotations; target within 3x);
//   - SuggestCandidates (up to 1,000) against the same raw read (target within 5x);
//   - ApproveRotation one at a time against bare HSET round trips one at a time from the same
//     client (target >= 0.25 of their speed). Two more baselines say where an approval's time
//     goes: a gRPC hop alone (a call the service refuses after verifying the principal, before
//     any Redis work), and the approval's use case run in this process on the same Redis
//     (rotation::ApproveRotation: its read and its script, no gRPC).
// The report and the candidates are timed on an unchanged county (after one warm call), which is
// what the service's county cache (services/rotation/county_cache.h) serves with one small read;
// the first call after a write reads and parses the county again.
// Each round starts a fresh Redis and service; each timed call is repeated and its median taken.
//
//   build-rel/bench/bench_rotation [--teachers=10000] [--schools=200] [--rotations=1500]
//                                  [--approvals=300] [--rounds=3]

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/bench_kit.h"
#include "services/common/clock.h"
#include "services/common/events.h"
#include "services/common/keys.h"
#include "services/common/mutation.h"
#include "services/common/policy.h"
#include "services/common/principal.h"
#include "services/rotation/candidates.h"
#include "services/rotation/compliance.h"
#include "services/rotation/context.h"
#include "services/rotation/county_cache.h"
#include "services/rotation/store.h"
#include "services/rotation/workflow.h"
#include "shidang/profile/v1/profile.pb.h"
#include "shidang/rotation/v1/rotation.grpc.pb.h"
#include "tests/kit/principals.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_process.h"

ABSL_FLAG(int, teachers, 10000, "Teachers in the county.");
ABSL_FLAG(int, schools, 200, "Schools in the county (half urban, half rural).");
ABSL_FLAG(int, rotations, 1500, "Rotations proposed from the urban schools.");
ABSL_FLAG(
    int, approvals, 300,
    "Proposals approved one at a time (timed) per round, through gRPC and as many in-process.");
ABSL_FLAG(int, repeats, 5, "Timed repetitions of each read per round; the median is kept.");
ABSL_FLAG(int, rounds, 3, "Rounds; the median is reported.");

namespace shidang::rotation {
namespace {

using common::v1::Principal;
namespace pv1 = ::shidang::profile::v1;
using bench::Die;
using bench::Median;
using bench::TimeMedian;

constexpr char kCounty[] = "330723";
constexpr char kToday[] = "2025-11-25";

struct Round {
  double report_s = 0, candidates_s = 0, raw_read_s = 0;
  double report_cold_s = 0;  // the first report after a write: the county read and parsed again
  // The same two computed in the bench's own process from a warm cache (no gRPC).
  double report_inproc_s = 0, candidates_inproc_s = 0;
  // Per call: an approval over gRPC, a bare HSET, a gRPC hop alone, an approval in-process.
  double approve_s = 0, raw_hset_s = 0, hop_s = 0, approve_inproc_s = 0;
  int schools_reported = 0, candidates = 0;
  int64_t raw_bytes = 0;
};

std::string SchoolId(int i) { return absl::StrFormat("S%s-%010d", kCounty, i); }
std::string TeacherId(int i) { return absl::StrFormat("T%06d", i); }

// The profile service's events for every school and teacher, as it publishes them (250 to a
// script), then waits until the rotation service holds every teacher.
void PublishCounty(testing::RedisServer& redis, int schools, int teachers) {
  const std::string stream = keys::StreamKey("profile", keys::HashTag("c", kCounty));
  if (!RegisterStream(redis.pool(), "profile", stream).ok()) Die("cannot register the stream");
  std::vector<common::v1::Event> events;
  for (int i = 0; i < schools; ++i) {
    pv1::School s;
    s.set_school_id(SchoolId(i));
    s.set_county_id(kCounty);
    s.set_name(absl::StrCat(i < schools / 2 ? "城关第" : "乡村第", i, "小学"));
    s.set_stage(common::v1::STAGE_PRIMARY);
    s.set_ownership(pv1::SCHOOL_OWNERSHIP_PUBLIC);
    s.set_location(i < schools / 2 ? pv1::SCHOOL_LOCATION_URBAN : pv1::SCHOOL_LOCATION_RURAL);
    s.set_quality(pv1::SCHOOL_QUALITY_ORDINARY);
    s.set_kind(pv1::SCHOOL_KIND_REGULAR);
    s.set_compulsory_education(true);
    common::v1::Event e = NewEvent("profile", "profile.school_created", absl::Now());
    e.set_county_id(kCounty);
    e.mutable_payload()->PackFrom(s);
    events.push_back(std::move(e));
  }
  for (int i = 0; i < teachers; ++i) {
    pv1::Teacher t;
    t.set_teacher_id(TeacherId(i));
    t.set_name(absl::StrCat("教师", i));
    t.set_county_id(kCounty);
    t.set_school_id(SchoolId(i % schools));
    t.set_school_joined_on(i % 7 == 0 ? "2022-09-01" : "2015-09-01");
    t.set_hire_date("2010-09-01");
    t.set_birth_date("1985-03-10");
    t.set_sex(i % 2 ? common::v1::SEX_MALE : common::v1::SEX_FEMALE);
    t.set_stage(common::v1::STAGE_PRIMARY);
    t.add_subjects(i % 3 ? "数学" : "语文");
    t.set_staffed(true);
    t.set_post_status(pv1::POST_STATUS_ON_DUTY);
    if (i % 10 == 3) {
      t.set_backbone_tier(common::v1::BACKBONE_TIER_COUNTY);
      t.set_backbone_designated_on("2020-01-01");
    }
    common::v1::Event e = NewEvent("profile", "profile.teacher_created", absl::Now());
    e.set_teacher_id(t.teacher_id());
    e.set_county_id(kCounty);
    e.mutable_payload()->PackFrom(t);
    events.push_back(std::move(e));
  }
  Mutation publish("emit_all() return {ok = ''}");
  for (size_t first = 0; first < events.size(); first += 250) {
    MutationRequest m;
    m.stream_key = stream;
    for (size_t i = first; i < std::min(events.size(), first + 250); ++i) {
      m.events.push_back(events[i]);
    }
    absl::Status s = publish.Run(redis.pool(), m).status();
    if (!s.ok()) Die(absl::StrCat("publish: ", s.ToString()));
  }
  const absl::Time deadline = absl::Now() + absl::Minutes(5);
  while (absl::Now() < deadline) {
    auto known = redis.pool().Command({"HLEN", RotationStore::TeachersKey(kCounty)});
    if (known.ok() && known->integer() >= teachers) return;
    absl::SleepFor(absl::Milliseconds(100));
  }
  Die("the rotation service never learned every teacher");
}

// The keys GetRotationCompliance and SuggestCandidates read (RotationStore::ReadCounty), read
// raw in one pipelined round trip over the same kind of connection the service has; the bytes.
int64_t RawCountyRead(testing::RedisServer& redis) {
  auto replies = redis.pool().Pipeline({{"GET", RotationStore::WritesKey(kCounty)},
                                        {"HGETALL", RotationStore::TeachersKey(kCounty)},
                                        {"HGETALL", RotationStore::SchoolsKey(kCounty)},
                                        {"HVALS", RotationStore::DeferralsKey(kCounty)},
                                        {"HVALS", RotationStore::RotationsKey(kCounty)}});
  if (!replies.ok()) Die("raw read failed");
  int64_t bytes = 0;
  for (const redis::Reply& reply : *replies) {
    bytes += static_cast<int64_t>(reply.str().size());
    for (size_t i = 0; i < reply.size(); ++i) bytes += static_cast<int64_t>(reply[i].str().size());
  }
  return bytes;
}

// The approval's use case in this process, on the bench's Redis: what an approval costs without
// its gRPC hop.
class InProcess {
 public:
  explicit InProcess(redis::Pool& pool, const Principal& hr)
      : pool_(pool),
        store_(pool),
        counties_(store_),
        policies_(pool, policy::PolicyStoreOptions{.clock = &clock_}),
        deps_{pool_, store_, counties_, policies_, clock_, {}} {
    call_.principal = hr;
    call_.request_id = "bench";
    call_.actor = ActorOf(hr);
  }

  void Approve(const std::string& rotation_id, const std::string& request_id) {
    v1::ApproveRotationRequest req;
    req.set_request_id(request_id);
    req.set_rotation_id(rotation_id);
    v1::ApproveRotationResponse resp;
    absl::Status s = ApproveRotation(deps_, call_, req, &resp);
    if (!s.ok()) Die(absl::StrCat("in-process approval: ", s.ToString()));
  }

  // The report and the candidates computed in this process (no gRPC), from its own cache.
  void Report(const v1::GetRotationComplianceRequest& req) {
    v1::GetRotationComplianceResponse resp;
    absl::Status s = GetRotationCompliance(deps_, call_, req, &resp);
    if (!s.ok()) Die(absl::StrCat("in-process report: ", s.ToString()));
  }
  void Candidates(const v1::SuggestCandidatesRequest& req) {
    v1::SuggestCandidatesResponse resp;
    absl::Status s = SuggestCandidates(deps_, call_, req, &resp);
    if (!s.ok()) Die(absl::StrCat("in-process candidates: ", s.ToString()));
  }

 private:
  FixedClock clock_{absl::CivilDay(2025, 11, 25)};  // kToday
  redis::Pool& pool_;
  RotationStore store_;
  CountyCache counties_;
  policy::PolicyStore policies_;
  Deps deps_;
  CallContext call_;
};

// The service under bench, called as the county's HR.
class Bench : public bench::ServiceUnderBench<v1::RotationService> {
 public:
  Bench()
      : ServiceUnderBench(SHIDANG_ROTATION_BINARY, kToday,
                          testing::Who(common::v1::ROLE_COUNTY_HR, "hr1", kCounty)) {}

  const Principal& hr() const { return caller(); }

  // A gRPC hop alone: a call the service refuses after verifying the principal, before any
  // Redis work (a malformed rotation id).
  void Hop() {
    grpc::ClientContext ctx;
    Sign(&ctx, std::chrono::seconds(30));
    v1::GetRotationRequest req;
    req.set_rotation_id("not-a-rotation-id");
    v1::GetRotationResponse resp;
    grpc::Status s = stub().GetRotation(&ctx, req, &resp);
    if (s.error_code() != grpc::StatusCode::INVALID_ARGUMENT) Die("the empty call was not refused");
  }

  // `n` proposals, one per teacher of the urban schools, each to a rural school; their ids.
  std::vector<std::string> Propose(int n, int schools) {
    std::vector<std::string> ids;
    const int urban = schools / 2;
    for (int k = 0; k < n; ++k) {
      // Teacher k-th of the urban schools in turn: school k % urban, its (k / urban)-th teacher.
      const int teacher = (k / urban) * schools + k % urban;
      v1::CreateRotationRequest req;
      req.set_request_id(absl::StrCat("propose-", k));
      req.set_teacher_id(TeacherId(teacher));
      req.set_receiving_school_id(SchoolId(urban + k % urban));
      req.set_form(v1::ROTATION_FORM_SUPPORT_TEACHING);
      req.set_start_date("2025-09-01");
      req.set_planned_end_date(k % 9 == 0 ? "2026-01-31" : "2026-08-31");
      v1::CreateRotationResponse resp;
      Call(&v1::RotationService::Stub::CreateRotation, req, &resp);
      ids.push_back(resp.rotation().rotation_id());
    }
    return ids;
  }
};

// Approvals one at a time through gRPC (proposals [0, n)) and in-process ([n, 2n)), bare HSET
// round trips and gRPC hops, interleaved in blocks of 50 so that load changes hit all alike.
void TimeApprovals(Bench& bench, const std::vector<std::string>& ids, int n, Round* r) {
  InProcess in_process(bench.redis().pool(), bench.hr());
  double approve_s = 0, raw_s = 0, hop_s = 0, inproc_s = 0;
  for (int first = 0; first < n; first += 50) {
    const int last = std::min(n, first + 50);
    absl::Time start = absl::Now();
    for (int k = first; k < last; ++k) {
      v1::ApproveRotationRequest req;
      req.set_request_id(absl::StrCat("approve-", k));
      req.set_rotation_id(ids[k]);
      v1::ApproveRotationResponse resp;
      bench.Call(&v1::RotationService::Stub::ApproveRotation, req, &resp);
    }
    approve_s += absl::ToDoubleSeconds(absl::Now() - start);
    start = absl::Now();
    for (int k = first; k < last; ++k) {
      if (!bench.redis()
               .pool()
               .Command({"HSET", absl::StrCat("raw:{c:", kCounty, "}:rot"), ids[k], ids[k]})
               .ok()) {
        Die("raw HSET failed");
      }
    }
    raw_s += absl::ToDoubleSeconds(absl::Now() - start);
    start = absl::Now();
    for (int k = first; k < last; ++k) bench.Hop();
    hop_s += absl::ToDoubleSeconds(absl::Now() - start);
    start = absl::Now();
    for (int k = first; k < last; ++k) in_process.Approve(ids[n + k], absl::StrCat("inproc-", k));
    inproc_s += absl::ToDoubleSeconds(absl::Now() - start);
  }
  r->approve_s = approve_s / n;
  r->raw_hset_s = raw_s / n;
  r->hop_s = hop_s / n;
  r->approve_inproc_s = inproc_s / n;
}

Round RunRound(int teachers, int schools, int rotations, int approvals, int repeats) {
  Round r;
  Bench bench;
  PublishCounty(bench.redis(), schools, teachers);
  const std::vector<std::string> ids = bench.Propose(rotations, schools);
  // Half of the rest approved beforehand (untimed), so the report sees both states.
  for (int k = 2 * approvals; k < rotations; k += 2) {
    v1::ApproveRotationRequest req;
    req.set_request_id(absl::StrCat("approve-", k));
    req.set_rotation_id(ids[k]);
    v1::ApproveRotationResponse resp;
    bench.Call(&v1::RotationService::Stub::ApproveRotation, req, &resp);
  }
  TimeApprovals(bench, ids, approvals, &r);

  v1::GetRotationComplianceRequest report;
  report.set_county_id(kCounty);
  report.set_school_year("2025");
  v1::GetRotationComplianceResponse answered;
  // The first report after the approvals reads and parses the county (and caches it).
  r.report_cold_s = TimeMedian(
      1, [&] { bench.Call(&v1::RotationService::Stub::GetRotationCompliance, report, &answered); });
  r.report_s = TimeMedian(repeats, [&] {
    bench.Call(&v1::RotationService::Stub::GetRotationCompliance, report, &answered);
  });
  r.schools_reported = answered.schools_size();
  if (answered.county().eligible() == 0) Die("nobody eligible");

  v1::SuggestCandidatesRequest suggest;
  suggest.set_county_id(kCounty);
  suggest.set_school_year("2025");
  suggest.set_limit(1000);
  v1::SuggestCandidatesResponse suggested;
  r.candidates_s = TimeMedian(repeats, [&] {
    bench.Call(&v1::RotationService::Stub::SuggestCandidates, suggest, &suggested);
  });
  r.candidates = suggested.candidates_size();

  InProcess in_process(bench.redis().pool(), bench.hr());
  in_process.Report(report);  // warms its cache
  r.report_inproc_s = TimeMedian(repeats, [&] { in_process.Report(report); });
  r.candidates_inproc_s = TimeMedian(repeats, [&] { in_process.Candidates(suggest); });
  r.raw_read_s = TimeMedian(repeats, [&] { r.raw_bytes = RawCountyRead(bench.redis()); });
  if (r.raw_bytes == 0) Die("the raw read read nothing");
  return r;
}

}  // namespace
}  // namespace shidang::rotation

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  using namespace shidang::rotation;  // NOLINT
  const int teachers = absl::GetFlag(FLAGS_teachers), schools = absl::GetFlag(FLAGS_schools);
  const int rotations = absl::GetFlag(FLAGS_rotations), approvals = absl::GetFlag(FLAGS_approvals);
  const int repeats = absl::GetFlag(FLAGS_repeats);
  if (schools < 2 || teachers < schools || rotations > teachers / 2 || approvals < 1 ||
      2 * approvals > rotations || repeats < 1) {
    std::fprintf(stderr,
                 "need 2 <= schools <= teachers, 1 <= 2 x approvals <= rotations <= teachers / 2, "
                 "repeats >= 1\n");
    return 2;
  }
  std::vector<double> report, candidates, approve, hop, inproc;
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    Round r = RunRound(teachers, schools, rotations, approvals, repeats);
    std::printf(
        "round %d: compliance report (%d schools) %.1f ms (first after a write %.1f ms), "
        "candidates (%d) %.1f ms, raw pipelined read of the same keys (%.1f MB) %.1f ms: "
        "report/raw %.2fx, candidates/raw %.2fx; approval %.3f ms, bare HSET %.3f ms: ratio "
        "%.3f; gRPC hop alone %.3f ms (HSET/hop %.3f); approval in-process %.3f ms (HSET/that "
        "%.3f); in-process (no gRPC, warm cache) report %.1f ms, candidates %.1f ms\n",
        round + 1, r.schools_reported, r.report_s * 1e3, r.report_cold_s * 1e3, r.candidates,
        r.candidates_s * 1e3, static_cast<double>(r.raw_bytes) / 1e6, r.raw_read_s * 1e3,
        r.report_s / r.raw_read_s, r.candidates_s / r.raw_read_s, r.approve_s * 1e3,
        r.raw_hset_s * 1e3, r.raw_hset_s / r.approve_s, r.hop_s * 1e3, r.raw_hset_s / r.hop_s,
        r.approve_inproc_s * 1e3, r.raw_hset_s / r.approve_inproc_s, r.report_inproc_s * 1e3,
        r.candidates_inproc_s * 1e3);
    std::fflush(stdout);
    report.push_back(r.report_s / r.raw_read_s);
    candidates.push_back(r.candidates_s / r.raw_read_s);
    approve.push_back(r.raw_hset_s / r.approve_s);
    hop.push_back(r.raw_hset_s / r.hop_s);
    inproc.push_back(r.raw_hset_s / r.approve_inproc_s);
  }
  const double m_report = Median(report), m_candidates = Median(candidates),
               m_approve = Median(approve);
  std::printf(
      "median of %zu rounds, %d teachers in %d schools, %d rotations: report/raw %.2fx (target "
      "<= 3x: %s), candidates/raw %.2fx (target <= 5x: %s), approvals at %.3f of bare HSET round "
      "trips (target >= 0.25: %s); a gRPC hop alone at %.3f of a bare HSET, the approval "
      "in-process at %.3f (>= 0.25: %s)\n",
      report.size(), teachers, schools, rotations, m_report, m_report <= 3 ? "met" : "NOT met",
      m_candidates, m_candidates <= 5 ? "met" : "NOT met", m_approve,
      m_approve >= 0.25 ? "met" : "NOT met", Median(hop), Median(inproc),
      Median(inproc) >= 0.25 ? "met" : "NOT met");
  return 0;
}

// bench_rotation: the rotation service as a real process on its own redis-server, with a county of
// 10,000 teachers in 200 schools (100 urban ones that send, 100 rural ones that receive) and 1,500
// rotations, the teachers and schools learned the way they are in production: from the profile
// service's events, which the service consumes. Each measure is set against raw Redis work on the
// same keys in the same run:
//   - GetRotationCompliance for the county against a raw pipelined read of the keys it reads
//     (the county's teachers, schools, deferrals and rotations; target within 3x);
//   - SuggestCandidates (up to 1,000) against the same raw read (target within 5x);
//   - ApproveRotation one at a time against bare HSET round trips one at a time from the same
//     client (target >= 0.25 of their speed), through gRPC and in this process on the same Redis
//     (rotation::ApproveRotation with its store: its one script, the replay of a retried request
//     id included, no gRPC: measured the way bench_write_path measures the kit's write path);
//     a gRPC hop alone (a call the service refuses after verifying the principal, before any
//     Redis work) says what the hop costs, and the kit's write path alone (bench_write_path's
//     Mutation, also against its own 8-field HSET) what the machine allows any write.
//     CreateRotation, StartRotation and CompleteRotation are timed the same way, both ways.
// The report and the candidates are timed on an unchanged county (after one warm call), which is
// what the service's county cache (services/rotation/county_cache.h) serves with one small read,
// and right after a write (one approval through the service before each call, untimed), which
// the cache serves by patching its copy from the county's change log
// (services/common/county_delta.h); the first report of a round reads and parses it whole.
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
#include <functional>
#include <memory>
#include <string>
#include <utility>
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

using bench::Die;
using bench::Median;
using bench::TimeMedian;
using bench::TimeMedianAfter;

using common::v1::Principal;
namespace pv1 = ::shidang::profile::v1;

constexpr char kCounty[] = "330723";
constexpr char kToday[] = "2025-11-25";

// One kind of write, one at a time: seconds per call over gRPC and in-process, and per bare HSET
// round trip in the same blocks (means).
struct WriteTimes {
  double grpc_s = 0, inproc_s = 0, hset_s = 0;
  // Medians over the blocks of HSET time / write time (TimeWrites).
  double grpc_ratio = 0, inproc_ratio = 0;
  // The same for the kit's write path alone in the same blocks (KitWrite).
  double kit_ratio = 0;
  // The in-process write and the kit's write path against bench_write_path's baseline, an HSET of
  // its 8 fields, timed in the same blocks.
  double inproc_ratio8 = 0, kit_ratio8 = 0;
};

struct Round {
  double report_s = 0, candidates_s = 0, raw_read_s = 0;
  double report_cold_s = 0;  // the first report: the county read and parsed whole
  // Each right after one approval (the cache patched from the change log).
  double report_write_s = 0, candidates_write_s = 0;
  // The same two computed in the bench's own process from a warm cache (no gRPC).
  double report_inproc_s = 0, candidates_inproc_s = 0;
  // Per call: a bare HSET, a gRPC hop alone; each write over gRPC and in-process.
  double raw_hset_s = 0, hop_s = 0;
  WriteTimes approve, propose, start, complete;
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
        counties_(pool_),
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
  void Propose(const v1::CreateRotationRequest& req) {
    v1::CreateRotationResponse resp;
    absl::Status s = CreateRotation(deps_, call_, req, &resp);
    if (!s.ok()) Die(absl::StrCat("in-process proposal: ", s.ToString()));
  }
  void Start(const std::string& rotation_id, const std::string& request_id) {
    v1::StartRotationRequest req;
    req.set_request_id(request_id);
    req.set_rotation_id(rotation_id);
    v1::StartRotationResponse resp;
    absl::Status s = StartRotation(deps_, call_, req, &resp);
    if (!s.ok()) Die(absl::StrCat("in-process start: ", s.ToString()));
  }
  void Complete(const std::string& rotation_id, const std::string& request_id) {
    v1::CompleteRotationRequest req;
    req.set_request_id(request_id);
    req.set_rotation_id(rotation_id);
    req.set_completed_on(kToday);
    v1::CompleteRotationResponse resp;
    absl::Status s = CompleteRotation(deps_, call_, req, &resp);
    if (!s.ok()) Die(absl::StrCat("in-process completion: ", s.ToString()));
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

// The k-th proposal: the k-th teacher of the urban schools in turn (school k % urban, its
// (k / urban)-th teacher) to a rural school.
v1::CreateRotationRequest Proposal(int k, int schools) {
  const int urban = schools / 2;
  v1::CreateRotationRequest req;
  req.set_request_id(absl::StrCat("propose-", k));
  req.set_teacher_id(TeacherId((k / urban) * schools + k % urban));
  req.set_receiving_school_id(SchoolId(urban + k % urban));
  req.set_form(v1::ROTATION_FORM_SUPPORT_TEACHING);
  req.set_start_date("2025-09-01");
  req.set_planned_end_date(k % 9 == 0 ? "2026-01-31" : "2026-08-31");
  return req;
}

class Bench {
 public:
  Bench() {
    std::ofstream(keys_.path() + "/principal.key", std::ios::binary) << std::string(40, 'k');
    auto process = testing::ServiceProcess::Start(
        SHIDANG_ROTATION_BINARY,
        {"--redis=" + redis_.address(), "--principal_key_file=" + keys_.path() + "/principal.key",
         std::string("--today=") + kToday});
    if (!process.ok()) Die(absl::StrCat("cannot start the service: ", process.status().ToString()));
    process_ = std::move(*process);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    stub_ = v1::RotationService::NewStub(
        grpc::CreateCustomChannel(process_->address(), grpc::InsecureChannelCredentials(), args));
    hr_.set_role(common::v1::ROLE_COUNTY_HR);
    hr_.set_subject("hr1");
    hr_.set_region(kCounty);
  }

  testing::RedisServer& redis() { return redis_; }
  const Principal& hr() const { return hr_; }

  // A gRPC hop alone: a call the service refuses after verifying the principal, before any
  // Redis work (a malformed rotation id).
  void Hop() {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    signer_.Attach(&ctx, hr_);
    v1::GetRotationRequest req;
    req.set_rotation_id("not-a-rotation-id");
    v1::GetRotationResponse resp;
    grpc::Status s = stub_->GetRotation(&ctx, req, &resp);
    if (s.error_code() != grpc::StatusCode::INVALID_ARGUMENT) Die("the empty call was not refused");
  }

  template <typename Req, typename Resp>
  void Call(grpc::Status (v1::RotationService::Stub::*method)(grpc::ClientContext*, const Req&,
                                                              Resp*),
            const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(300));
    signer_.Attach(&ctx, hr_);
    grpc::Status s = ((*stub_).*method)(&ctx, req, resp);
    if (!s.ok()) Die(absl::StrCat("rpc failed: ", s.error_message(), "\n", process_->StderrText()));
  }

  // `n` proposals, one per teacher of the urban schools, each to a rural school; their ids.
  std::vector<std::string> Propose(int n, int schools) {
    std::vector<std::string> ids;
    for (int k = 0; k < n; ++k) {
      v1::CreateRotationResponse resp;
      Call(&v1::RotationService::Stub::CreateRotation, Proposal(k, schools), &resp);
      ids.push_back(resp.rotation().rotation_id());
    }
    return ids;
  }

 private:
  testing::RedisServer redis_;
  testing::TempDir keys_;
  std::unique_ptr<testing::ServiceProcess> process_;
  std::unique_ptr<v1::RotationService::Stub> stub_;
  PrincipalSigner signer_{std::string(40, 'k')};
  Principal hr_;
};

// The kit's write path alone, as bench_write_path measures it (its ~0.38 of a bare HSET): a
// Mutation that HSETs 8 fields of a teacher, publishes one event and stores the idempotency record
// of a fresh request id, in this process on the same Redis.
class KitWrite {
 public:
  explicit KitWrite(redis::Pool& pool) : pool_(pool) {}

  void Run() {
    const int i = next_++;
    common::v1::Event request;  // stands in for a service's request message
    request.set_request_id(absl::StrCat("kit-", i));
    request.set_teacher_id(absl::StrCat("t", i % 1000));
    request.set_summary("更新教师基本信息");
    const std::string tag = keys::HashTag("c", kCounty);
    MutationRequest m;
    if (!AttachIdempotency(m, "profile", tag, "county_hr:hr1", "UpdateTeacher", request).ok()) {
      Die("kit write: idempotency");
    }
    m.stream_key = keys::StreamKey("profile", tag);
    m.stream_cap = 1000000;
    common::v1::Event event = NewEvent("profile", "profile.teacher_updated", absl::Now());
    event.set_teacher_id(request.teacher_id());
    event.set_county_id(kCounty);
    event.set_actor("county_hr:hr1");
    event.set_request_id(request.request_id());
    event.set_summary("更新教师基本信息");
    m.events.push_back(std::move(event));
    m.keys = {TeacherKey(i)};
    m.args = Fields(i);
    if (!update_.Run(pool_, m).ok()) Die("kit write failed");
  }

  // bench_write_path's baseline: a bare HSET of the same 8 fields.
  void BareHset(int i) {
    redis::Args hset = {"HSET", TeacherKey(i)};
    for (std::string& field : Fields(i)) hset.push_back(std::move(field));
    if (!pool_.Command(hset).ok()) Die("8-field HSET failed");
  }

 private:
  static std::string TeacherKey(int i) {
    return absl::StrCat("profile:", keys::HashTag("c", kCounty), ":teacher:t", i % 1000);
  }
  static redis::Args Fields(int i) {
    return {"name",       absl::StrCat("张老师", i),
            "gender",     "GENDER_FEMALE",
            "birth_date", "1985-03-14",
            "school_id",  "s-330723-0042",
            "title",      "PROFESSIONAL_TITLE_SENIOR",
            "subject",    "数学",
            "hired_on",   "2008-09-01",
            "status",     absl::StrCat("v", i)};
  }

  redis::Pool& pool_;
  const Mutation update_{R"lua(
    redis.call('HSET', K[1], unpack(A))
    emit(1)
    return {ok = K[1]}
  )lua"};
  int next_ = 0;
};

// One kind of write one at a time, `n` through gRPC (by_grpc(k)) and `n` in-process
// (in_process(k)), with as many bare HSET round trips and gRPC hops, interleaved in blocks of
// kBlock; the ratios are the medians of the blocks' (HSETs' time / the writes' time), so that a
// burst of load from elsewhere moves one block, not the result. Adds the hops' seconds to `hop_s`.
constexpr int kBlock = 10;

WriteTimes TimeWrites(Bench& bench, KitWrite& kit, int n, const std::function<void(int)>& by_grpc,
                      const std::function<void(int)>& in_process, double* hop_s) {
  WriteTimes t;
  std::vector<double> grpc_ratios, inproc_ratios, kit_ratios, inproc_ratios8, kit_ratios8;
  auto timed = [](int first, int last, const std::function<void(int)>& op) {
    const absl::Time start = absl::Now();
    for (int k = first; k < last; ++k) op(k);
    return absl::ToDoubleSeconds(absl::Now() - start);
  };
  const std::string raw_key = absl::StrCat("raw:{c:", kCounty, "}:rot");
  auto hset = [&](int k) {
    const std::string field = absl::StrCat("f", k);
    if (!bench.redis().pool().Command({"HSET", raw_key, field, field}).ok()) Die("HSET failed");
  };
  for (int first = 0; first < n; first += kBlock) {
    const int last = std::min(n, first + kBlock);
    const double hset_s = timed(first, last, hset);
    const double grpc_s = timed(first, last, by_grpc);
    const double inproc_s = timed(first, last, in_process);
    *hop_s += timed(first, last, [&](int) { bench.Hop(); });
    const double kit_s = timed(first, last, [&](int) { kit.Run(); });
    const double hset8_s = timed(first, last, [&](int k) { kit.BareHset(k); });
    kit_ratios.push_back(hset_s / kit_s);
    inproc_ratios8.push_back(hset8_s / inproc_s);
    kit_ratios8.push_back(hset8_s / kit_s);
    t.hset_s += hset_s;
    t.grpc_s += grpc_s;
    t.inproc_s += inproc_s;
    grpc_ratios.push_back(hset_s / grpc_s);
    inproc_ratios.push_back(hset_s / inproc_s);
  }
  t.grpc_s /= n;
  t.inproc_s /= n;
  t.hset_s /= n;
  t.grpc_ratio = Median(grpc_ratios);
  t.inproc_ratio = Median(inproc_ratios);
  t.kit_ratio = Median(kit_ratios);
  t.inproc_ratio8 = Median(inproc_ratios8);
  t.kit_ratio8 = Median(kit_ratios8);
  return t;
}

// Proposals of `n` teachers with none yet (after the first `rotations`) through gRPC and `n` more
// in-process; approvals of proposals [0, n) through gRPC and [n, 2n) in-process; then their
// starts and completions the same way.
void TimeWorkflow(Bench& bench, const std::vector<std::string>& ids, int rotations, int schools,
                  int n, Round* r) {
  InProcess in_process(bench.redis().pool(), bench.hr());
  const int urban = schools / 2;
  // The first proposal index whose teacher has no rotation yet (a whole row of urban teachers on).
  const int fresh = (rotations + urban - 1) / urban * urban;
  KitWrite kit(bench.redis().pool());
  double hop_s = 0;
  auto timed = [&](const std::function<void(int)>& by_grpc, const std::function<void(int)>& here) {
    return TimeWrites(bench, kit, n, by_grpc, here, &hop_s);
  };
  r->propose = timed(
      [&](int k) {
        v1::CreateRotationResponse resp;
        bench.Call(&v1::RotationService::Stub::CreateRotation, Proposal(fresh + k, schools), &resp);
      },
      [&](int k) { in_process.Propose(Proposal(fresh + n + k, schools)); });
  r->approve = timed(
      [&](int k) {
        v1::ApproveRotationRequest req;
        req.set_request_id(absl::StrCat("approve-", k));
        req.set_rotation_id(ids[k]);
        v1::ApproveRotationResponse resp;
        bench.Call(&v1::RotationService::Stub::ApproveRotation, req, &resp);
      },
      [&](int k) { in_process.Approve(ids[n + k], absl::StrCat("inproc-approve-", k)); });
  r->start = timed(
      [&](int k) {
        v1::StartRotationRequest req;
        req.set_request_id(absl::StrCat("start-", k));
        req.set_rotation_id(ids[k]);
        v1::StartRotationResponse resp;
        bench.Call(&v1::RotationService::Stub::StartRotation, req, &resp);
      },
      [&](int k) { in_process.Start(ids[n + k], absl::StrCat("inproc-start-", k)); });
  r->complete = timed(
      [&](int k) {
        v1::CompleteRotationRequest req;
        req.set_request_id(absl::StrCat("complete-", k));
        req.set_rotation_id(ids[k]);
        req.set_completed_on(kToday);
        v1::CompleteRotationResponse resp;
        bench.Call(&v1::RotationService::Stub::CompleteRotation, req, &resp);
      },
      [&](int k) { in_process.Complete(ids[n + k], absl::StrCat("inproc-complete-", k)); });
  r->raw_hset_s =
      (r->propose.hset_s + r->approve.hset_s + r->start.hset_s + r->complete.hset_s) / 4;
  r->hop_s = hop_s / (4 * n);
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
  TimeWorkflow(bench, ids, rotations, schools, approvals, &r);

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

  // Right after a write: each call follows one approval of a proposal left open above.
  int next_open = 2 * approvals + 1;
  auto approve_next = [&] {
    if (next_open >= rotations) Die("no proposal left to approve");
    v1::ApproveRotationRequest req;
    req.set_request_id(absl::StrCat("approve-", next_open));
    req.set_rotation_id(ids[next_open]);
    next_open += 2;
    v1::ApproveRotationResponse resp;
    bench.Call(&v1::RotationService::Stub::ApproveRotation, req, &resp);
  };
  r.report_write_s = TimeMedianAfter(repeats, approve_next, [&] {
    bench.Call(&v1::RotationService::Stub::GetRotationCompliance, report, &answered);
  });
  r.candidates_write_s = TimeMedianAfter(repeats, approve_next, [&] {
    bench.Call(&v1::RotationService::Stub::SuggestCandidates, suggest, &suggested);
  });

  InProcess in_process(bench.redis().pool(), bench.hr());
  in_process.Report(report);  // warms its cache
  r.report_inproc_s = TimeMedian(repeats, [&] { in_process.Report(report); });
  r.candidates_inproc_s = TimeMedian(repeats, [&] { in_process.Candidates(suggest); });
  r.raw_read_s = TimeMedian(repeats, [&] { r.raw_bytes = RawCountyRead(bench.redis()); });
  if (r.raw_bytes == 0) Die("the raw read read nothing");
  return r;
}

// One round's figures, each write kind's ratios through gRPC | in-process.
void PrintRound(int round, const Round& r, double kit_round) {
  const auto [a, a_in] = std::make_pair(r.approve.grpc_ratio, r.approve.inproc_ratio);
  const auto [p, p_in] = std::make_pair(r.propose.grpc_ratio, r.propose.inproc_ratio);
  const auto [st, st_in] = std::make_pair(r.start.grpc_ratio, r.start.inproc_ratio);
  const auto [c, c_in] = std::make_pair(r.complete.grpc_ratio, r.complete.inproc_ratio);
  std::printf(
      "round %d: compliance report (%d schools) %.1f ms (first, read whole, %.1f ms; right "
      "after a write %.1f ms), candidates (%d) %.1f ms (right after a write %.1f ms), raw "
      "pipelined read of the same keys (%.1f MB) %.1f ms: report/raw %.2fx (after a write "
      "%.2fx), candidates/raw %.2fx (after a write %.2fx); in-process (no gRPC, warm cache) "
      "report %.1f ms, "
      "candidates %.1f ms\n"
      "  writes one at a time, bare HSET %.3f ms, gRPC hop alone %.3f ms (HSET/hop %.3f), the "
      "kit's write path alone (in-process) at %.3f of a bare HSET; "
      "per kind: mean HSET and write times, median HSET/write over blocks of 10, through gRPC | "
      "in-process:\n"
      "    approve  HSET %.3f ms: %.3f ms %.3f | %.3f ms %.3f\n"
      "    propose  HSET %.3f ms: %.3f ms %.3f | %.3f ms %.3f\n"
      "    start    HSET %.3f ms: %.3f ms %.3f | %.3f ms %.3f\n"
      "    complete HSET %.3f ms: %.3f ms %.3f | %.3f ms %.3f\n",
      round + 1, r.schools_reported, r.report_s * 1e3, r.report_cold_s * 1e3,
      r.report_write_s * 1e3, r.candidates, r.candidates_s * 1e3, r.candidates_write_s * 1e3,
      static_cast<double>(r.raw_bytes) / 1e6, r.raw_read_s * 1e3, r.report_s / r.raw_read_s,
      r.report_write_s / r.raw_read_s, r.candidates_s / r.raw_read_s,
      r.candidates_write_s / r.raw_read_s, r.report_inproc_s * 1e3, r.candidates_inproc_s * 1e3,
      r.raw_hset_s * 1e3, r.hop_s * 1e3, r.raw_hset_s / r.hop_s, kit_round, r.approve.hset_s * 1e3,
      r.approve.grpc_s * 1e3, a, r.approve.inproc_s * 1e3, a_in, r.propose.hset_s * 1e3,
      r.propose.grpc_s * 1e3, p, r.propose.inproc_s * 1e3, p_in, r.start.hset_s * 1e3,
      r.start.grpc_s * 1e3, st, r.start.inproc_s * 1e3, st_in, r.complete.hset_s * 1e3,
      r.complete.grpc_s * 1e3, c, r.complete.inproc_s * 1e3, c_in);
}

}  // namespace
}  // namespace shidang::rotation

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  using namespace shidang::rotation;  // NOLINT
  const int teachers = absl::GetFlag(FLAGS_teachers), schools = absl::GetFlag(FLAGS_schools);
  const int rotations = absl::GetFlag(FLAGS_rotations), approvals = absl::GetFlag(FLAGS_approvals);
  const int repeats = absl::GetFlag(FLAGS_repeats);
  const int urban = schools / 2;
  // The last proposal TimeWorkflow makes, and its teacher.
  const int last_proposal = (rotations + urban - 1) / urban * urban + 2 * approvals - 1;
  if (schools < 2 || teachers < schools || rotations > teachers / 2 || approvals < 1 ||
      2 * approvals > rotations || repeats < 1 ||
      (last_proposal / urban) * schools + last_proposal % urban >= teachers) {
    std::fprintf(stderr,
                 "need 2 <= schools <= teachers, 1 <= 2 x approvals <= rotations <= teachers / 2, "
                 "repeats >= 1, and urban teachers for 2 x approvals more proposals\n");
    return 2;
  }
  std::vector<double> report, candidates, report_write, candidates_write, hop, kit, approve_vs_kit,
      approve8, kit8;
  // HSET / write: each kind, through gRPC and in-process.
  std::vector<double> approve, approve_in, propose, propose_in, start, start_in, complete,
      complete_in;
  auto ratios = [](const WriteTimes& t) { return std::make_pair(t.grpc_ratio, t.inproc_ratio); };
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    Round r = RunRound(teachers, schools, rotations, approvals, repeats);
    const auto [a, a_in] = ratios(r.approve);
    const auto [p, p_in] = ratios(r.propose);
    const auto [st, st_in] = ratios(r.start);
    const auto [c, c_in] = ratios(r.complete);
    const double kit_round =
        Median({r.approve.kit_ratio, r.propose.kit_ratio, r.start.kit_ratio, r.complete.kit_ratio});
    kit.push_back(kit_round);
    approve_vs_kit.push_back(r.approve.inproc_ratio / r.approve.kit_ratio);
    approve8.push_back(r.approve.inproc_ratio8);
    kit8.push_back(r.approve.kit_ratio8);
    PrintRound(round, r, kit_round);
    std::fflush(stdout);
    report.push_back(r.report_s / r.raw_read_s);
    candidates.push_back(r.candidates_s / r.raw_read_s);
    report_write.push_back(r.report_write_s / r.raw_read_s);
    candidates_write.push_back(r.candidates_write_s / r.raw_read_s);
    hop.push_back(r.raw_hset_s / r.hop_s);
    approve.push_back(a);
    approve_in.push_back(a_in);
    propose.push_back(p);
    propose_in.push_back(p_in);
    start.push_back(st);
    start_in.push_back(st_in);
    complete.push_back(c);
    complete_in.push_back(c_in);
  }
  const double m_report = Median(report), m_candidates = Median(candidates),
               m_approve_in = Median(approve_in);
  const double m_report_write = Median(report_write);
  const double m_candidates_write = Median(candidates_write);
  std::printf(
      "median of %zu rounds, %d teachers in %d schools, %d rotations: report/raw %.2fx, after a "
      "write %.2fx (target <= 3x: %s), candidates/raw %.2fx, after a write %.2fx (target <= 5x: "
      "%s); approvals one at a time in-process "
      "(use case + store, one script) at %.3f of bare HSET round trips (target >= 0.25: %s), "
      "through gRPC at %.3f (a gRPC hop alone at %.3f; the kit's write path alone in-process at "
      "%.3f, so the approval costs %.2f of the kit's write path's time); in-process | gRPC: "
      "propose %.3f | %.3f, start %.3f | %.3f, complete %.3f | %.3f; against bench_write_path's "
      "baseline (an 8-field HSET) the approval in-process at %.3f, the kit's write path at %.3f\n",
      report.size(), teachers, schools, rotations, m_report, m_report_write,
      std::max(m_report, m_report_write) <= 3 ? "met" : "NOT met", m_candidates, m_candidates_write,
      std::max(m_candidates, m_candidates_write) <= 5 ? "met" : "NOT met", m_approve_in,
      m_approve_in >= 0.25 ? "met" : "NOT met", Median(approve), Median(hop), Median(kit),
      1 / Median(approve_vs_kit), Median(propose_in), Median(propose), Median(start_in),
      Median(start), Median(complete_in), Median(complete), Median(approve8), Median(kit8));
  return 0;
}

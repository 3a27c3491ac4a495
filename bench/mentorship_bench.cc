// bench_mentorship: the mentorship service as a real process on its own redis-server, with a
// county of 10,000 teachers in 200 schools, 1,500 of them new teachers, learned the way they are
// in production: from the profile service's events, which the service consumes. Some new teachers
// are paired already (TEACHING, through CreatePairings), so the county holds pairings and loads.
// Each measure is set against a raw pipelined read of the keys the call reads (the county's
// teachers, schools and pairings: MentorshipStore::ReadCounty) in the same run:
//   - SuggestPairings for the county, SECOND role (every qualified teacher of the county is a
//     candidate: the largest graph) and TEACHING role: target within 5x;
//   - ListUnpaired for the county (first page of 100): target within 3x.
// The service keeps a county's parsed copies while the county's writes counter is unchanged and
// patches them from the county's change log after a write (MentorshipStore::ReadCounty,
// services/common/county_delta.h), so each call is timed three times: warm (nothing written
// since the last read), after a write (one pairing created through the service before each call,
// untimed: the copy is patched) and cold (the counter bumped with no change recorded before each
// call, as a write the log missed would: the whole county is read and parsed again). Each target
// holds in all three.
// Each round starts a fresh Redis and service; each timed call is repeated and its median taken.
//
//   build-rel/bench/bench_mentorship [--teachers=10000] [--new_teachers=1500] [--schools=200]
//                                    [--paired=500] [--repeats=5] [--rounds=3]
//                                    [--service_binary=<another build's>] [--answers_to=<file>]

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
#include "services/common/principal.h"
#include "services/mentorship/store.h"
#include "shidang/mentorship/v1/mentorship.grpc.pb.h"
#include "shidang/profile/v1/profile.pb.h"
#include "tests/kit/profile_events.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_process.h"

ABSL_FLAG(int, teachers, 10000, "Teachers in the county.");
ABSL_FLAG(int, new_teachers, 1500, "Of them, new teachers (hired within the policy's years).");
ABSL_FLAG(int, schools, 200, "Schools in the county.");
ABSL_FLAG(int, paired, 500, "New teachers given a TEACHING mentor before timing.");
ABSL_FLAG(int, repeats, 5, "Timed repetitions of each read per round; the median is kept.");
ABSL_FLAG(int, rounds, 3, "Rounds; the median is reported.");
ABSL_FLAG(std::string, service_binary, SHIDANG_MENTORSHIP_BINARY,
          "The service to measure (another build's, to compare two).");
ABSL_FLAG(std::string, answers_to, "",
          "When set, the first round's answers (SuggestPairings SECOND and TEACHING, ListUnpaired) "
          "are written to this file as text, so two builds' answers can be compared with diff.");

namespace shidang::mentorship {
namespace {

using bench::Die;
using bench::Median;
using bench::TimeMedian;
using bench::TimeMedianAfter;

using common::v1::Principal;
namespace pv1 = ::shidang::profile::v1;

constexpr char kCounty[] = "330723";
constexpr char kToday[] = "2025-10-15";

struct Round {
  double second_s = 0, teaching_s = 0, unpaired_s = 0, raw_read_s = 0;
  double second_cold_s = 0, unpaired_cold_s = 0;
  double second_write_s = 0, unpaired_write_s = 0;  // each right after a pairing was created
  int second_suggested = 0, teaching_suggested = 0, unpaired_total = 0;
  std::string answers;  // SECOND (cold), TEACHING and ListUnpaired (warm) answers, as text
};

std::string SchoolId(int i) { return absl::StrFormat("S%s-%010d", kCounty, i); }
std::string TeacherId(int i) { return absl::StrFormat("T%06d", i); }

// Teacher i is new when i % (teachers / new_teachers) == 0 (spread over every school), up to
// `new_teachers` of them.
bool IsNew(int i, int teachers, int new_teachers) {
  const int every = std::max(1, teachers / new_teachers);
  return i % every == 0 && i / every < new_teachers;
}

const char* SubjectOf(int i) {
  static const char* const kSubjects[] = {"数学", "语文", "英语", "科学"};
  return kSubjects[(i / 7) % 4];
}

// The profile service's events for every school and teacher of the county, as it publishes
// them; returns once the service has applied them all.
void PublishCounty(testing::RedisServer& redis, int schools, int teachers, int new_teachers) {
  std::vector<common::v1::Event> events;
  for (int i = 0; i < schools; ++i) {
    pv1::School s;
    s.set_school_id(SchoolId(i));
    s.set_county_id(kCounty);
    s.set_name(absl::StrCat(i % 2 ? "城关第" : "乡村第", i, "小学"));
    s.set_stage(common::v1::STAGE_PRIMARY);
    s.set_location(i % 2 ? pv1::SCHOOL_LOCATION_URBAN : pv1::SCHOOL_LOCATION_RURAL);
    events.push_back(testing::ProfileEvent("profile.school_created", kCounty, "", s));
  }
  for (int i = 0; i < teachers; ++i) {
    const bool is_new = IsNew(i, teachers, new_teachers);
    pv1::Teacher t;
    t.set_teacher_id(TeacherId(i));
    t.set_name(absl::StrCat("教师", i));
    t.set_county_id(kCounty);
    t.set_school_id(SchoolId(i % schools));
    t.set_hire_date(is_new ? "2023-09-01" : "2008-09-01");
    t.set_school_joined_on(t.hire_date());
    t.set_birth_date(is_new ? "2000-03-10" : "1985-03-10");
    t.set_stage(common::v1::STAGE_PRIMARY);
    t.add_subjects(SubjectOf(i));
    if (i % 5 == 1) t.add_subjects("道德与法治");
    t.set_post_status(pv1::POST_STATUS_ON_DUTY);
    // Most experienced teachers qualify as mentors by title; some only by a backbone tier.
    t.set_title(is_new || i % 4 == 3 ? common::v1::PROFESSIONAL_TITLE_SECOND_GRADE
                                     : common::v1::PROFESSIONAL_TITLE_FIRST_GRADE);
    if (!is_new && i % 10 == 3) {
      t.set_backbone_tier(common::v1::BACKBONE_TIER_COUNTY);
      t.set_backbone_designated_on("2020-01-01");
    }
    events.push_back(testing::ProfileEvent("profile.teacher_created", kCounty, t.teacher_id(), t));
  }
  absl::Status published = testing::PublishProfileEvents(redis.pool(), kCounty, events);
  if (!published.ok()) Die(absl::StrCat("publish: ", published.ToString()));
  absl::Status applied =
      testing::WaitUntilApplied(redis.pool(), testing::ProfileStreamKey(kCounty), absl::Minutes(5));
  if (!applied.ok())
    Die(absl::StrCat("the service never applied the county: ", applied.ToString()));
  // The bench's figures mean nothing on a half-applied county (an earlier WaitUntilApplied
  // compared with XLEN, which trimming shrinks, and returned early): check the copy holds every
  // school and teacher too.
  const absl::Time deadline = absl::Now() + absl::Minutes(5);
  auto held = [&](const std::string& key) {
    auto n = redis.pool().Command({"HLEN", key});
    return n.ok() ? n->integer() : -1;
  };
  while (held(MentorshipStore::TeachersKey(kCounty)) != teachers ||
         held(MentorshipStore::SchoolsKey(kCounty)) != schools) {
    if (absl::Now() > deadline) {
      Die(absl::StrCat("the copy holds ", held(MentorshipStore::TeachersKey(kCounty)), " of ",
                       teachers, " teachers after 5 minutes"));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

// The keys SuggestPairings and ListUnpaired read (MentorshipStore::ReadCounty), read raw in one
// pipelined round trip; the bytes read.
int64_t RawCountyRead(testing::RedisServer& redis) {
  auto replies = redis.pool().Pipeline({{"HGETALL", MentorshipStore::TeachersKey(kCounty)},
                                        {"HGETALL", MentorshipStore::SchoolsKey(kCounty)},
                                        {"HVALS", MentorshipStore::PairingsKey(kCounty)}});
  if (!replies.ok()) Die("raw read failed");
  int64_t bytes = 0;
  for (const redis::Reply& reply : *replies) {
    for (size_t i = 0; i < reply.size(); ++i) bytes += static_cast<int64_t>(reply[i].str().size());
  }
  return bytes;
}

class Bench {
 public:
  Bench() {
    std::ofstream(keys_.path() + "/principal.key", std::ios::binary) << std::string(40, 'k');
    auto process = testing::ServiceProcess::Start(
        absl::GetFlag(FLAGS_service_binary),
        {"--redis=" + redis_.address(), "--principal_key_file=" + keys_.path() + "/principal.key",
         std::string("--today=") + kToday});
    if (!process.ok()) Die(absl::StrCat("cannot start the service: ", process.status().ToString()));
    process_ = std::move(*process);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    stub_ = v1::MentorshipService::NewStub(
        grpc::CreateCustomChannel(process_->address(), grpc::InsecureChannelCredentials(), args));
    hr_.set_role(common::v1::ROLE_COUNTY_HR);
    hr_.set_subject("hr1");
    hr_.set_region(kCounty);
  }

  testing::RedisServer& redis() { return redis_; }

  template <typename Req, typename Resp>
  void Call(grpc::Status (v1::MentorshipService::Stub::*method)(grpc::ClientContext*, const Req&,
                                                                Resp*),
            const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(300));
    signer_.Attach(&ctx, hr_);
    grpc::Status s = ((*stub_).*method)(&ctx, req, resp);
    if (!s.ok()) Die(absl::StrCat("rpc failed: ", s.error_message(), "\n", process_->StderrText()));
  }

  // The first `paired` new teachers get a TEACHING mentor: an experienced teacher of their school
  // and subject, suggested by the service itself (untimed), created in batches of 50 (each
  // row costs a few round trips, and a call has one budget for Redis). The suggestions left over
  // are the writes PairNext makes.
  void PairSome(int paired) {
    v1::SuggestPairingsRequest suggest;
    suggest.set_county_id(kCounty);
    suggest.set_role(v1::PAIRING_ROLE_TEACHING);
    v1::SuggestPairingsResponse& suggested = spare_;
    Call(&v1::MentorshipService::Stub::SuggestPairings, suggest, &suggested);
    const int n = std::min(paired, suggested.suggestions_size());
    next_spare_ = n;
    for (int first = 0; first < n; first += 50) {
      v1::CreatePairingsRequest batch;
      batch.set_request_id(absl::StrCat("pair-", first));
      for (int k = first; k < std::min(n, first + 50); ++k) {
        v1::PairingInput* in = batch.add_pairings();
        in->set_role(v1::PAIRING_ROLE_TEACHING);
        in->set_mentee_id(suggested.suggestions(k).mentee_id());
        in->set_mentor_id(suggested.suggestions(k).mentor_id());
        in->set_start_date("2025-09-01");
      }
      v1::CreatePairingsResponse made;
      Call(&v1::MentorshipService::Stub::CreatePairings, batch, &made);
      if (made.refused() != 0) Die("a suggested pairing was refused");
    }
  }

  // One write: the next suggested TEACHING pairing PairSome left, created through the service.
  void PairNext() {
    if (next_spare_ >= spare_.suggestions_size()) Die("no suggestion left to create");
    const v1::PairingSuggestion& s = spare_.suggestions(next_spare_);
    v1::CreatePairingsRequest one;
    one.set_request_id(absl::StrCat("next-", next_spare_++));
    v1::PairingInput* in = one.add_pairings();
    in->set_role(v1::PAIRING_ROLE_TEACHING);
    in->set_mentee_id(s.mentee_id());
    in->set_mentor_id(s.mentor_id());
    in->set_start_date("2025-09-01");
    v1::CreatePairingsResponse made;
    Call(&v1::MentorshipService::Stub::CreatePairings, one, &made);
    if (made.created() != 1) Die("a suggested pairing was refused");
  }

 private:
  testing::RedisServer redis_;
  testing::TempDir keys_;
  std::unique_ptr<testing::ServiceProcess> process_;
  std::unique_ptr<v1::MentorshipService::Stub> stub_;
  PrincipalSigner signer_{std::string(40, 'k')};
  Principal hr_;
  v1::SuggestPairingsResponse spare_;
  int next_spare_ = 0;
};

// A write the change log missed: the counter moves with no record, so the service reads the
// county whole again (what every call after a write did before the log).
void BumpWrites(testing::RedisServer& redis) {
  if (!redis.pool().Command({"INCR", MentorshipStore::WritesKey(kCounty)}).ok()) Die("INCR failed");
}

Round RunRound(int teachers, int new_teachers, int schools, int paired, int repeats) {
  Round r;
  Bench bench;
  PublishCounty(bench.redis(), schools, teachers, new_teachers);
  bench.PairSome(paired);

  v1::SuggestPairingsRequest suggest;
  suggest.set_county_id(kCounty);
  v1::SuggestPairingsResponse suggested;
  suggest.set_role(v1::PAIRING_ROLE_SECOND);
  bench.Call(&v1::MentorshipService::Stub::SuggestPairings, suggest, &suggested);  // warm
  r.second_s = TimeMedian(repeats, [&] {
    bench.Call(&v1::MentorshipService::Stub::SuggestPairings, suggest, &suggested);
  });
  r.second_suggested = suggested.suggestions_size();
  if (suggested.mentees_needing() != new_teachers) {
    Die(absl::StrCat("SECOND: not every new teacher needs one: ", suggested.mentees_needing(),
                     " of ", new_teachers, " do"));
  }
  // Each cold answer (checked untimed, before the next call and after the last) is the warm one.
  const std::string warm_answer = suggested.SerializeAsString();
  auto same_second = [&] {
    if (suggested.SerializeAsString() != warm_answer) Die("SECOND: cold answers otherwise");
  };
  r.second_cold_s = TimeMedianAfter(
      repeats,
      [&] {
        same_second();
        BumpWrites(bench.redis());
      },
      [&] { bench.Call(&v1::MentorshipService::Stub::SuggestPairings, suggest, &suggested); });
  same_second();
  r.answers += suggested.DebugString();
  suggest.set_role(v1::PAIRING_ROLE_TEACHING);
  r.teaching_s = TimeMedian(repeats, [&] {
    bench.Call(&v1::MentorshipService::Stub::SuggestPairings, suggest, &suggested);
  });
  r.teaching_suggested = suggested.suggestions_size();
  r.answers += suggested.DebugString();

  v1::ListUnpairedRequest unpaired;
  unpaired.set_county_id(kCounty);
  v1::ListUnpairedResponse listed;
  r.unpaired_s = TimeMedian(
      repeats, [&] { bench.Call(&v1::MentorshipService::Stub::ListUnpaired, unpaired, &listed); });
  r.unpaired_total = static_cast<int>(listed.page().total_size());
  if (r.unpaired_total != new_teachers) Die("ListUnpaired: not every new teacher lacks one");
  r.answers += listed.DebugString();
  const std::string warm_list = listed.SerializeAsString();
  auto same_list = [&] {
    if (listed.SerializeAsString() != warm_list) Die("ListUnpaired: cold answers otherwise");
  };
  r.unpaired_cold_s = TimeMedianAfter(
      repeats,
      [&] {
        same_list();
        BumpWrites(bench.redis());
      },
      [&] { bench.Call(&v1::MentorshipService::Stub::ListUnpaired, unpaired, &listed); });
  same_list();

  // Right after a write: each call follows a pairing created (the counts checked above are
  // taken before these writes).
  r.unpaired_write_s = TimeMedianAfter(
      repeats, [&] { bench.PairNext(); },
      [&] { bench.Call(&v1::MentorshipService::Stub::ListUnpaired, unpaired, &listed); });
  suggest.set_role(v1::PAIRING_ROLE_SECOND);
  r.second_write_s = TimeMedianAfter(
      repeats, [&] { bench.PairNext(); },
      [&] { bench.Call(&v1::MentorshipService::Stub::SuggestPairings, suggest, &suggested); });

  int64_t bytes = 0;
  r.raw_read_s = TimeMedian(repeats, [&] { bytes = RawCountyRead(bench.redis()); });
  if (bytes == 0) Die("the raw read read nothing");
  return r;
}

}  // namespace
}  // namespace shidang::mentorship

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  using namespace shidang::mentorship;  // NOLINT
  const int teachers = absl::GetFlag(FLAGS_teachers), schools = absl::GetFlag(FLAGS_schools);
  const int new_teachers = absl::GetFlag(FLAGS_new_teachers), paired = absl::GetFlag(FLAGS_paired);
  const int repeats = absl::GetFlag(FLAGS_repeats);
  if (schools < 1 || teachers < schools || new_teachers < 1 || new_teachers > teachers / 2 ||
      paired < 0 || paired > new_teachers || repeats < 1) {
    std::fprintf(stderr,
                 "need 1 <= schools <= teachers, 1 <= new_teachers <= teachers / 2, "
                 "0 <= paired <= new_teachers, repeats >= 1\n");
    return 2;
  }
  std::vector<double> second, teaching, unpaired, second_cold, unpaired_cold;
  std::vector<double> second_write, unpaired_write;
  for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
    Round r = RunRound(teachers, new_teachers, schools, paired, repeats);
    if (round == 0 && !absl::GetFlag(FLAGS_answers_to).empty()) {
      std::ofstream(absl::GetFlag(FLAGS_answers_to), std::ios::binary) << r.answers;
    }
    std::printf(
        "round %d: raw pipelined read of the keys %.1f ms; SuggestPairings SECOND (%d suggested) "
        "%.1f ms warm (%.2fx raw), %.1f ms after a write (%.2fx), %.1f ms cold (%.2fx); "
        "TEACHING (%d suggested) %.1f ms warm (%.2fx); ListUnpaired (%d unpaired) %.1f ms warm "
        "(%.2fx), %.1f ms after a write (%.2fx), %.1f ms cold (%.2fx)\n",
        round + 1, r.raw_read_s * 1e3, r.second_suggested, r.second_s * 1e3,
        r.second_s / r.raw_read_s, r.second_write_s * 1e3, r.second_write_s / r.raw_read_s,
        r.second_cold_s * 1e3, r.second_cold_s / r.raw_read_s, r.teaching_suggested,
        r.teaching_s * 1e3, r.teaching_s / r.raw_read_s, r.unpaired_total, r.unpaired_s * 1e3,
        r.unpaired_s / r.raw_read_s, r.unpaired_write_s * 1e3, r.unpaired_write_s / r.raw_read_s,
        r.unpaired_cold_s * 1e3, r.unpaired_cold_s / r.raw_read_s);
    std::fflush(stdout);
    second.push_back(r.second_s / r.raw_read_s);
    teaching.push_back(r.teaching_s / r.raw_read_s);
    unpaired.push_back(r.unpaired_s / r.raw_read_s);
    second_cold.push_back(r.second_cold_s / r.raw_read_s);
    unpaired_cold.push_back(r.unpaired_cold_s / r.raw_read_s);
    second_write.push_back(r.second_write_s / r.raw_read_s);
    unpaired_write.push_back(r.unpaired_write_s / r.raw_read_s);
  }
  const double m_second = Median(second), m_teaching = Median(teaching);
  const double m_unpaired = Median(unpaired), m_second_cold = Median(second_cold);
  const double m_unpaired_cold = Median(unpaired_cold);
  const double m_second_write = Median(second_write), m_unpaired_write = Median(unpaired_write);
  // The targets hold warm, right after a write and cold (a write the log missed, a restart).
  std::printf(
      "median of %zu rounds, %d teachers (%d new) in %d schools, %d paired, against the raw read: "
      "SuggestPairings SECOND %.2fx warm, %.2fx after a write, %.2fx cold, TEACHING %.2fx warm "
      "(target <= 5x: %s); ListUnpaired %.2fx warm, %.2fx after a write, %.2fx cold (target <= "
      "3x: %s)\n",
      second.size(), teachers, new_teachers, schools, paired, m_second, m_second_write,
      m_second_cold, m_teaching,
      std::max({m_second, m_second_write, m_second_cold, m_teaching}) <= 5 ? "met" : "NOT met",
      m_unpaired, m_unpaired_write, m_unpaired_cold,
      std::max({m_unpaired, m_unpaired_write, m_unpaired_cold}) <= 3 ? "met" : "NOT met");
  return 0;
}

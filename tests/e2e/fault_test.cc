// The fault suite (issue 14): the whole platform as real processes while they crash and stall.
//
//   KillsOfEveryProcess...      a mixed write load through the gateway (profile, training,
//   rotation,
//                               mentorship) logs every acknowledged write while each service, the
//                               gateway and redis-server (appendfsync always) are SIGKILLed and
//                               started again; afterwards every logged write is stored exactly once
//                               (read back), and a retry of each answers the same and changes
//                               nothing.
//   RedisStalled...             redis-server stopped (SIGSTOP): calls answer UNAVAILABLE within
//                               the call's Redis budget, /readyz says so, and after SIGCONT the
//                               same processes serve again.
//   GrowthFileCatchesUp...      the profile service down while the training service takes
//                               completions and reviews: once it is back, each teacher's growth
//                               file holds every training event once.
//
// Sizes come from the environment so that bench/fault_bench.sh runs the long versions with the
// same code: SHIDANG_FAULT_WRITES (default 600), SHIDANG_FAULT_KILLS (7: every process once),
// SHIDANG_STALL_SECONDS (5).

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/e2e/platform.h"
#include "tests/e2e/stories.h"

namespace shidang::e2e {
namespace {

namespace pb = google::protobuf;
namespace pv1 = profile::v1;
namespace tv1 = training::v1;
namespace rv1 = rotation::v1;
namespace mv1 = mentorship::v1;
namespace http = boost::beast::http;
using common::v1::Principal;

int EnvInt(const char* name, int fallback) {
  const char* text = std::getenv(name);
  int value = 0;
  return text != nullptr && absl::SimpleAtoi(text, &value) && value > 0 ? value : fallback;
}

// Codes after which sending the same request again cannot succeed: the write was refused.
bool Refused(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::UNIMPLEMENTED:
      return true;
    default:
      return false;
  }
}

// Calls `method` through the gateway with a fresh token for `who` and a 3 s deadline (a claim
// of a call that died lives no longer than that).
template <typename Stub, typename Req, typename Resp>
grpc::Status Through(Platform& platform, Stub& stub,
                     grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                     const Principal& who, const Req& req, Resp* resp,
                     absl::Duration deadline = absl::Seconds(3)) {
  auto context = BearerContext(platform.Token(who), "", deadline);
  return (stub.*method)(context.get(), req, resp);
}

// Sends a read until it is answered: after a restart of redis-server each pooled connection of a
// service that was open fails its next command (UNAVAILABLE "Broken pipe"), as any transient
// failure a client retries.
grpc::Status UntilAnswered(const std::function<grpc::Status()>& read) {
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  grpc::Status status;
  do {
    status = read();
    if (status.ok() || Refused(status.error_code())) return status;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < give_up);
  return status;
}

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PlatformOptions options;
    options.redis.appendfsync = "always";
    auto started = Platform::Start(options);
    ASSERT_TRUE(started.ok()) << started.status();
    platform_ = *std::move(started);
  }

  void TearDown() override {
    if (HasFailure() && platform_ != nullptr) {
      std::fprintf(stderr, "%s\n", platform_->Logs().c_str());
    }
  }

  Platform& platform() { return *platform_; }

  int ReadyzStatus() {
    HttpClient client(platform().gateway().http_port);
    return client.Send(http::verb::get, "/readyz").status;
  }

  // One of the stall test's calls, as hr within deadline: 0 reads the teacher from the profile
  // service, 1 adds an honour to their timeline (kept in honours, to be sent again), 2 reads
  // their training summary.
  grpc::Status StallProbe(int which, const std::string& teacher, const Principal& hr,
                          absl::Duration deadline,
                          std::vector<pv1::AddTimelineEntryRequest>* honours) {
    if (which == 0) {
      pv1::GetTeacherRequest req;
      req.set_teacher_id(teacher);
      pv1::GetTeacherResponse resp;
      return Through(platform(), platform().profile_stub(), &pv1::ProfileService::Stub::GetTeacher,
                     hr, req, &resp, deadline);
    }
    if (which == 1) {
      pv1::AddTimelineEntryRequest req;
      req.set_request_id(absl::StrCat("stall-", honours->size() + 1));
      req.set_teacher_id(teacher);
      req.mutable_entry()->set_kind(pv1::TIMELINE_ENTRY_KIND_HONOUR);
      req.mutable_entry()->set_occurred_on("2025-10-01");
      req.mutable_entry()->mutable_honour()->set_name(req.request_id());
      honours->push_back(req);
      pv1::AddTimelineEntryResponse resp;
      return Through(platform(), platform().profile_stub(),
                     &pv1::ProfileService::Stub::AddTimelineEntry, hr, req, &resp, deadline);
    }
    tv1::GetTrainingSummaryRequest req;
    req.set_teacher_id(teacher);
    tv1::GetTrainingSummaryResponse resp;
    return Through(platform(), platform().training_stub(),
                   &tv1::TrainingService::Stub::GetTrainingSummary, hr, req, &resp, deadline);
  }

  // Every write refused during the stall, sent again with its request id, is stored once.
  void ExpectEachHonourStoredOnce(const std::string& teacher, const Principal& hr,
                                  const std::vector<pv1::AddTimelineEntryRequest>& honours) {
    std::map<std::string, int> stored;
    for (const pv1::AddTimelineEntryRequest& req : honours) {
      pv1::AddTimelineEntryResponse resp;
      grpc::Status status;
      EXPECT_TRUE(Eventually(
          [&] {
            status = Through(platform(), platform().profile_stub(),
                             &pv1::ProfileService::Stub::AddTimelineEntry, hr, req, &resp);
            return status.ok() || Refused(status.error_code());
          },
          absl::Seconds(30)));
      EXPECT_TRUE(status.ok()) << req.request_id() << ": " << status.error_message();
    }
    pv1::GetGrowthFileRequest get;
    get.set_teacher_id(teacher);
    pv1::GetGrowthFileResponse file;
    ASSERT_TRUE(Through(platform(), platform().profile_stub(),
                        &pv1::ProfileService::Stub::GetGrowthFile, hr, get, &file)
                    .ok());
    for (const pv1::TimelineEntry& e : file.growth_file().timeline()) {
      if (e.has_honour()) ++stored[e.honour().name()];
    }
    for (const pv1::AddTimelineEntryRequest& req : honours) {
      EXPECT_EQ(stored[req.request_id()], 1) << req.request_id();
    }
  }

  // Registers and publishes `n` 8-hour courses of the centre open to county 330763.
  void RegisterAndPublishCourses(const Principal& centre, int n,
                                 std::vector<std::string>* courses) {
    for (int i = 0; i < n; ++i) {
      tv1::RegisterCourseRequest reg;
      reg.set_request_id(absl::StrCat("course-", i));
      tv1::Course* c = reg.mutable_course();
      c->set_provider_id(centre.provider_id());
      c->set_title(absl::StrCat("课程 ", i));
      c->set_level(common::v1::TRAINING_LEVEL_COUNTY);
      c->set_mode(common::v1::TRAINING_MODE_FACE_TO_FACE);
      c->set_hours(8);
      c->set_start_date("2025-10-01");
      c->set_end_date("2025-10-20");
      c->set_capacity(50);
      c->add_open_regions("330763");
      tv1::RegisterCourseResponse registered;
      ASSERT_TRUE(Through(platform(), platform().training_stub(),
                          &tv1::TrainingService::Stub::RegisterCourse, centre, reg, &registered)
                      .ok());
      tv1::PublishCourseRequest publish;
      publish.set_request_id(absl::StrCat("publish-", i));
      publish.set_course_id(registered.course().course_id());
      tv1::PublishCourseResponse published;
      ASSERT_TRUE(Through(platform(), platform().training_stub(),
                          &tv1::TrainingService::Stub::PublishCourse, centre, publish, &published)
                      .ok());
      courses->push_back(registered.course().course_id());
    }
  }

  // Completions of every course for every teacher, and a self-report each that HR approves.
  void CreditEveryTeacher(const County& county, const Principal& centre, const Principal& hr,
                          const std::vector<std::string>& courses) {
    for (size_t i = 0; i < courses.size(); ++i) {
      tv1::RecordCompletionsRequest batch;
      batch.set_request_id(absl::StrCat("completions-", i));
      batch.set_course_id(courses[i]);
      for (const auto& [national_id, teacher] : county.teacher_ids) {
        tv1::CompletionRow* row = batch.add_rows();
        row->set_teacher_id(teacher);
        row->set_hours(8);
        row->set_completed_on(absl::StrCat("2025-10-", 10 + i));
      }
      tv1::RecordCompletionsResponse recorded;
      grpc::Status s =
          Through(platform(), platform().training_stub(),
                  &tv1::TrainingService::Stub::RecordCompletions, centre, batch, &recorded);
      ASSERT_TRUE(s.ok()) << s.error_message();
      EXPECT_EQ(recorded.credited(), static_cast<int>(county.teacher_ids.size()));
    }
    for (const auto& [national_id, teacher] : county.teacher_ids) {
      tv1::LogTrainingRequest log;
      log.set_request_id("log-" + teacher);
      log.set_teacher_id(teacher);
      log.set_activity(tv1::TRAINING_ACTIVITY_CONFERENCE);
      log.set_title("省级研讨会");
      log.set_level(common::v1::TRAINING_LEVEL_PROVINCE);
      log.set_mode(common::v1::TRAINING_MODE_FACE_TO_FACE);
      log.set_hours(6);
      log.set_started_on("2025-06-01");
      log.set_completed_on("2025-06-02");
      log.mutable_evidence()->set_description("参会证明");
      log.mutable_evidence()->set_file_ref("uploads/" + teacher + ".pdf");
      tv1::LogTrainingResponse logged;
      grpc::Status s =
          Through(platform(), platform().training_stub(), &tv1::TrainingService::Stub::LogTraining,
                  TeacherP(teacher), log, &logged);
      ASSERT_TRUE(s.ok()) << s.error_message();
      tv1::ReviewTrainingRecordRequest review;
      review.set_request_id("review-" + teacher);
      review.set_record_id(logged.record().record_id());
      review.set_decision(tv1::REVIEW_DECISION_APPROVE);
      tv1::ReviewTrainingRecordResponse reviewed;
      s = Through(platform(), platform().training_stub(),
                  &tv1::TrainingService::Stub::ReviewTrainingRecord, hr, review, &reviewed);
      ASSERT_TRUE(s.ok()) << s.error_message();
    }
  }

  std::unique_ptr<Platform> platform_;
};

// ---- The mixed write load.

enum class Kind { kHonour, kSelfReport, kDeferral, kActivity };
constexpr Kind kKinds[] = {Kind::kHonour, Kind::kSelfReport, Kind::kDeferral, Kind::kActivity};

const char* KindName(Kind kind) {
  switch (kind) {
    case Kind::kHonour:
      return "profile AddTimelineEntry";
    case Kind::kSelfReport:
      return "training LogTraining";
    case Kind::kDeferral:
      return "rotation RecordDeferral";
    case Kind::kActivity:
      return "mentorship LogActivity";
  }
  return "?";
}

// One write as sent: which RPC, the request's bytes, and (once acknowledged) the answer's bytes
// and the id of what it made.
struct Write {
  Kind kind = Kind::kHonour;
  std::string request_id;
  std::string request;
  std::string answer;
  std::string made_id;
};

// What the store holds, per request id (each write's marker text is its request id): the ids of
// the objects carrying it. Exactly one each, the acknowledged one, is what the test wants.
using Stored = std::map<std::string, std::vector<std::string>>;

class KillsUnderLoadTest : public FaultTest {
 protected:
  // A county with two mentors (-1, -2), a new teacher (-3) paired with both, and nine more
  // teachers (-4 .. -12) that the writes spread over.
  void SetUpCounty() {
    std::vector<RosterTeacher> teachers = MentorshipTeachers(kCounty);
    teachers.resize(3);
    for (int i = 4; i <= 12; ++i) {
      teachers.push_back({absl::StrCat("N", kCounty, "-", i), absl::StrCat("教师", i), i % 2 == 0,
                          "1985-04-0" + std::to_string(i % 9 + 1), std::string(kCounty) + "0001"});
    }
    ImportCounty(platform(), kCounty, &county_, teachers);
    ASSERT_FALSE(HasFatalFailure());
    ASSERT_TRUE(AwaitTrainingKnows(platform(), county_));
    for (int i = 4; i <= 12; ++i) {
      spread_.push_back(county_.teacher_ids.at(absl::StrCat("N", kCounty, "-", i)));
    }
    mentee_ = county_.teacher_ids.at(absl::StrCat("N", kCounty, "-3"));
    Pair(mv1::PAIRING_ROLE_TEACHING, county_.teacher_ids.at(absl::StrCat("N", kCounty, "-1")));
    Pair(mv1::PAIRING_ROLE_SECOND, county_.teacher_ids.at(absl::StrCat("N", kCounty, "-2")));
  }

  // Pairs the new teacher with `mentor` once the mentorship service has learnt both.
  void Pair(mv1::PairingRole role, const std::string& mentor) {
    mv1::CreatePairingRequest req;
    req.set_request_id(absl::StrCat("pair-", mentor));
    req.set_role(role);
    req.set_mentee_id(mentee_);
    req.set_mentor_id(mentor);
    req.set_start_date("2025-09-01");
    mv1::CreatePairingResponse resp;
    grpc::Status status;
    ASSERT_TRUE(Eventually([&] {
      status = Through(platform(), platform().mentorship_stub(),
                       &mv1::MentorshipService::Stub::CreatePairing, Hr(), req, &resp);
      return status.ok();
    })) << status.error_message();
    pairings_.push_back(resp.pairing().pairing_id());
  }

  Principal Hr() const { return HrP(common::v1::ROLE_COUNTY_HR, kCounty); }

  // The n-th write of `writer`: the kinds take turns, the teachers and pairings too.
  Write Next(int writer, int n) const {
    Write write;
    write.kind = kKinds[(writer + n) % 4];
    write.request_id = absl::StrCat("fault-", writer, "-", n);
    const std::string& teacher = spread_[(n / 4 + writer) % spread_.size()];
    const std::string day = absl::StrCat("2025-10-", 10 + n % 18);
    switch (write.kind) {
      case Kind::kHonour: {
        pv1::AddTimelineEntryRequest req;
        req.set_request_id(write.request_id);
        req.set_teacher_id(teacher);
        req.mutable_entry()->set_kind(pv1::TIMELINE_ENTRY_KIND_HONOUR);
        req.mutable_entry()->set_occurred_on(day);
        req.mutable_entry()->mutable_honour()->set_name(write.request_id);
        write.request = req.SerializeAsString();
        break;
      }
      case Kind::kSelfReport: {
        tv1::LogTrainingRequest req;
        req.set_request_id(write.request_id);
        req.set_teacher_id(teacher);
        req.set_activity(tv1::TRAINING_ACTIVITY_CONFERENCE);
        req.set_title(write.request_id);
        req.set_level(common::v1::TRAINING_LEVEL_COUNTY);
        req.set_mode(common::v1::TRAINING_MODE_FACE_TO_FACE);
        req.set_hours(2);
        req.set_started_on(day);
        req.set_completed_on(day);
        req.mutable_evidence()->set_description("参会证明");
        req.mutable_evidence()->set_file_ref("uploads/" + write.request_id + ".pdf");
        write.request = req.SerializeAsString();
        break;
      }
      case Kind::kDeferral: {
        rv1::RecordDeferralRequest req;
        req.set_request_id(write.request_id);
        req.set_teacher_id(teacher);
        req.set_reason(rv1::DEFERRAL_REASON_OTHER);
        req.set_description(write.request_id);
        req.set_from_date(day);
        req.set_to_date(day);
        write.request = req.SerializeAsString();
        break;
      }
      case Kind::kActivity: {
        mv1::LogActivityRequest req;
        req.set_request_id(write.request_id);
        req.set_pairing_id(pairings_[n % pairings_.size()]);
        req.mutable_activity()->set_kind(mv1::ACTIVITY_KIND_LESSON_OBSERVED);
        req.mutable_activity()->set_date(day);
        req.mutable_activity()->set_remarks(write.request_id);
        write.request = req.SerializeAsString();
        break;
      }
    }
    return write;
  }

  // Sends `write` once through the gateway; on OK fills its answer and the id it made.
  grpc::Status Send(Write* write) {
    switch (write->kind) {
      case Kind::kHonour:
        return SendAs<pv1::AddTimelineEntryRequest, pv1::AddTimelineEntryResponse>(
            platform().profile_stub(), &pv1::ProfileService::Stub::AddTimelineEntry, Hr(), write,
            [](const auto& r) { return r.entry().entry_id(); });
      case Kind::kSelfReport: {
        tv1::LogTrainingRequest probe;
        probe.ParseFromString(write->request);
        return SendAs<tv1::LogTrainingRequest, tv1::LogTrainingResponse>(
            platform().training_stub(), &tv1::TrainingService::Stub::LogTraining,
            TeacherP(probe.teacher_id()), write,
            [](const auto& r) { return r.record().record_id(); });
      }
      case Kind::kDeferral:
        return SendAs<rv1::RecordDeferralRequest, rv1::RecordDeferralResponse>(
            platform().rotation_stub(), &rv1::RotationService::Stub::RecordDeferral, Hr(), write,
            [](const auto& r) { return r.deferral().deferral_id(); });
      case Kind::kActivity:
        return SendAs<mv1::LogActivityRequest, mv1::LogActivityResponse>(
            platform().mentorship_stub(), &mv1::MentorshipService::Stub::LogActivity,
            TeacherP(mentee_), write, [](const auto& r) { return r.activity().activity_id(); });
    }
    return grpc::Status(grpc::StatusCode::INTERNAL, "no such kind");
  }

  template <typename Req, typename Resp, typename Stub>
  grpc::Status SendAs(Stub& stub,
                      grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                      const Principal& who, Write* write,
                      const std::function<std::string(const Resp&)>& made_id) {
    Req req;
    req.ParseFromString(write->request);
    Resp resp;
    grpc::Status status = Through(platform(), stub, method, who, req, &resp);
    if (status.ok()) {
      write->answer = resp.SerializeAsString();
      write->made_id = made_id(resp);
    }
    return status;
  }

  // Sends `write` until it is acknowledged (or refused, or two minutes pass), as a client that
  // keeps its request id would.
  grpc::Status UntilAcknowledged(Write* write) {
    const absl::Time give_up = absl::Now() + absl::Minutes(2);
    grpc::Status status;
    do {
      status = Send(write);
      if (status.ok() || Refused(status.error_code())) return status;
      absl::SleepFor(absl::Milliseconds(50));
    } while (absl::Now() < give_up);
    return status;
  }

  // One writer: writes until `enough` writes are acknowledged in all, logging each.
  void Writer(int writer, int enough) {
    for (int n = 0; acknowledged_count_.load() < enough; ++n) {
      Write write = Next(writer, n);
      grpc::Status status = UntilAcknowledged(&write);
      if (!status.ok()) {
        ADD_FAILURE() << KindName(write.kind) << " " << write.request_id << ": "
                      << status.error_code() << " " << status.error_message();
        return;
      }
      absl::MutexLock lock(&mu_);
      acknowledged_.push_back(std::move(write));
      acknowledged_count_.fetch_add(1);
    }
  }

  // Kills one process (the parts in turn, redis-server last) and starts it again.
  void KillAndRestart(int kill) {
    constexpr int kParts = 7;
    const int which = kill % kParts;
    if (which == kParts - 1) {
      platform().redis().Kill();
      absl::SleepFor(absl::Milliseconds(300));
      platform().redis().Start();
      killed_.push_back("redis-server");
      return;
    }
    const Part part = static_cast<Part>(which);
    platform().Crash(part);
    absl::SleepFor(absl::Milliseconds(300));
    absl::Status restarted = platform().Restart(part);
    ASSERT_TRUE(restarted.ok()) << restarted;
    killed_.push_back(PartName(part));
  }

  Stored ReadBack();
  Stored ReadHonours();
  Stored ReadSelfReports();
  void ReadHash(const std::string& key, const std::function<bool(const std::string&, Stored*)>& add,
                Stored* stored);
  void Check(const std::vector<Write>& writes, const Stored& stored);

  static constexpr char kCounty[] = "330761";
  County county_;
  std::vector<std::string> spread_;
  std::string mentee_;
  std::vector<std::string> pairings_;
  std::vector<std::string> killed_;
  std::atomic<int> acknowledged_count_{0};
  absl::Mutex mu_;
  std::vector<Write> acknowledged_ ABSL_GUARDED_BY(mu_);
};

Stored KillsUnderLoadTest::ReadHonours() {
  Stored stored;
  for (const std::string& teacher : spread_) {
    std::string token;
    do {
      pv1::ListTimelineRequest req;
      req.set_teacher_id(teacher);
      req.add_kinds(pv1::TIMELINE_ENTRY_KIND_HONOUR);
      req.mutable_page()->set_page_size(100);
      req.mutable_page()->set_page_token(token);
      pv1::ListTimelineResponse resp;
      const grpc::Status s = UntilAnswered([&] {
        return Through(platform(), platform().profile_stub(),
                       &pv1::ProfileService::Stub::ListTimeline, Hr(), req, &resp);
      });
      if (!s.ok()) {
        ADD_FAILURE() << "ListTimeline: " << s.error_message();
        break;
      }
      for (const pv1::TimelineEntry& e : resp.entries()) {
        stored[e.honour().name()].push_back(e.entry_id());
      }
      token = resp.page().next_page_token();
    } while (!token.empty());
  }
  return stored;
}

Stored KillsUnderLoadTest::ReadSelfReports() {
  Stored stored;
  for (const std::string& teacher : spread_) {
    std::string token;
    do {
      tv1::ListTrainingRecordsRequest req;
      req.set_teacher_id(teacher);
      req.mutable_page()->set_page_size(100);
      req.mutable_page()->set_page_token(token);
      tv1::ListTrainingRecordsResponse resp;
      const grpc::Status s = UntilAnswered([&] {
        return Through(platform(), platform().training_stub(),
                       &tv1::TrainingService::Stub::ListTrainingRecords, Hr(), req, &resp);
      });
      if (!s.ok()) {
        ADD_FAILURE() << "ListTrainingRecords: " << s.error_message();
        break;
      }
      for (const tv1::TrainingRecord& r : resp.records()) {
        stored[r.title()].push_back(r.record_id());
      }
      token = resp.page().next_page_token();
    } while (!token.empty());
  }
  return stored;
}

// Deferrals and activities have no listing by marker: read their hashes in Redis.
void KillsUnderLoadTest::ReadHash(const std::string& key,
                                  const std::function<bool(const std::string&, Stored*)>& add,
                                  Stored* stored) {
  auto reply = platform().redis().pool().Command({"HVALS", key});
  ASSERT_TRUE(reply.ok()) << reply.status();
  for (size_t i = 0; i < reply->size(); ++i) {
    EXPECT_TRUE(add(std::string((*reply)[i].str()), stored)) << key << " holds a bad value";
  }
}

Stored KillsUnderLoadTest::ReadBack() {
  Stored stored = ReadHonours();
  Stored reports = ReadSelfReports();
  stored.insert(reports.begin(), reports.end());
  const std::string tag = absl::StrCat("{c:", kCounty, "}");
  ReadHash(
      absl::StrCat("rotation:", tag, ":deferrals"),
      [](const std::string& bytes, Stored* out) {
        rv1::Deferral d;
        if (!d.ParseFromString(bytes)) return false;
        (*out)[d.description()].push_back(d.deferral_id());
        return true;
      },
      &stored);
  for (const std::string& pairing : pairings_) {
    ReadHash(
        absl::StrCat("mentorship:", tag, ":activities:", pairing),
        [](const std::string& bytes, Stored* out) {
          mv1::Activity a;
          if (!a.ParseFromString(bytes)) return false;
          (*out)[a.remarks()].push_back(a.activity_id());
          return true;
        },
        &stored);
  }
  return stored;
}

// Every acknowledged write stored once, as the id its answer named; nothing stored that was
// not acknowledged (each writer stops after an acknowledgement, so no write is in flight).
void KillsUnderLoadTest::Check(const std::vector<Write>& writes, const Stored& stored) {
  int lost = 0, doubled = 0, stray = 0;
  for (const Write& write : writes) {
    const auto found = stored.find(write.request_id);
    if (found == stored.end()) {
      ++lost;
      ADD_FAILURE() << "lost: " << KindName(write.kind) << " " << write.request_id;
      continue;
    }
    if (found->second.size() > 1) {
      ++doubled;
      ADD_FAILURE() << "doubled: " << KindName(write.kind) << " " << write.request_id << " x"
                    << found->second.size();
    }
    EXPECT_EQ(found->second.front(), write.made_id) << write.request_id;
  }
  for (const auto& [marker, ids] : stored) {
    if (absl::StartsWith(marker, "fault-")) stray += static_cast<int>(ids.size());
  }
  stray -= static_cast<int>(writes.size()) - lost + doubled;
  EXPECT_EQ(lost, 0);
  EXPECT_EQ(doubled, 0);
  EXPECT_EQ(stray, 0) << "stored writes that no writer logged";
  std::printf("faults: %zu acknowledged writes, %d lost, %d doubled, %d not logged\n",
              writes.size(), lost, doubled, stray);
}

TEST_F(KillsUnderLoadTest, KillsOfEveryProcessLoseNoAcknowledgedWriteAndDoubleNone) {
  SetUpCounty();
  ASSERT_FALSE(HasFatalFailure());
  const int writes = EnvInt("SHIDANG_FAULT_WRITES", 600);
  const int kills = EnvInt("SHIDANG_FAULT_KILLS", 7);
  const absl::Time began = absl::Now();
  constexpr int kWriters = 4;
  std::vector<std::thread> writers;
  writers.reserve(kWriters);
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([this, w, writes] { Writer(w, writes); });
  }
  // The kills spread over the load: the k-th once k/(kills+1) of the writes are acknowledged.
  for (int k = 0; k < kills && !HasFatalFailure(); ++k) {
    const int at = static_cast<int>(static_cast<int64_t>(writes) * (k + 1) / (kills + 1));
    while (acknowledged_count_.load() < at && !HasFailure()) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    if (HasFailure()) break;
    KillAndRestart(k);
  }
  for (std::thread& t : writers) t.join();
  ASSERT_FALSE(HasFailure());
  const absl::Duration loaded = absl::Now() - began;

  std::vector<Write> logged;
  {
    absl::MutexLock lock(&mu_);
    logged = acknowledged_;
  }
  const Stored stored = ReadBack();
  Check(logged, stored);

  // A retry of every logged write: the first answer, and nothing more stored.
  int answered_differently = 0;
  for (const Write& write : logged) {
    Write again = write;
    grpc::Status status = UntilAcknowledged(&again);
    EXPECT_TRUE(status.ok()) << write.request_id << ": " << status.error_message();
    if (status.ok() && again.answer != write.answer) {
      ++answered_differently;
      ADD_FAILURE() << "the retry of " << write.request_id << " answered differently";
    }
  }
  EXPECT_EQ(ReadBack(), stored) << "a retry changed what is stored";
  std::printf("faults: %d kills (%s) in %.1f s; %zu retries, %d answered differently\n", kills,
              absl::StrJoin(killed_, ", ").c_str(), absl::ToDoubleSeconds(loaded), logged.size(),
              answered_differently);
}

// ---- Redis stalled.

TEST_F(FaultTest, RedisStalledAnswersUnavailableWithinTheBudgetAndRecoversWithoutARestart) {
  County county;
  ImportCounty(platform(), "330762", &county);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(AwaitTrainingKnows(platform(), county));
  const std::string teacher = county.teacher_ids.at("N330762-1");
  const Principal hr = HrP(common::v1::ROLE_COUNTY_HR, "330762");
  const std::vector<pid_t> pids = {platform().profile().pid(), platform().training().pid(),
                                   platform().gateway().process->pid()};
  // A write to each of two services and a read; each request id sent until acknowledged after.
  std::vector<pv1::AddTimelineEntryRequest> honours;
  auto call = [&](int which, absl::Duration deadline) {
    return StallProbe(which, teacher, hr, deadline, &honours);
  };
  const char* names[] = {"profile GetTeacher", "profile AddTimelineEntry",
                         "training GetTrainingSummary"};

  const absl::Duration stall = absl::Seconds(EnvInt("SHIDANG_STALL_SECONDS", 5));
  platform().redis().Pause();
  const absl::Time resume_at = absl::Now() + stall;
  absl::Duration slowest[3];
  int calls = 0;
  bool not_ready_seen = false;
  while (absl::Now() + absl::Milliseconds(1500) < resume_at) {
    for (int which = 0; which < 3; ++which) {
      const absl::Time sent_at = absl::Now();
      grpc::Status status = call(which, absl::Seconds(10));
      const absl::Duration took = absl::Now() - sent_at;
      slowest[which] = std::max(slowest[which], took);
      ++calls;
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
          << names[which] << ": " << status.error_message();
      EXPECT_LE(took, absl::Milliseconds(1500)) << names[which] << " with Redis stalled";
    }
    not_ready_seen = not_ready_seen || ReadyzStatus() == 503;
  }
  EXPECT_TRUE(not_ready_seen) << "/readyz answered 200 all through the stall";
  platform().redis().Resume();
  const absl::Time resumed = absl::Now();

  // Served again, by the same processes.
  EXPECT_TRUE(Eventually([&] { return call(0, absl::Seconds(3)).ok(); }, absl::Seconds(10)));
  EXPECT_TRUE(Eventually([&] { return call(2, absl::Seconds(3)).ok(); }, absl::Seconds(10)));
  EXPECT_TRUE(Eventually([&] { return ReadyzStatus() == 200; }, absl::Seconds(10)));
  const absl::Duration recovery = absl::Now() - resumed;
  EXPECT_EQ(pids, (std::vector<pid_t>{platform().profile().pid(), platform().training().pid(),
                                      platform().gateway().process->pid()}));
  ASSERT_NO_FATAL_FAILURE(ExpectEachHonourStoredOnce(teacher, hr, honours));
  std::printf(
      "stall: %s of Redis stopped, %d calls, slowest answers %s / %s / %s (%s, %s, %s); "
      "/readyz 503 seen: %s; served again %s after SIGCONT\n",
      absl::FormatDuration(stall).c_str(), calls, absl::FormatDuration(slowest[0]).c_str(),
      absl::FormatDuration(slowest[1]).c_str(), absl::FormatDuration(slowest[2]).c_str(), names[0],
      names[1], names[2], not_ready_seen ? "yes" : "no", absl::FormatDuration(recovery).c_str());
}

// ---- The profile service down while the training service writes.

// Each training event filed into the teacher's growth file: type -> event ids.
std::map<std::string, std::vector<std::string>> TrainingEntries(const pv1::GrowthFile& file) {
  std::map<std::string, std::vector<std::string>> by_type;
  for (const pv1::TimelineEntry& e : file.timeline()) {
    if (e.has_external() && e.external().source() == "training") {
      by_type[e.external().type()].push_back(e.external().event_id());
    }
  }
  return by_type;
}

TEST_F(FaultTest, GrowthFileCatchesUpWithTrainingWrittenWhileTheProfileServiceWasDown) {
  County county;
  ImportCounty(platform(), "330763", &county);
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(AwaitTrainingKnows(platform(), county));
  const Principal hr = HrP(common::v1::ROLE_COUNTY_HR, "330763");
  const Principal centre = CentreP("P330763");
  constexpr int kCourses = 3;
  std::vector<std::string> courses;
  ASSERT_NO_FATAL_FAILURE(RegisterAndPublishCourses(centre, kCourses, &courses));
  auto growth_file = [&](const std::string& teacher, pv1::GrowthFile* out) {
    pv1::GetGrowthFileRequest get;
    get.set_teacher_id(teacher);
    pv1::GetGrowthFileResponse resp;
    grpc::Status s = Through(platform(), platform().profile_stub(),
                             &pv1::ProfileService::Stub::GetGrowthFile, hr, get, &resp);
    *out = resp.growth_file();
    return s.ok();
  };
  for (const auto& [national_id, teacher] : county.teacher_ids) {
    pv1::GrowthFile file;
    ASSERT_TRUE(growth_file(teacher, &file));
    ASSERT_TRUE(TrainingEntries(file).empty()) << national_id;
  }

  platform().Crash(Part::kProfile);
  ASSERT_NO_FATAL_FAILURE(CreditEveryTeacher(county, centre, hr, courses));
  absl::SleepFor(absl::Seconds(1));
  ASSERT_TRUE(platform().Restart(Part::kProfile).ok());
  const absl::Time restarted = absl::Now();

  // Each teacher's file catches up: every event once, none twice, and it stays so.
  const std::map<std::string, size_t> expected = {{"training.credited", kCourses},
                                                  {"training.self_report_approved", 1}};
  for (const auto& entry : county.teacher_ids) {
    // Plain references, not a structured binding: the lambda below uses one, and C++17 does not
    // let a lambda capture a structured binding.
    const std::string& national_id = entry.first;
    const std::string& teacher = entry.second;
    std::map<std::string, std::vector<std::string>> seen;
    auto counts = [&] {
      std::map<std::string, size_t> n;
      for (const auto& [type, ids] : seen) n[type] = ids.size();
      return n;
    };
    EXPECT_TRUE(Eventually(
        [&] {
          pv1::GrowthFile file;
          if (!growth_file(teacher, &file)) return false;
          seen = TrainingEntries(file);
          return counts() == expected;
        },
        absl::Seconds(30)))
        << national_id << " holds " << ::testing::PrintToString(counts());
    std::set<std::string> distinct;
    for (const auto& [type, ids] : seen) distinct.insert(ids.begin(), ids.end());
    EXPECT_EQ(distinct.size(), kCourses + 1u) << national_id << ": an event filed twice";
  }
  std::printf("growth files caught up %s after the profile service restarted\n",
              absl::FormatDuration(absl::Now() - restarted).c_str());
  absl::SleepFor(absl::Seconds(2));
  for (const auto& [national_id, teacher] : county.teacher_ids) {
    pv1::GrowthFile file;
    ASSERT_TRUE(growth_file(teacher, &file));
    std::map<std::string, size_t> n;
    for (const auto& [type, ids] : TrainingEntries(file)) n[type] = ids.size();
    EXPECT_EQ(n, expected) << national_id << " after the catch-up settled";
  }
}

}  // namespace
}  // namespace shidang::e2e

// shidang-mentorship-demo-load: gives the demo county (loaded by shidang-demo-load) its mentor
// pairings through the mentorship service's own RPCs, so that HR's unpaired list and suggestions
// mean something on the first run: most new teachers get a TEACHING mentor and a SECOND mentor
// from the service's own suggestions, some lack one or both, and the first pairings have a term's
// activities logged. Safe to run twice: every write carries a fixed request id.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "services/common/dates.h"
#include "services/common/demo_load.h"
#include "services/common/principal.h"
#include "shidang/mentorship/v1/mentorship.grpc.pb.h"

ABSL_FLAG(std::string, mentorship, "127.0.0.1:7104", "Address of the mentorship service.");
ABSL_FLAG(std::string, principal_key_file, "", "Key the services verify principals with.");
ABSL_FLAG(std::string, county_id, "330723", "The demo county (shidang-demo-load's).");
ABSL_FLAG(std::string, today, "", "The day the history ends (YYYY-MM-DD); default today.");
ABSL_FLAG(int, wait_seconds, 120,
          "How long to wait for the mentorship service to learn the county's teachers from the "
          "profile service's events.");
ABSL_FLAG(int, pairings_with_activities, 60, "How many pairings get a term of activities.");
ABSL_FLAG(std::string, teacher_id, "",
          "The demo teacher (deploy/run.sh's demo account and token): given a pairing with a "
          "term of activities, as mentee or mentor, so their pairings view is not empty.");

namespace shidang::mentorship {
namespace {

namespace common_v1 = shidang::common::v1;

constexpr absl::string_view kProgram = "shidang-mentorship-demo-load";

int Fail(absl::string_view what, const grpc::Status& status) {
  return demo::FailedCall(kProgram, what, status);
}

using demo::Draw;

class DemoLoader {
 public:
  DemoLoader(PrincipalSigner signer, absl::CivilDay today)
      : signer_(std::move(signer)), today_(today), county_(absl::GetFlag(FLAGS_county_id)) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(16 << 20);
    stub_ = v1::MentorshipService::NewStub(grpc::CreateCustomChannel(
        absl::GetFlag(FLAGS_mentorship), grpc::InsecureChannelCredentials(), args));
  }

  int Run() {
    if (int failed = AwaitTeachers()) return failed;
    // Pairings started some 150 days ago: a term and a half of history.
    const absl::CivilDay start = today_ - 150;
    // Most mentees get each mentor; a share is left for HR's list and suggestions.
    if (int failed = Pair(v1::PAIRING_ROLE_TEACHING, start, 0.85)) return failed;
    if (int failed = Pair(v1::PAIRING_ROLE_SECOND, start, 0.70)) return failed;
    if (int failed = PairDemoTeacher(start)) return failed;
    if (int failed = LogActivities(start)) return failed;
    std::printf("mentorship demo: %d pairings, %d activities; unpaired: %s\n", paired_, logged_,
                unpaired_summary_.c_str());
    return 0;
  }

 private:
  void As(grpc::ClientContext* ctx) const {
    common_v1::Principal p;
    p.set_role(common_v1::ROLE_ADMIN);
    p.set_subject("demo-loader");
    demo::Sign(ctx, signer_, p);
  }

  // A write, retried while the service answers UNAVAILABLE (Redis slow on a busy machine): each
  // carries a fixed request id, so a retry replays rather than writes twice.
  template <typename Req, typename Resp>
  grpc::Status Write(grpc::Status (v1::MentorshipService::Stub::*method)(grpc::ClientContext*,
                                                                         const Req&, Resp*),
                     const Req& req, Resp* resp) {
    grpc::Status s;
    for (int attempt = 0; attempt < 6; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::seconds(1 << (attempt - 1)));
      grpc::ClientContext ctx;
      As(&ctx);
      s = (stub_.get()->*method)(&ctx, req, resp);
      if (s.error_code() != grpc::StatusCode::UNAVAILABLE) return s;
    }
    return s;
  }

  // Waits until the service knows the county's new teachers (their number stops changing).
  int AwaitTeachers() {
    const absl::Time deadline = absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_wait_seconds));
    int64_t last = -1;
    while (true) {
      v1::ListUnpairedRequest req;
      req.set_county_id(county_);
      req.set_as_of(dates::FormatDate(today_));
      req.mutable_page()->set_page_size(1);
      v1::ListUnpairedResponse resp;
      grpc::ClientContext ctx;
      As(&ctx);
      grpc::Status s = stub_->ListUnpaired(&ctx, req, &resp);
      if (!s.ok() && s.error_code() != grpc::StatusCode::UNAVAILABLE) {
        return Fail("ListUnpaired", s);
      }
      const int64_t now = s.ok() ? resp.page().total_size() : -1;
      if (now > 0 && now == last) return 0;
      last = now;
      if (absl::Now() > deadline) {
        std::fprintf(stderr, "shidang-mentorship-demo-load: no new teachers arrived in time\n");
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::seconds(2));
    }
  }

  int Pair(v1::PairingRole role, absl::CivilDay start, double share) {
    v1::SuggestPairingsRequest suggest;
    suggest.set_county_id(county_);
    suggest.set_role(role);
    suggest.set_start_date(dates::FormatDate(start));
    v1::SuggestPairingsResponse suggested;
    grpc::ClientContext ctx;
    As(&ctx);
    grpc::Status s = stub_->SuggestPairings(&ctx, suggest, &suggested);
    if (!s.ok()) return Fail("SuggestPairings", s);
    const std::string role_name = v1::PairingRole_Name(role);
    v1::CreatePairingsRequest batch;
    for (const v1::PairingSuggestion& x : suggested.suggestions()) {
      if (Draw(absl::StrCat(role_name, "/", x.mentee_id())) >= share) continue;
      v1::PairingInput* in = batch.add_pairings();
      in->set_role(role);
      in->set_mentee_id(x.mentee_id());
      in->set_mentor_id(x.mentor_id());
      in->set_start_date(dates::FormatDate(start));
      // Small batches: one of 500 outlasts the service's Redis time budget on a busy machine.
      if (batch.pairings_size() == 50) {
        if (int failed = Create(&batch, role_name)) return failed;
      }
    }
    return batch.pairings_size() > 0 ? Create(&batch, role_name) : 0;
  }

  // The demo teacher's pairings go first in line for activities. A teacher without one gets a
  // mentor the service suggests (a new teacher) or, as a mentor, the first new teacher still
  // lacking a mentor whom the rules let them take.
  int PairDemoTeacher(absl::CivilDay start) {
    const std::string teacher = absl::GetFlag(FLAGS_teacher_id);
    if (teacher.empty()) return 0;
    v1::ListTeacherPairingsRequest list;
    list.set_teacher_id(teacher);
    v1::ListTeacherPairingsResponse listed;
    grpc::ClientContext ctx;
    As(&ctx);
    grpc::Status s = stub_->ListTeacherPairings(&ctx, list, &listed);
    if (!s.ok()) return Fail("ListTeacherPairings", s);
    std::vector<v1::Pairing> mine(listed.pairings().begin(), listed.pairings().end());
    if (mine.empty()) {
      std::optional<v1::Pairing> made = PairAsMentee(teacher, start);
      if (!made.has_value()) made = PairAsMentor(teacher, start);
      if (!made.has_value()) {
        std::fprintf(stderr,
                     "shidang-mentorship-demo-load: the demo teacher %s can neither be "
                     "mentored nor mentor anyone; their pairings view stays empty\n",
                     teacher.c_str());
        return 0;
      }
      mine.push_back(*made);
    }
    for (const v1::Pairing& p : mine) {
      created_.erase(
          std::remove_if(created_.begin(), created_.end(),
                         [&](const v1::Pairing& c) { return c.pairing_id() == p.pairing_id(); }),
          created_.end());
    }
    created_.insert(created_.begin(), mine.begin(), mine.end());
    std::printf("mentorship demo: the demo teacher %s has %zu pairing(s), %s first\n",
                teacher.c_str(), mine.size(), mine[0].pairing_id().c_str());
    return 0;
  }

  // One pairing, created when the rules allow it.
  std::optional<v1::Pairing> TryPair(v1::PairingRole role, const std::string& mentee,
                                     const std::string& mentor, absl::CivilDay start,
                                     v1::Refusal* refusal) {
    v1::CreatePairingsRequest req;
    req.set_request_id(absl::StrCat("demo-mentorship-teacher-", mentee, "-", mentor));
    v1::PairingInput* in = req.add_pairings();
    in->set_role(role);
    in->set_mentee_id(mentee);
    in->set_mentor_id(mentor);
    in->set_start_date(dates::FormatDate(start));
    v1::CreatePairingsResponse resp;
    if (!Write(&v1::MentorshipService::Stub::CreatePairings, req, &resp).ok() ||
        resp.rows_size() != 1) {
      return std::nullopt;
    }
    if (resp.rows(0).has_pairing()) {
      paired_ += resp.created();
      return resp.rows(0).pairing();
    }
    if (refusal != nullptr) *refusal = resp.rows(0).refusal();
    return std::nullopt;
  }

  std::optional<v1::Pairing> PairAsMentee(const std::string& teacher, absl::CivilDay start) {
    for (v1::PairingRole role : {v1::PAIRING_ROLE_TEACHING, v1::PAIRING_ROLE_SECOND}) {
      v1::SuggestMentorsRequest req;
      req.set_mentee_id(teacher);
      req.set_role(role);
      req.set_start_date(dates::FormatDate(start));
      v1::SuggestMentorsResponse resp;
      grpc::ClientContext ctx;
      As(&ctx);
      if (!stub_->SuggestMentors(&ctx, req, &resp).ok()) continue;
      for (const v1::MentorSuggestion& m : resp.mentors()) {
        if (auto made = TryPair(role, teacher, m.mentor_id(), start, nullptr)) return made;
      }
    }
    return std::nullopt;
  }

  // Stops at the first refusal about the mentor themselves (title, years, veto, capacity).
  std::optional<v1::Pairing> PairAsMentor(const std::string& teacher, absl::CivilDay start) {
    v1::ListUnpairedRequest req;
    req.set_county_id(county_);
    req.set_as_of(dates::FormatDate(today_));
    req.mutable_page()->set_page_size(500);
    v1::ListUnpairedResponse resp;
    grpc::ClientContext ctx;
    As(&ctx);
    if (!stub_->ListUnpaired(&ctx, req, &resp).ok()) return std::nullopt;
    for (const v1::UnpairedTeacher& mentee : resp.teachers()) {
      const v1::PairingRole role =
          mentee.lacks_second() ? v1::PAIRING_ROLE_SECOND : v1::PAIRING_ROLE_TEACHING;
      v1::Refusal refusal;
      if (auto made = TryPair(role, mentee.teacher_id(), teacher, start, &refusal)) return made;
      switch (refusal.reason()) {
        case v1::REFUSAL_REASON_MENTOR_TITLE:
        case v1::REFUSAL_REASON_MENTOR_YEARS:
        case v1::REFUSAL_REASON_MENTOR_VETO:
        case v1::REFUSAL_REASON_MENTOR_NOT_IN_SERVICE:
        case v1::REFUSAL_REASON_CAPACITY:
          return std::nullopt;
        default:
          break;
      }
    }
    return std::nullopt;
  }

  int Create(v1::CreatePairingsRequest* batch, const std::string& role_name) {
    batch->set_request_id(absl::StrCat("demo-mentorship-", role_name, "-of50-", batches_++));
    v1::CreatePairingsResponse resp;
    grpc::Status s = Write(&v1::MentorshipService::Stub::CreatePairings, *batch, &resp);
    if (!s.ok()) return Fail("CreatePairings", s);
    for (const v1::PairingRow& row : resp.rows()) {
      if (row.has_pairing()) created_.push_back(row.pairing());
    }
    paired_ += resp.created();
    batch->clear_pairings();
    return 0;
  }

  // A term's worth of each kind for the first pairings, spread from the start to yesterday, by
  // a habit per pairing (some are on track, some behind).
  int LogActivities(absl::CivilDay start) {
    const int limit = absl::GetFlag(FLAGS_pairings_with_activities);
    const int64_t span = today_ - start;
    for (size_t i = 0; i < created_.size() && static_cast<int>(i) < limit; ++i) {
      const v1::Pairing& p = created_[i];
      const double habit = 0.4 + 0.7 * Draw(absl::StrCat("habit/", p.pairing_id()));
      const struct {
        v1::ActivityKind kind;
        int per_term;
        bool by_mentor;
      } kinds[] = {{v1::ACTIVITY_KIND_LESSON_OBSERVED, 8, false},
                   {v1::ACTIVITY_KIND_LESSON_COACHED, 8, true},
                   {v1::ACTIVITY_KIND_PUBLIC_LESSON, 1, false},
                   {v1::ACTIVITY_KIND_GUIDANCE_SESSION, 3, true}};
      for (const auto& k : kinds) {
        const int n = static_cast<int>(k.per_term * habit * 1.5);
        for (int j = 0; j < n; ++j) {
          v1::LogActivityRequest req;
          req.set_request_id(absl::StrCat("demo-activity-", p.pairing_id(), "-", k.kind, "-", j));
          req.set_pairing_id(p.pairing_id());
          v1::Activity* a = req.mutable_activity();
          a->set_kind(k.kind);
          a->set_date(dates::FormatDate(start + (span - 1) * (j + 1) / (n + 1)));
          a->set_by_teacher_id(k.by_mentor ? p.mentor_id() : p.mentee_id());
          v1::LogActivityResponse resp;
          grpc::Status s = Write(&v1::MentorshipService::Stub::LogActivity, req, &resp);
          if (!s.ok()) return Fail("LogActivity", s);
          ++logged_;
        }
      }
    }
    v1::ListUnpairedRequest req;
    req.set_county_id(county_);
    v1::ListUnpairedResponse resp;
    grpc::ClientContext ctx;
    As(&ctx);
    if (stub_->ListUnpaired(&ctx, req, &resp).ok()) {
      unpaired_summary_ = absl::StrCat(resp.page().total_size(), " new teachers lack a mentor (",
                                       resp.lacking_teaching(), " a teaching mentor, ",
                                       resp.lacking_second(), " a second mentor)");
    }
    return 0;
  }

  const PrincipalSigner signer_;
  const absl::CivilDay today_;
  const std::string county_;
  std::unique_ptr<v1::MentorshipService::Stub> stub_;
  std::vector<v1::Pairing> created_;
  int batches_ = 0;
  int paired_ = 0;
  int logged_ = 0;
  std::string unpaired_summary_ = "unknown";
};

}  // namespace
}  // namespace shidang::mentorship

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return shidang::demo::RunLoader(
      shidang::mentorship::kProgram, absl::GetFlag(FLAGS_principal_key_file),
      absl::GetFlag(FLAGS_today), [](shidang::PrincipalSigner signer, absl::CivilDay today) {
        return shidang::mentorship::DemoLoader(std::move(signer), today).Run();
      });
}

// shidang-rotation-demo-load: gives the demo county (loaded by shidang-demo-load) a rotation
// history through the rotation service's own RPCs, so that HR's compliance view shows schools
// that pass and schools that fail: last school year's rotations (some counting, backbone teachers
// among them, others not counting for a reason each: cancelled, rejected, too short, the wrong
// direction, a teacher not eligible) and this school year's, started at some schools and only
// proposed at others. Safe to run twice: which teachers rotate depends only on the eligibility
// lists, which rotations do not change (they are secondments: the teachers keep their schools),
// and every write carries a fixed request id, so a second run replays the first one's answers.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <string>
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
#include "services/rotation/rules.h"
#include "shidang/profile/v1/profile.grpc.pb.h"
#include "shidang/rotation/v1/rotation.grpc.pb.h"

ABSL_FLAG(std::string, rotation, "127.0.0.1:7103", "Address of the rotation service.");
ABSL_FLAG(std::string, profile, "127.0.0.1:7101", "Address of the profile service.");
ABSL_FLAG(std::string, principal_key_file, "", "Key the services verify principals with.");
ABSL_FLAG(std::string, county_id, "330723", "The demo county (shidang-demo-load's).");
ABSL_FLAG(std::string, today, "", "The run's today (YYYY-MM-DD); default today.");
ABSL_FLAG(std::string, teacher_id, "",
          "The demo teacher (deploy/run.sh's demo account and token): given last school year's "
          "rotation when the plans give them none, so their rotations view is not empty.");
ABSL_FLAG(int, wait_seconds, 120,
          "How long to wait for the rotation service to learn the county's teachers from the "
          "profile service's events.");

namespace shidang::rotation {
namespace {

namespace common_v1 = shidang::common::v1;
namespace profile_v1 = shidang::profile::v1;

constexpr absl::string_view kProgram = "shidang-rotation-demo-load";

int Fail(absl::string_view what, const grpc::Status& status) {
  return demo::FailedCall(kProgram, what, status);
}

// 城区 and 镇区 schools send; 乡村 and 薄弱 schools receive.
bool Sends(const profile_v1::School& s) {
  return s.location() == profile_v1::SCHOOL_LOCATION_URBAN ||
         s.location() == profile_v1::SCHOOL_LOCATION_TOWN;
}
bool Receives(const profile_v1::School& s) {
  return s.location() == profile_v1::SCHOOL_LOCATION_RURAL ||
         s.quality() == profile_v1::SCHOOL_QUALITY_WEAK;
}

// ceil(percent x n / 100), as the service rounds the quota.
int64_t Required(int64_t percent, int64_t n) { return (percent * n + 99) / 100; }

// One rotation to make and how far it goes.
enum class Fate { kCompleted, kStarted, kProposed, kCancelled, kRejected, kTooShort };

struct Plan {
  std::string teacher_id;
  std::string receiving_school_id;
  Fate fate = Fate::kCompleted;
};

// The eligibility rows of one school year, by school: the eligible ones (backbone teachers
// first, then by id) and the others.
struct YearRows {
  std::map<std::string, std::vector<v1::EligibilityRow>> eligible, not_eligible;
  int64_t rows = 0;
};

class DemoLoader {
 public:
  DemoLoader(PrincipalSigner signer, absl::CivilDay today)
      : signer_(std::move(signer)), today_(today), county_(absl::GetFlag(FLAGS_county_id)) {
    profile_ = profile_v1::ProfileService::NewStub(
        grpc::CreateChannel(absl::GetFlag(FLAGS_profile), grpc::InsecureChannelCredentials()));
    rotation_ = v1::RotationService::NewStub(
        grpc::CreateChannel(absl::GetFlag(FLAGS_rotation), grpc::InsecureChannelCredentials()));
  }

  int Run() {
    if (int failed = ReadSchools()) return failed;
    if (int failed = AwaitRotationKnowsTeachers()) return failed;
    const SchoolYear current = SchoolYearOf(today_, DefaultRotationPolicy());
    const int last = current.start_year - 1;
    YearRows last_rows, this_rows;
    if (int failed = ReadEligibility(last, &last_rows)) return failed;
    if (int failed = ReadEligibility(current.start_year, &this_rows)) return failed;
    std::set<std::string> used;
    std::vector<Plan> last_plans = PlanLastYear(last_rows, &used);
    const std::vector<Plan> this_plans = PlanThisYear(this_rows, used);
    AddDemoTeacher(last_rows, this_plans, &last_plans);
    for (const Plan& p : last_plans) {
      if (int failed = Make(p, last)) return failed;
    }
    for (const Plan& p : this_plans) {
      if (int failed = Make(p, current.start_year)) return failed;
    }
    if (int failed = PrintReport(last, last_plans.size())) return failed;
    return PrintReport(current.start_year, this_plans.size());
  }

 private:
  void As(grpc::ClientContext* ctx, common_v1::Role role) const {
    common_v1::Principal p;
    p.set_role(role);
    p.set_subject("demo-rotation-loader");
    if (role == common_v1::ROLE_COUNTY_HR) p.set_region(county_);
    demo::Sign(ctx, signer_, p);
  }

  int ReadSchools() {
    profile_v1::ListSchoolsRequest list;
    list.set_county_id(county_);
    list.mutable_page()->set_page_size(500);
    while (true) {
      profile_v1::ListSchoolsResponse page;
      grpc::ClientContext ctx;
      As(&ctx, common_v1::ROLE_ADMIN);
      grpc::Status s = profile_->ListSchools(&ctx, list, &page);
      if (!s.ok()) return Fail("ListSchools", s);
      for (const profile_v1::School& school : page.schools()) schools_[school.school_id()] = school;
      if (page.page().next_page_token().empty()) break;
      list.mutable_page()->set_page_token(page.page().next_page_token());
    }
    // Rural schools receive: 城区/镇区 -> 乡村 counts from every sending school (an ordinary
    // school's teacher going to a weak one would not, DOMAIN §6).
    for (const auto& [id, school] : schools_) {
      if (school.location() == profile_v1::SCHOOL_LOCATION_RURAL && school.compulsory_education()) {
        receivers_.push_back(id);
      }
    }
    if (receivers_.empty()) {
      std::fprintf(stderr,
                   "shidang-rotation-demo-load: county %s has no rural school; "
                   "load the profile demo first\n",
                   county_.c_str());
      return 1;
    }
    return 0;
  }

  // The county's teacher count from the profile service.
  grpc::Status CountTeachers(int64_t* count) {
    profile_v1::ListTeachersRequest list;
    list.set_county_id(county_);
    list.mutable_page()->set_page_size(500);
    *count = 0;
    while (true) {
      profile_v1::ListTeachersResponse page;
      grpc::ClientContext ctx;
      As(&ctx, common_v1::ROLE_ADMIN);
      grpc::Status s = profile_->ListTeachers(&ctx, list, &page);
      if (!s.ok()) return s;
      *count += page.teachers_size();
      if (page.page().next_page_token().empty()) return grpc::Status::OK;
      list.mutable_page()->set_page_token(page.page().next_page_token());
    }
  }

  // The rotation service learns teachers from the profile service's events: wait until it
  // judges as many as the profile service holds.
  int AwaitRotationKnowsTeachers() {
    int64_t teachers = 0;
    grpc::Status s = CountTeachers(&teachers);
    if (!s.ok()) return Fail("ListTeachers", s);
    if (teachers == 0) {
      std::fprintf(stderr, "shidang-rotation-demo-load: county %s has no teachers\n",
                   county_.c_str());
      return 1;
    }
    const absl::Time give_up = absl::Now() + absl::Seconds(absl::GetFlag(FLAGS_wait_seconds));
    while (true) {
      YearRows rows;
      if (int failed = ReadEligibility(today_.year(), &rows)) return failed;
      if (rows.rows >= teachers) return 0;
      if (absl::Now() > give_up) {
        std::fprintf(stderr,
                     "shidang-rotation-demo-load: the rotation service knows %lld of %lld "
                     "teachers after %d s\n",
                     static_cast<long long>(rows.rows), static_cast<long long>(teachers),
                     absl::GetFlag(FLAGS_wait_seconds));
        return 1;
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
  }

  int ReadEligibility(int year, YearRows* out) {
    v1::ListEligibleRequest req;
    req.set_county_id(county_);
    req.set_school_year(std::to_string(year));
    req.mutable_page()->set_page_size(500);
    while (true) {
      v1::ListEligibleResponse page;
      grpc::ClientContext ctx;
      As(&ctx, common_v1::ROLE_COUNTY_HR);
      grpc::Status s = rotation_->ListEligible(&ctx, req, &page);
      if (!s.ok()) return Fail("ListEligible", s);
      for (const v1::EligibilityRow& row : page.rows()) {
        ++out->rows;
        (row.eligible() ? out->eligible : out->not_eligible)[row.school_id()].push_back(row);
      }
      if (page.page().next_page_token().empty()) break;
      req.mutable_page()->set_page_token(page.page().next_page_token());
    }
    for (auto& [school, rows] : out->eligible) {
      std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
        const bool ab = a.backbone_tier() != common_v1::BACKBONE_TIER_UNSPECIFIED;
        const bool bb = b.backbone_tier() != common_v1::BACKBONE_TIER_UNSPECIFIED;
        return ab != bb ? ab : a.teacher_id() < b.teacher_id();
      });
    }
    return 0;
  }

  static size_t BackboneCount(const std::vector<v1::EligibilityRow>& rows) {
    return static_cast<size_t>(std::count_if(rows.begin(), rows.end(), [](const auto& row) {
      return row.backbone_tier() != common_v1::BACKBONE_TIER_UNSPECIFIED;
    }));
  }

  // A receiving school for a teacher of `sending`, in turn.
  std::string NextReceiver(const std::string& sending) {
    for (size_t tries = 0; tries < receivers_.size(); ++tries) {
      const std::string& id = receivers_[next_receiver_++ % receivers_.size()];
      if (id != sending) return id;
    }
    return "";
  }

  // Sending schools with eligible teachers, in id order.
  std::vector<std::string> SendingSchools(const YearRows& rows) const {
    std::vector<std::string> out;
    for (const auto& [id, eligible] : rows.eligible) {
      auto school = schools_.find(id);
      if (school != schools_.end() && Sends(school->second) && !Receives(school->second)) {
        out.push_back(id);
      }
    }
    return out;
  }

  // Last year: a third of the sending schools meet the quota (backbone teachers first), a third
  // fall one short and cancelled one, a third rotated nobody who counts (too short a stay, a
  // rejected proposal); one teacher went the wrong way and one was not eligible. The schools
  // that fell short send other teachers than their backbone ones, who go this year.
  std::vector<Plan> PlanLastYear(const YearRows& rows, std::set<std::string>* used) {
    std::vector<Plan> plans;
    const std::vector<std::string> sending = SendingSchools(rows);
    for (size_t i = 0; i < sending.size(); ++i) {
      std::vector<v1::EligibilityRow> pool = rows.eligible.at(sending[i]);
      if (i % 3 != 0) std::rotate(pool.begin(), pool.begin() + BackboneCount(pool), pool.end());
      const int64_t required = Required(10, static_cast<int64_t>(pool.size()));
      std::vector<Fate> fates;
      if (i % 3 == 0) {
        fates.assign(required, Fate::kCompleted);
        met_last_year_.insert(sending[i]);
      }
      if (i % 3 == 1) {
        fates.assign(required - 1, Fate::kCompleted);
        fates.push_back(Fate::kCancelled);
      }
      if (i % 3 == 2) fates = {Fate::kTooShort, Fate::kRejected};
      for (size_t k = 0; k < fates.size() && k < pool.size(); ++k) {
        plans.push_back(Plan{pool[k].teacher_id(), NextReceiver(sending[i]), fates[k]});
        used->insert(pool[k].teacher_id());
      }
    }
    AddOddOnes(rows, sending, used, &plans);
    return plans;
  }

  // A rural school's eligible teacher sent to a sending school (the wrong direction), and a
  // sending school's teacher not yet eligible.
  void AddOddOnes(const YearRows& rows, const std::vector<std::string>& sending,
                  std::set<std::string>* used, std::vector<Plan>* plans) {
    for (const auto& [id, pool] : rows.eligible) {
      auto school = schools_.find(id);
      if (sending.empty() || school == schools_.end() || !Receives(school->second) ||
          pool.empty()) {
        continue;
      }
      plans->push_back(Plan{pool.back().teacher_id(), sending.front(), Fate::kCompleted});
      used->insert(pool.back().teacher_id());
      break;
    }
    for (const std::string& id : sending) {
      auto others = rows.not_eligible.find(id);
      if (others == rows.not_eligible.end()) continue;
      for (const v1::EligibilityRow& row : others->second) {
        if (row.reason() != v1::ELIGIBILITY_REASON_TOO_FEW_YEARS) continue;
        plans->push_back(Plan{row.teacher_id(), NextReceiver(id), Fate::kCompleted});
        used->insert(row.teacher_id());
        return;
      }
    }
  }

  // The demo teacher, when no plan names them: a rotation completed last school year, from
  // their school to a receiving one (or, from a receiving school, to a sending one).
  void AddDemoTeacher(const YearRows& rows, const std::vector<Plan>& this_plans,
                      std::vector<Plan>* last_plans) {
    const std::string teacher = absl::GetFlag(FLAGS_teacher_id);
    auto names = [&](const Plan& p) { return p.teacher_id == teacher; };
    if (teacher.empty() || std::any_of(last_plans->begin(), last_plans->end(), names) ||
        std::any_of(this_plans.begin(), this_plans.end(), names)) {
      return;
    }
    std::string school;
    for (const auto* by_school : {&rows.eligible, &rows.not_eligible}) {
      for (const auto& [id, list] : *by_school) {
        for (const v1::EligibilityRow& row : list) {
          if (row.teacher_id() == teacher) school = id;
        }
      }
    }
    auto found = schools_.find(school);
    if (found == schools_.end()) return;
    std::string to = NextReceiver(school);
    if (Receives(found->second)) {
      for (const auto& [id, s] : schools_) {
        if (Sends(s) && !Receives(s)) to = id;
      }
    }
    last_plans->push_back(Plan{teacher, to, Fate::kCompleted});
  }

  // This year: the schools that fell short last year have started their quota's rotations
  // (backbone teachers first); last year's passing schools have only proposed.
  std::vector<Plan> PlanThisYear(const YearRows& rows, const std::set<std::string>& used) {
    std::vector<Plan> plans;
    const std::vector<std::string> sending = SendingSchools(rows);
    for (size_t i = 0; i < sending.size(); ++i) {
      std::vector<v1::EligibilityRow> pool;
      for (const v1::EligibilityRow& row : rows.eligible.at(sending[i])) {
        if (!used.count(row.teacher_id())) pool.push_back(row);
      }
      const int64_t required =
          Required(10, static_cast<int64_t>(rows.eligible.at(sending[i]).size()));
      const Fate fate = met_last_year_.count(sending[i]) ? Fate::kProposed : Fate::kStarted;
      for (int64_t k = 0; k < required && k < static_cast<int64_t>(pool.size()); ++k) {
        plans.push_back(Plan{pool[k].teacher_id(), NextReceiver(sending[i]), fate});
      }
    }
    return plans;
  }

  // A call as county HR; `name` names it in a failure.
  template <typename Req, typename Resp>
  int Call(grpc::Status (v1::RotationService::Stub::*method)(grpc::ClientContext*, const Req&,
                                                             Resp*),
           const Req& req, Resp* resp, absl::string_view name) {
    grpc::ClientContext ctx;
    As(&ctx, common_v1::ROLE_COUNTY_HR);
    grpc::Status s = (rotation_.get()->*method)(&ctx, req, resp);
    return s.ok() ? 0 : Fail(name, s);
  }

  // Proposes the rotation of school year `year` and takes it as far as its fate says.
  int Make(const Plan& plan, int year) {
    if (plan.receiving_school_id.empty()) return 0;
    const std::string key = absl::StrCat("demo-rotation-", year, "-", plan.teacher_id);
    const absl::CivilDay start(year, 9, 1);
    v1::CreateRotationRequest create;
    create.set_request_id(key);
    create.set_teacher_id(plan.teacher_id);
    create.set_receiving_school_id(plan.receiving_school_id);
    create.set_form(v1::ROTATION_FORM_SUPPORT_TEACHING);
    create.set_relation_moves(false);
    create.set_start_date(dates::FormatDate(start));
    create.set_planned_end_date(dates::FormatDate(plan.fate == Fate::kTooShort
                                                      ? absl::CivilDay(year + 1, 1, 31)
                                                      : absl::CivilDay(year + 1, 8, 31)));
    create.set_note("示范数据：县域教师交流轮岗");
    v1::CreateRotationResponse created;
    if (int failed = Call(&v1::RotationService::Stub::CreateRotation, create, &created,
                          absl::StrCat("CreateRotation ", key))) {
      return failed;
    }
    return Advance(plan, key, created.rotation().rotation_id(), year);
  }

  int Advance(const Plan& plan, const std::string& key, const std::string& id, int year) {
    if (plan.fate == Fate::kProposed) return 0;
    if (plan.fate == Fate::kRejected) {
      v1::RejectRotationRequest reject;
      reject.set_request_id(key + "-reject");
      reject.set_rotation_id(id);
      reject.set_reason("接收学校该学科暂无岗位需求");
      v1::RejectRotationResponse rejected;
      return Call(&v1::RotationService::Stub::RejectRotation, reject, &rejected, "Reject");
    }
    v1::ApproveRotationRequest approve;
    approve.set_request_id(key + "-approve");
    approve.set_rotation_id(id);
    v1::ApproveRotationResponse approved;
    if (int failed = Call(&v1::RotationService::Stub::ApproveRotation, approve, &approved,
                          "ApproveRotation")) {
      return failed;
    }
    if (plan.fate == Fate::kCancelled) {
      v1::CancelRotationRequest cancel;
      cancel.set_request_id(key + "-cancel");
      cancel.set_rotation_id(id);
      cancel.set_reason("本人因家庭原因申请撤回");
      v1::CancelRotationResponse cancelled;
      return Call(&v1::RotationService::Stub::CancelRotation, cancel, &cancelled, "Cancel");
    }
    v1::StartRotationRequest start;
    start.set_request_id(key + "-start");
    start.set_rotation_id(id);
    start.set_started_on(dates::FormatDate(absl::CivilDay(year, 9, 1)));
    v1::StartRotationResponse started;
    if (int failed =
            Call(&v1::RotationService::Stub::StartRotation, start, &started, "StartRotation")) {
      return failed;
    }
    if (plan.fate == Fate::kStarted) return 0;
    v1::CompleteRotationRequest complete;
    complete.set_request_id(key + "-complete");
    complete.set_rotation_id(id);
    complete.set_completed_on(dates::FormatDate(plan.fate == Fate::kTooShort
                                                    ? absl::CivilDay(year + 1, 1, 31)
                                                    : absl::CivilDay(year + 1, 7, 15)));
    v1::CompleteRotationResponse completed;
    return Call(&v1::RotationService::Stub::CompleteRotation, complete, &completed, "Complete");
  }

  // What HR now sees for school year `year`.
  int PrintReport(int year, size_t plans) {
    v1::GetRotationComplianceRequest req;
    req.set_county_id(county_);
    req.set_school_year(std::to_string(year));
    v1::GetRotationComplianceResponse resp;
    if (int failed = Call(&v1::RotationService::Stub::GetRotationCompliance, req, &resp,
                          "GetRotationCompliance")) {
      return failed;
    }
    int passing = 0, failing = 0;
    for (const v1::SchoolCompliance& s : resp.schools())
      (s.figures().passes() ? passing : failing)++;
    std::printf(
        "rotations of county %s, school year %d: %zu made; county %lld of %lld required "
        "(%lld backbone of %lld); %d schools pass, %d fail; %d rotations do not count\n",
        county_.c_str(), year, plans, static_cast<long long>(resp.county().counting()),
        static_cast<long long>(resp.county().required()),
        static_cast<long long>(resp.county().backbone_counting()),
        static_cast<long long>(resp.county().backbone_required()), passing, failing,
        resp.not_counting_size());
    return 0;
  }

  const PrincipalSigner signer_;
  const absl::CivilDay today_;
  const std::string county_;
  std::unique_ptr<profile_v1::ProfileService::Stub> profile_;
  std::unique_ptr<v1::RotationService::Stub> rotation_;
  std::map<std::string, profile_v1::School> schools_;
  std::vector<std::string> receivers_;
  size_t next_receiver_ = 0;
  std::set<std::string> met_last_year_;  // sending schools whose rotations met last year's quota
};

}  // namespace
}  // namespace shidang::rotation

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return shidang::demo::RunLoader(
      shidang::rotation::kProgram, absl::GetFlag(FLAGS_principal_key_file),
      absl::GetFlag(FLAGS_today), [](shidang::PrincipalSigner signer, absl::CivilDay today) {
        return shidang::rotation::DemoLoader(std::move(signer), today).Run();
      });
}

// Retries answer what the first call answered (DESIGN "Requests that change state", issue 14):
// one row per state-changing RPC of every service, run against the real processes. Per row, 20
// concurrent identical calls and a later retry get byte-identical answers and make one change
// (the events the service's streams received), and the same request_id with a field changed is
// INVALID_ARGUMENT. Rows run in order in one story, each building its request from what earlier
// rows answered; a service's rows are a few lines each (see the rows below).
//
// The account service's writes have rows too (its sessions, SignIn, RefreshSession and SignOut,
// take no request_id: each call is a new session). Their answers carry initial passwords: the
// service keeps them sealed, and only the same caller repeating the same request gets them back.
// It publishes no events, so its rows count none.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <future>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "shidang/account/v1/account.pb.h"
#include "tests/e2e/platform.h"
#include "tests/e2e/stories.h"

namespace shidang::e2e {
namespace {

namespace pb = google::protobuf;
namespace pv1 = profile::v1;
namespace tv1 = training::v1;
namespace rv1 = rotation::v1;
namespace mv1 = mentorship::v1;
namespace av1 = account::v1;
using common::v1::Principal;
using ::testing::HasSubstr;

constexpr int kConcurrentCalls = 20;

// What earlier rows answered, by name, for later rows' requests.
using Ids = std::map<std::string, std::string>;

struct Row {
  const pb::ServiceDescriptor* service = nullptr;
  std::string method;  // "/shidang.profile.v1.ProfileService/CreateCounty"
  Principal who;
  // The events one run publishes into the streams of `streams` ("<streams>:{...}:events").
  int events = 1;
  std::string streams;
  std::function<std::string(Ids&)> request;  // serialized, request_id set
  std::function<std::string(const std::string&)> changed;
  std::function<void(const std::string&, Ids&)> learn;  // from the answer's bytes
};

// A row for the RPC taking Req (its name and service follow from Req's descriptor).
template <typename Req, typename Resp>
Row MakeRow(const Principal& who, int events, std::function<void(Ids&, Req&)> build,
            std::function<void(Req&)> change,
            std::function<void(const Resp&, Ids&)> learn = nullptr) {
  Row row;
  const pb::Descriptor* type = Req::descriptor();
  row.service = type->file()->service(0);
  const std::string name(absl::StripSuffix(type->name(), "Request"));
  row.method = absl::StrCat("/", row.service->full_name(), "/", name);
  row.who = who;
  row.events = events;
  row.streams = std::string(absl::StripPrefix(type->file()->package(), "shidang."));
  row.streams = row.streams.substr(0, row.streams.find('.'));
  row.request = [build, name](Ids& ids) {
    Req req;
    build(ids, req);
    req.set_request_id("replay-" + name);
    return req.SerializeAsString();
  };
  row.changed = [change](const std::string& bytes) {
    Req req;
    req.ParseFromString(bytes);
    change(req);
    return req.SerializeAsString();
  };
  row.learn = [learn](const std::string& bytes, Ids& ids) {
    Resp resp;
    ASSERT_TRUE(resp.ParseFromString(bytes));
    if (learn) learn(resp, ids);
  };
  return row;
}

// "profile" -> shidang.profile.v1.ProfileService.
const pb::ServiceDescriptor* Service(const std::string& name) {
  std::string type = name;
  type[0] = static_cast<char>(type[0] - 'a' + 'A');
  return pb::DescriptorPool::generated_pool()->FindServiceByName(
      absl::StrCat("shidang.", name, ".v1.", type, "Service"));
}

struct Answer {
  grpc::Status status;
  std::string bytes;
};

class ReplayTest : public PlatformTest {
 protected:
  std::string AddressOf(const pb::ServiceDescriptor* service) {
    if (service == Service("profile")) return platform().profile().address();
    if (service == Service("training")) return platform().training().address();
    if (service == Service("mentorship")) return platform().mentorship().address();
    if (service == Service("account")) return platform().account().address();
    return platform().rotation().address();
  }

  // One call straight to the service, with raw bytes both ways, so answers compare byte for byte.
  Answer Call(const Row& row, const std::string& request) {
    grpc::GenericStub stub(Channel(AddressOf(row.service)));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    platform().signer().Attach(&context, row.who);
    grpc::Slice slice(request);
    grpc::ByteBuffer sent(&slice, 1), received;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&context, row.method, grpc::StubOptions(), &sent, &received,
                   [&done](grpc::Status status) { done.set_value(std::move(status)); });
    Answer answer;
    answer.status = done.get_future().get();
    grpc::Slice whole;
    if (answer.status.ok() && received.DumpToSingleSlice(&whole).ok()) {
      answer.bytes.assign(reinterpret_cast<const char*>(whole.begin()), whole.size());
    }
    return answer;
  }

  // Entries ever added to the streams of `service` (XINFO's entries-added: trimming by the
  // consumers does not lower it).
  int64_t EventsAdded(const std::string& service) {
    redis::Pool& pool = platform().redis().pool();
    auto streams = pool.Command({"SMEMBERS", service + ":streams"});
    EXPECT_TRUE(streams.ok());
    int64_t added = 0;
    for (size_t i = 0; streams.ok() && i < streams->size(); ++i) {
      auto info = pool.Command({"XINFO", "STREAM", std::string((*streams)[i].str())});
      if (!info.ok()) continue;  // listed, not yet written
      for (size_t f = 0; f + 1 < info->size(); f += 2) {
        if ((*info)[f].str() == "entries-added") added += (*info)[f + 1].integer();
      }
    }
    return added;
  }

  // The same, once it has stopped changing (a two-step write's second step follows its event).
  int64_t SettledEventsAdded(const std::string& service) {
    int64_t last = EventsAdded(service);
    for (int quiet = 0; quiet < 3;) {
      absl::SleepFor(absl::Milliseconds(150));
      const int64_t now = EventsAdded(service);
      quiet = now == last ? quiet + 1 : 0;
      last = now;
    }
    return last;
  }

  void Check(const Row& row, Ids& ids) {
    SCOPED_TRACE(row.method);
    const std::string request = row.request(ids);
    const int64_t before = SettledEventsAdded(row.streams);
    std::vector<Answer> answers(kConcurrentCalls);
    {
      std::vector<std::thread> callers;
      callers.reserve(answers.size());
      for (Answer& answer : answers) {
        callers.emplace_back([&, request] { answer = Call(row, request); });
      }
      for (std::thread& caller : callers) caller.join();
    }
    ASSERT_TRUE(answers[0].status.ok()) << answers[0].status.error_message();
    for (const Answer& answer : answers) {
      EXPECT_TRUE(answer.status.ok()) << answer.status.error_message();
      EXPECT_EQ(answer.bytes, answers[0].bytes) << "a concurrent call answered differently";
    }
    const Answer later = Call(row, request);
    EXPECT_TRUE(later.status.ok()) << later.status.error_message();
    EXPECT_EQ(later.bytes, answers[0].bytes) << "the retry answered differently";
    EXPECT_EQ(SettledEventsAdded(row.streams) - before, row.events);

    const Answer changed = Call(row, row.changed(request));
    EXPECT_EQ(changed.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << changed.status.error_message();
    EXPECT_THAT(changed.status.error_message(), HasSubstr("request_id"));
    EXPECT_EQ(EventsAdded(row.streams) - before, row.events) << "the changed request wrote";
    row.learn(answers[0].bytes, ids);
  }

  pv1::Teacher GetTeacher(const std::string& teacher_id, const Principal& who) {
    pv1::GetTeacherRequest req;
    req.set_teacher_id(teacher_id);
    pv1::GetTeacherResponse resp;
    grpc::Status s = CallWith(platform().profile_stub(), &pv1::ProfileService::Stub::GetTeacher,
                              platform().Token(who), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.teacher();
  }

  // A self-report of teacher a for HR to review (setup, not a row): ids["conference"].
  void LogSetupConference(const std::string& a, Ids* ids) {
    tv1::LogTrainingRequest log;
    log.set_request_id("setup-conference");
    log.set_teacher_id(a);
    log.set_activity(tv1::TRAINING_ACTIVITY_CONFERENCE);
    log.set_title("省级课堂教学研讨会");
    log.set_level(common::v1::TRAINING_LEVEL_PROVINCE);
    log.set_mode(common::v1::TRAINING_MODE_FACE_TO_FACE);
    log.set_hours(12);
    log.set_started_on("2025-05-28");
    log.set_completed_on("2025-06-01");
    log.mutable_evidence()->set_description("参会证明");
    log.mutable_evidence()->set_file_ref("uploads/conference.pdf");
    tv1::LogTrainingResponse logged;
    grpc::Status s = CallWith(platform().training_stub(), &tv1::TrainingService::Stub::LogTraining,
                              platform().Token(TeacherP(a)), log, &logged);
    ASSERT_TRUE(s.ok()) << s.error_message();
    (*ids)["conference"] = logged.record().record_id();
  }

  // The RPCs that take a request_id: every one of them must have a row.
  static std::set<std::string> Writes() {
    std::set<std::string> writes;
    for (const pb::ServiceDescriptor* service :
         {Service("profile"), Service("training"), Service("rotation"), Service("mentorship"),
          Service("account")}) {
      for (int i = 0; i < service->method_count(); ++i) {
        const pb::MethodDescriptor* method = service->method(i);
        if (method->input_type()->FindFieldByName("request_id") != nullptr) {
          writes.insert(absl::StrCat("/", service->full_name(), "/", method->name()));
        }
      }
    }
    return writes;
  }
};

// County c's rows that create: a county, a school in c and a teacher at its urban school.
std::vector<Row> ProfileCreateRows(const County& c) {
  const Principal admin = AdminP(), hr = HrP(common::v1::ROLE_COUNTY_HR, c.county_id);
  const std::string urban = c.school_ids.at(c.county_id + "0001");
  const std::string county = c.county_id;
  std::vector<Row> rows;
  rows.push_back(MakeRow<pv1::CreateCountyRequest, pv1::CreateCountyResponse>(
      admin, 1,
      [](Ids&, auto& r) {
        r.set_county_id("330799");
        r.set_name("重试县");
        r.set_city_code("330700");
        r.set_province_code("330000");
      },
      [](auto& r) { r.set_name("另一个县"); }));
  rows.push_back(MakeRow<pv1::CreateSchoolRequest, pv1::CreateSchoolResponse>(
      admin, 1,
      [county](Ids&, auto& r) {
        r.set_county_id(county);
        r.set_name("重试小学");
        r.set_stage(common::v1::STAGE_PRIMARY);
        r.set_ownership(pv1::SCHOOL_OWNERSHIP_PUBLIC);
        r.set_location(pv1::SCHOOL_LOCATION_URBAN);
        r.set_quality(pv1::SCHOOL_QUALITY_ORDINARY);
        r.set_kind(pv1::SCHOOL_KIND_REGULAR);
        r.set_compulsory_education(true);
      },
      [](auto& r) { r.set_name("另一所小学"); }));
  rows.push_back(MakeRow<pv1::CreateTeacherRequest, pv1::CreateTeacherResponse>(
      hr, 1,
      [county, urban](Ids&, auto& r) {
        r.set_county_id(county);
        pv1::Teacher* t = r.mutable_teacher();
        t->set_name("赵敏");
        t->set_sex(common::v1::SEX_FEMALE);
        t->set_birth_date("1988-01-01");
        t->set_id_card_number(IdCard(county, "19880101", false, 77));
        t->set_hire_date("2010-09-01");
        t->set_school_id(urban);
        t->set_school_joined_on("2015-09-01");
        t->set_stage(common::v1::STAGE_PRIMARY);
        t->add_subjects("语文");
        t->set_staffed(true);
        t->set_post_status(pv1::POST_STATUS_ON_DUTY);
        t->set_national_teacher_id("N" + county + "-77");
        r.mutable_initial_title()->set_title(common::v1::PROFESSIONAL_TITLE_SECOND_GRADE);
        r.set_initial_title_conferred_on("2016-12-01");
      },
      [](auto& r) { r.mutable_teacher()->set_name("赵明"); },
      [](const pv1::CreateTeacherResponse& resp, Ids&) {
        // HR reads the number unmasked: the stored answer holds it (sealed).
        EXPECT_EQ(resp.teacher().id_card_number().find('*'), std::string::npos);
      }));
  return rows;
}

// County c's rows that change its teachers: an update, a timeline entry, a move, a transfer to
// county d, and a roster import.
std::vector<Row> ProfileChangeRows(const County& c, const County& d,
                                   const std::function<std::string(const std::string&)>& etag_of) {
  const Principal admin = AdminP(), hr = HrP(common::v1::ROLE_COUNTY_HR, c.county_id);
  const std::string a = c.teacher_ids.at("N" + c.county_id + "-1");
  const std::string b = c.teacher_ids.at("N" + c.county_id + "-2");
  const std::string t3 = c.teacher_ids.at("N" + c.county_id + "-3");
  const std::string rural = c.school_ids.at(c.county_id + "0002");
  const std::string d_urban = d.school_ids.at(d.county_id + "0001");
  const std::string county = c.county_id;
  std::vector<Row> rows;
  rows.push_back(MakeRow<pv1::UpdateTeacherRequest, pv1::UpdateTeacherResponse>(
      hr, 1,
      [a, etag_of](Ids&, auto& r) {
        r.set_teacher_id(a);
        r.set_etag(etag_of(a));
        r.mutable_teacher()->set_phone("13800000001");
        r.mutable_update_mask()->add_paths("phone");
      },
      [](auto& r) { r.mutable_teacher()->set_phone("13800000002"); }));
  rows.push_back(MakeRow<pv1::AddTimelineEntryRequest, pv1::AddTimelineEntryResponse>(
      hr, 1,
      [a](Ids&, auto& r) {
        r.set_teacher_id(a);
        r.mutable_entry()->set_kind(pv1::TIMELINE_ENTRY_KIND_HONOUR);
        r.mutable_entry()->set_occurred_on("2024-09-10");
        r.mutable_entry()->mutable_honour()->set_name("县优秀教师");
      },
      [](auto& r) { r.mutable_entry()->mutable_honour()->set_name("市优秀教师"); }));
  rows.push_back(MakeRow<pv1::MoveTeacherRequest, pv1::MoveTeacherResponse>(
      hr, 1,
      [b, rural](Ids&, auto& r) {
        r.set_teacher_id(b);
        r.set_to_school_id(rural);
        r.set_moved_on("2025-09-01");
        r.set_reason("支教");
      },
      [](auto& r) { r.set_moved_on("2025-09-02"); }));
  // Two steps: out of this county, then (driven by the first's event) into the other.
  rows.push_back(MakeRow<pv1::TransferTeacherRequest, pv1::TransferTeacherResponse>(
      admin, 2,
      [t3, d, d_urban](Ids&, auto& r) {
        r.set_teacher_id(t3);
        r.set_to_county_id(d.county_id);
        r.set_to_school_id(d_urban);
        r.set_transferred_on("2025-09-01");
        r.set_reason("调动");
      },
      [](auto& r) { r.set_reason("另一个原因"); }));
  rows.push_back(MakeRow<pv1::ImportRosterRequest, pv1::ImportRosterResponse>(
      hr, 1,
      [county](Ids&, auto& r) {
        r.set_county_id(county);
        r.set_kind(pv1::ROSTER_KIND_SCHOOLS);
        r.set_csv(SchoolsCsv({{county + "0003", "重试中学", "城区"}}));
      },
      [county](auto& r) {
        r.set_csv(SchoolsCsv({{county + "0003", "另一所中学", "城区"}}));
      }));
  return rows;
}

// `etag_of(teacher)` reads a teacher's etag when the row runs (events filed into the growth file
// change it meanwhile).
std::vector<Row> ProfileRows(const County& c, const County& d,
                             const std::function<std::string(const std::string&)>& etag_of) {
  std::vector<Row> rows = ProfileCreateRows(c);
  std::vector<Row> changes = ProfileChangeRows(c, d, etag_of);
  rows.insert(rows.end(), changes.begin(), changes.end());
  return rows;
}

// County c's course rows: register, publish, enrol, withdraw, a pending self-report and the
// completion that closes it.
std::vector<Row> TrainingCourseRows(const County& c) {
  const Principal centre = CentreP("P" + c.county_id);
  const std::string a = c.teacher_ids.at("N" + c.county_id + "-1");
  const std::string b = c.teacher_ids.at("N" + c.county_id + "-2");
  const Principal teacher_a = TeacherP(a), teacher_b = TeacherP(b);
  const std::string county = c.county_id;
  std::vector<Row> rows;
  rows.push_back(MakeRow<tv1::RegisterCourseRequest, tv1::RegisterCourseResponse>(
      centre, 1,
      [centre, county](Ids&, auto& r) {
        tv1::Course* course = r.mutable_course();
        course->set_provider_id(centre.provider_id());
        course->set_title("重试课程");
        course->set_level(common::v1::TRAINING_LEVEL_COUNTY);
        course->set_mode(common::v1::TRAINING_MODE_FACE_TO_FACE);
        course->set_hours(24);
        course->set_start_date("2025-10-01");
        course->set_end_date("2025-10-20");
        course->set_capacity(50);
        course->add_open_regions(county);
      },
      [](auto& r) { r.mutable_course()->set_title("另一门课程"); },
      [](const tv1::RegisterCourseResponse& resp, Ids& ids) {
        ids["course"] = resp.course().course_id();
      }));
  rows.push_back(MakeRow<tv1::PublishCourseRequest, tv1::PublishCourseResponse>(
      centre, 1, [](Ids& ids, auto& r) { r.set_course_id(ids.at("course")); },
      [](auto& r) { r.set_course_id(r.course_id() + "x"); }));
  rows.push_back(MakeRow<tv1::EnrollRequest, tv1::EnrollResponse>(
      teacher_a, 1,
      [a](Ids& ids, auto& r) {
        r.set_course_id(ids.at("course"));
        r.set_teacher_id(a);
      },
      [b](auto& r) { r.set_teacher_id(b); }));
  rows.push_back(MakeRow<tv1::WithdrawRequest, tv1::WithdrawResponse>(
      teacher_a, 1,
      [a](Ids& ids, auto& r) {
        r.set_course_id(ids.at("course"));
        r.set_teacher_id(a);
        r.set_reason("工作冲突");
      },
      [](auto& r) { r.set_reason("生病"); }));
  // A pending self-report of the course, which the completion below closes. It publishes no
  // event until then (its one change: the record, which the completion's answer names).
  rows.push_back(MakeRow<tv1::LogTrainingRequest, tv1::LogTrainingResponse>(
      teacher_b, 0,
      [b](Ids& ids, auto& r) {
        r.set_teacher_id(b);
        r.set_course_id(ids.at("course"));
        r.set_hours(24);
        r.set_completed_on("2025-10-20");
      },
      [](auto& r) { r.set_hours(12); },
      [](const tv1::LogTrainingResponse& resp, Ids& ids) {
        ids["pending"] = resp.record().record_id();
      }));
  rows.push_back(MakeRow<tv1::RecordCompletionsRequest, tv1::RecordCompletionsResponse>(
      centre, 1,
      [b](Ids& ids, auto& r) {
        r.set_course_id(ids.at("course"));
        tv1::CompletionRow* row = r.add_rows();
        row->set_teacher_id(b);
        row->set_hours(24);
        row->set_completed_on("2025-10-20");
      },
      [](auto& r) { r.mutable_rows(0)->set_hours(12); },
      [](const tv1::RecordCompletionsResponse& resp, Ids& ids) {
        ASSERT_EQ(resp.results_size(), 1);
        // Every answer, the retries' too, names the record the row closed (compared above).
        EXPECT_EQ(resp.results(0).closed_record_id(), ids.at("pending"));
        ids["entry"] = resp.results(0).entry_id();
      }));
  return rows;
}

// County c's rows after the courses: HR's review, a reversal, closing the course, a policy.
std::vector<Row> TrainingReviewRows(const County& c) {
  const Principal hr = HrP(common::v1::ROLE_COUNTY_HR, c.county_id);
  const Principal centre = CentreP("P" + c.county_id);
  const std::string b = c.teacher_ids.at("N" + c.county_id + "-2");
  const std::string county = c.county_id;
  std::vector<Row> rows;
  rows.push_back(MakeRow<tv1::ReviewTrainingRecordRequest, tv1::ReviewTrainingRecordResponse>(
      hr, 1,
      [](Ids& ids, auto& r) {
        r.set_record_id(ids.at("conference"));
        r.set_decision(tv1::REVIEW_DECISION_APPROVE);
      },
      // The opposite decision under the same request_id.
      [](auto& r) {
        r.set_decision(tv1::REVIEW_DECISION_REJECT);
        r.set_reason("证明不全");
      }));
  // Two stream entries per run: the reversal, and the training.summary of the recounted totals.
  rows.push_back(MakeRow<tv1::ReverseEntryRequest, tv1::ReverseEntryResponse>(
      hr, 2,
      [b](Ids& ids, auto& r) {
        r.set_teacher_id(b);
        r.set_entry_id(ids.at("entry"));
        r.set_reason("学时有误");
      },
      [](auto& r) { r.set_reason("重复登记"); }));
  rows.push_back(MakeRow<tv1::CloseCourseRequest, tv1::CloseCourseResponse>(
      centre, 1, [](Ids& ids, auto& r) { r.set_course_id(ids.at("course")); },
      [](auto& r) { r.set_course_id(r.course_id() + "x"); }));
  Row policy = MakeRow<tv1::SetTrainingPolicyRequest, tv1::SetTrainingPolicyResponse>(
      hr, 1,
      [county](Ids&, auto& r) {
        r.set_level(common::v1::POLICY_LEVEL_COUNTY);
        r.set_region(county);
        r.set_effective_from("2021-01-01");
        r.mutable_training()->set_required_hours(300);
      },
      [](auto& r) { r.mutable_training()->set_required_hours(320); });
  policy.streams = "policy";
  rows.push_back(policy);
  return rows;
}

std::vector<Row> TrainingRows(const County& c) {
  std::vector<Row> rows = TrainingCourseRows(c);
  std::vector<Row> reviews = TrainingReviewRows(c);
  rows.insert(rows.end(), reviews.begin(), reviews.end());
  return rows;
}

// County d's rows up to the rotations: a deferral recorded and ended, then three rotations (the
// first a row, the other two set up to be rejected and cancelled).
std::vector<Row> RotationCreateRows(const County& d) {
  const Principal hr = HrP(common::v1::ROLE_COUNTY_HR, d.county_id);
  const std::string rural = d.school_ids.at(d.county_id + "0002");
  const std::string t3 = d.teacher_ids.at("N" + d.county_id + "-3");
  std::vector<Row> rows;
  rows.push_back(MakeRow<rv1::RecordDeferralRequest, rv1::RecordDeferralResponse>(
      hr, 1,
      [t3](Ids&, auto& r) {
        r.set_teacher_id(t3);
        r.set_reason(rv1::DEFERRAL_REASON_NURSING);
        r.set_from_date("2025-03-01");
      },
      [](auto& r) { r.set_from_date("2025-03-02"); },
      [](const rv1::RecordDeferralResponse& resp, Ids& ids) {
        ids["deferral"] = resp.deferral().deferral_id();
      }));
  rows.push_back(MakeRow<rv1::EndDeferralRequest, rv1::EndDeferralResponse>(
      hr, 1,
      [](Ids& ids, auto& r) {
        r.set_deferral_id(ids.at("deferral"));
        r.set_to_date("2025-08-31");
      },
      [](auto& r) { r.set_to_date("2025-08-30"); }));
  for (const char* name : {"rotation", "rejected", "cancelled"}) {
    Row create = MakeRow<rv1::CreateRotationRequest, rv1::CreateRotationResponse>(
        hr, 1,
        [name, rural](Ids& ids, auto& r) {
          r.set_teacher_id(ids.at(absl::StrCat("teacher:", name)));
          const auto to = ids.find(absl::StrCat("to:", name));
          r.set_receiving_school_id(to == ids.end() ? rural : to->second);
          r.set_form(rv1::ROTATION_FORM_SUPPORT_TEACHING);
          r.set_start_date("2025-09-01");
          r.set_planned_end_date("2026-08-31");
        },
        [](auto& r) { r.set_planned_end_date("2026-07-31"); },
        [name](const rv1::CreateRotationResponse& resp, Ids& ids) {
          ids[name] = resp.rotation().rotation_id();
        });
    // Only the first is the row; the others are set up with their own request_ids.
    if (std::string(name) != "rotation") {
      create.request = [inner = create.request, name](Ids& ids) {
        rv1::CreateRotationRequest req;
        req.ParseFromString(inner(ids));
        req.set_request_id(absl::StrCat("setup-", name));
        return req.SerializeAsString();
      };
      create.method = "setup:" + create.method;
    }
    rows.push_back(create);
  }
  return rows;
}

// County d's rows that decide the rotations: approve, start, complete, reject, cancel; a policy.
std::vector<Row> RotationDecisionRows(const County& d) {
  const Principal hr = HrP(common::v1::ROLE_COUNTY_HR, d.county_id);
  const std::string county = d.county_id;
  std::vector<Row> rows;
  rows.push_back(MakeRow<rv1::ApproveRotationRequest, rv1::ApproveRotationResponse>(
      hr, 1, [](Ids& ids, auto& r) { r.set_rotation_id(ids.at("rotation")); },
      [](auto& r) { r.set_rotation_id(r.rotation_id() + "x"); }));
  rows.push_back(MakeRow<rv1::StartRotationRequest, rv1::StartRotationResponse>(
      hr, 1,
      [](Ids& ids, auto& r) {
        r.set_rotation_id(ids.at("rotation"));
        r.set_started_on("2025-09-01");
      },
      [](auto& r) { r.set_started_on("2025-09-02"); }));
  rows.push_back(MakeRow<rv1::CompleteRotationRequest, rv1::CompleteRotationResponse>(
      hr, 1,
      [](Ids& ids, auto& r) {
        r.set_rotation_id(ids.at("rotation"));
        r.set_completed_on("2025-11-20");
      },
      [](auto& r) { r.set_completed_on("2025-11-21"); }));
  rows.push_back(MakeRow<rv1::RejectRotationRequest, rv1::RejectRotationResponse>(
      hr, 1,
      [](Ids& ids, auto& r) {
        r.set_rotation_id(ids.at("rejected"));
        r.set_reason("名额已满");
      },
      [](auto& r) { r.set_reason("另一个原因"); }));
  rows.push_back(MakeRow<rv1::CancelRotationRequest, rv1::CancelRotationResponse>(
      hr, 1,
      [](Ids& ids, auto& r) {
        r.set_rotation_id(ids.at("cancelled"));
        r.set_reason("学校调整计划");
      },
      [](auto& r) { r.set_reason("另一个原因"); }));
  Row policy = MakeRow<rv1::SetRotationPolicyRequest, rv1::SetRotationPolicyResponse>(
      hr, 1,
      [county](Ids&, auto& r) {
        r.set_level(common::v1::POLICY_LEVEL_COUNTY);
        r.set_region(county);
        r.set_effective_from("2025-01-01");
        r.mutable_rotation()->set_ratio_percent(30);
      },
      [](auto& r) { r.mutable_rotation()->set_ratio_percent(20); });
  policy.streams = "policy";
  rows.push_back(policy);
  return rows;
}

std::vector<Row> RotationRows(const County& d) {
  std::vector<Row> rows = RotationCreateRows(d);
  std::vector<Row> decisions = RotationDecisionRows(d);
  rows.insert(rows.end(), decisions.begin(), decisions.end());
  return rows;
}

// County m's teachers (MentorshipTeachers): N-1 and N-2 qualified mentors at schools 0001 and
// 0002, N-3 and N-4 new teachers at 0001, N-5 a new teacher at 0002. Each pairing publishes two
// events (the mentee's and the mentor's growth files), a term evaluation one.
std::vector<Row> MentorshipRows(const County& m) {
  const Principal hr = HrP(common::v1::ROLE_COUNTY_HR, m.county_id);
  auto teacher = [&m](int i) { return m.teacher_ids.at(absl::StrCat("N", m.county_id, "-", i)); };
  const std::string mentor = teacher(1), other_mentor = teacher(2);
  const std::string mentee = teacher(3), second_mentee = teacher(4), third_mentee = teacher(5);
  const std::string county = m.county_id;
  std::vector<Row> rows;
  rows.push_back(MakeRow<mv1::CreatePairingRequest, mv1::CreatePairingResponse>(
      hr, 2,
      [mentee, mentor](Ids&, auto& r) {
        r.set_role(mv1::PAIRING_ROLE_TEACHING);
        r.set_mentee_id(mentee);
        r.set_mentor_id(mentor);
        r.set_start_date("2025-09-01");
        r.set_note("重试结对");
      },
      [](auto& r) { r.set_note("另一个备注"); },
      [](const mv1::CreatePairingResponse& resp, Ids& ids) {
        ids["pairing"] = resp.pairing().pairing_id();
      }));
  rows.push_back(MakeRow<mv1::CreatePairingsRequest, mv1::CreatePairingsResponse>(
      hr, 4,
      [=](Ids&, auto& r) {
        for (const auto& [who, by] :
             {std::pair{second_mentee, mentor}, std::pair{third_mentee, other_mentor}}) {
          mv1::PairingInput* in = r.add_pairings();
          in->set_role(mv1::PAIRING_ROLE_TEACHING);
          in->set_mentee_id(who);
          in->set_mentor_id(by);
          in->set_start_date("2025-09-01");
        }
      },
      [](auto& r) { r.mutable_pairings(1)->set_start_date("2025-09-02"); },
      [](const mv1::CreatePairingsResponse& resp, Ids&) {
        EXPECT_EQ(resp.created(), 2) << resp.DebugString();
      }));
  // The mentor's term evaluation: an activity and its event on the mentee's growth file.
  rows.push_back(MakeRow<mv1::LogActivityRequest, mv1::LogActivityResponse>(
      TeacherP(mentor), 1,
      [](Ids& ids, auto& r) {
        r.set_pairing_id(ids.at("pairing"));
        r.mutable_activity()->set_kind(mv1::ACTIVITY_KIND_TERM_EVALUATION);
        r.mutable_activity()->set_date("2025-11-20");
        r.mutable_activity()->set_grade(mv1::EVALUATION_GRADE_GOOD);
        r.mutable_activity()->set_remarks("听课认真");
      },
      [](auto& r) { r.mutable_activity()->set_grade(mv1::EVALUATION_GRADE_EXCELLENT); }));
  rows.push_back(MakeRow<mv1::EndPairingRequest, mv1::EndPairingResponse>(
      hr, 2,
      [](Ids& ids, auto& r) {
        r.set_pairing_id(ids.at("pairing"));
        r.set_outcome(mv1::PAIRING_STATE_ENDED_EARLY);
        r.set_ended_on("2025-11-21");
        r.set_reason("导师调动");
      },
      [](auto& r) { r.set_reason("另一个原因"); }));
  Row policy = MakeRow<mv1::SetMentorshipPolicyRequest, mv1::SetMentorshipPolicyResponse>(
      hr, 1,
      [county](Ids&, auto& r) {
        r.set_level(common::v1::POLICY_LEVEL_COUNTY);
        r.set_region(county);
        r.set_effective_from("2025-01-01");
        r.mutable_mentorship()->set_max_mentees(3);
      },
      [](auto& r) { r.mutable_mentorship()->set_max_mentees(4); });
  policy.streams = "policy";
  rows.push_back(policy);
  return rows;
}

// County c's accounts: a school admin's made, reset and disabled by HR; the teachers' from the
// roster, one of whom changes their initial password.
std::vector<Row> AccountRows(const County& c) {
  const Principal hr = HrP(common::v1::ROLE_COUNTY_HR, c.county_id);
  const std::string teacher = c.teacher_ids.at(absl::StrCat("N", c.county_id, "-1"));
  std::vector<Row> rows;
  rows.push_back(MakeRow<av1::CreateAccountRequest, av1::CreateAccountResponse>(
      hr, 0,
      [&c](Ids&, auto& r) {
        av1::Account* a = r.mutable_account();
        a->set_username("replay.head");
        a->set_role(common::v1::ROLE_SCHOOL_ADMIN);
        a->set_school_id(c.school_ids.begin()->second);
        a->set_county_id(c.county_id);
      },
      [](auto& r) { r.mutable_account()->set_display_name("另一个名字"); }));
  rows.push_back(
      MakeRow<av1::CreateAccountsFromRosterRequest, av1::CreateAccountsFromRosterResponse>(
          hr, 0, [&c](Ids&, auto& r) { r.set_county_id(c.county_id); },
          [&c](auto& r) { r.set_school_id(c.school_ids.begin()->second); },
          [teacher](const av1::CreateAccountsFromRosterResponse& resp, Ids& ids) {
            EXPECT_GT(resp.created(), 0) << resp.DebugString();
            for (const av1::RosterAccount& row : resp.accounts()) {
              if (row.teacher_id() == teacher) ids["password:teacher"] = row.initial_password();
            }
          }));
  rows.push_back(MakeRow<av1::ResetPasswordRequest, av1::ResetPasswordResponse>(
      hr, 0, [](Ids&, auto& r) { r.set_username("replay.head"); },
      [](auto& r) { r.set_username("replay.other"); }));
  rows.push_back(MakeRow<av1::DisableAccountRequest, av1::DisableAccountResponse>(
      hr, 0, [](Ids&, auto& r) { r.set_username("replay.head"); },
      [](auto& r) { r.set_username("replay.other"); }));
  rows.push_back(MakeRow<av1::ChangePasswordRequest, av1::ChangePasswordResponse>(
      TeacherP(teacher), 0,
      [](Ids& ids, auto& r) {
        r.set_old_password(ids.at("password:teacher"));
        r.set_new_password("a teacher's own password");
      },
      [](auto& r) { r.set_new_password("another password of theirs"); }));
  for (Row& row : rows) row.streams = "account";
  return rows;
}

TEST_F(ReplayTest, EveryWriteAnswersItsRetriesWithTheFirstAnswer) {
  County c, d, m;
  ImportCounty(platform(), "330791", &c);
  ASSERT_FALSE(HasFatalFailure());
  ImportCounty(platform(), "330792", &d);
  ASSERT_FALSE(HasFatalFailure());
  ImportCounty(platform(), "330793", &m, MentorshipTeachers("330793"));
  ASSERT_FALSE(HasFatalFailure());
  ASSERT_TRUE(AwaitTrainingKnows(platform(), c));

  Ids ids;
  const std::string a = c.teacher_ids.at("N330791-1");
  const Principal hr = HrP(common::v1::ROLE_COUNTY_HR, "330791");
  ASSERT_NO_FATAL_FAILURE(LogSetupConference(a, &ids));
  // The rotation service learns county d's teachers from the profile service's events.
  ASSERT_TRUE(Eventually([&] {
    rv1::ListEligibleRequest req;
    req.set_county_id("330792");
    req.set_school_year("2025");
    rv1::ListEligibleResponse resp;
    return CallWith(platform().rotation_stub(), &rv1::RotationService::Stub::ListEligible,
                    platform().Token(HrP(common::v1::ROLE_COUNTY_HR, "330792")), req, &resp)
               .ok() &&
           resp.rows_size() >= 3;
  }));
  ids["teacher:rotation"] = d.teacher_ids.at("N330792-1");
  ids["teacher:rejected"] = d.teacher_ids.at("N330792-2");
  ids["teacher:cancelled"] = d.teacher_ids.at("N330792-3");
  ids["to:cancelled"] = d.school_ids.at("3307920001");  // -3 is at the rural school
  // The mentorship service learns county m's teachers (and their titles) from the profile
  // service's events: the three new teachers lack a TEACHING mentor.
  ASSERT_TRUE(Eventually([&] {
    mv1::ListUnpairedRequest req;
    req.set_county_id("330793");
    mv1::ListUnpairedResponse resp;
    return CallWith(platform().mentorship_stub(), &mv1::MentorshipService::Stub::ListUnpaired,
                    platform().Token(HrP(common::v1::ROLE_COUNTY_HR, "330793")), req, &resp)
               .ok() &&
           resp.lacking_teaching() == 3;
  }));

  std::vector<Row> rows =
      ProfileRows(c, d, [&](const std::string& teacher) { return GetTeacher(teacher, hr).etag(); });
  for (std::vector<Row> more :
       {TrainingRows(c), RotationRows(d), MentorshipRows(m), AccountRows(c)}) {
    rows.insert(rows.end(), more.begin(), more.end());
  }
  std::set<std::string> covered;
  for (const Row& row : rows) covered.insert(row.method);
  for (const std::string& write : Writes()) {
    EXPECT_EQ(covered.count(write), 1u) << write << " has no row: add one";
  }

  for (const Row& row : rows) {
    if (absl::StartsWith(row.method, "setup:")) {
      Row setup = row;
      setup.method = std::string(absl::StripPrefix(row.method, "setup:"));
      const std::string request = setup.request(ids);
      // The rotation service may not know the teacher yet.
      Answer answer;
      ASSERT_TRUE(Eventually([&] { return (answer = Call(setup, request)).status.ok(); }))
          << setup.method << ": " << answer.status.error_message();
      setup.learn(answer.bytes, ids);
      continue;
    }
    Check(row, ids);
    ASSERT_FALSE(HasFatalFailure()) << row.method;
  }
}

}  // namespace
}  // namespace shidang::e2e

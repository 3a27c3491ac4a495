#include "tests/kit/beside_profile.h"

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace shidang::testing {

namespace pv1 = ::shidang::profile::v1;

bool Eventually(const std::function<bool()>& done) {
  absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (absl::Now() < deadline) {
    if (done()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

void BesideProfileTest::StartBesideProfile(const std::string& binary, const std::string& name,
                                           bool with_profile_address) {
  const std::string key = keys_.path() + "/principal.key";
  WriteFile(key, std::string(40, 'k'));
  WriteFile(keys_.path() + "/data.key", std::string(48, 'd'));
  const std::string today = absl::StrCat("--today=", kBesideToday);
  auto profile = ServiceProcess::Start(
      SHIDANG_PROFILE_BINARY, {"--redis=" + redis_.address(), "--principal_key_file=" + key,
                               "--data_key_file=" + keys_.path() + "/data.key", today});
  ASSERT_TRUE(profile.ok()) << profile.status();
  profile_ = std::move(*profile);
  std::vector<std::string> args = {"--redis=" + redis_.address(), "--principal_key_file=" + key,
                                   today};
  if (with_profile_address) args.push_back("--profile=" + profile_->address());
  service_name_ = name;
  auto service = ServiceProcess::Start(binary, args);
  ASSERT_TRUE(service.ok()) << service.status();
  service_ = std::move(*service);
  profile_stub_ = pv1::ProfileService::NewStub(
      grpc::CreateChannel(profile_->address(), grpc::InsecureChannelCredentials()));
}

void BesideProfileTest::TearDown() {
  if (HasFailure()) {
    std::fprintf(stderr, "--- shidang-profile ---\n%s\n--- %s ---\n%s\n",
                 profile_ ? profile_->StderrText().c_str() : "", service_name_.c_str(),
                 service_ ? service_->StderrText().c_str() : "");
  }
}

std::shared_ptr<grpc::Channel> BesideProfileTest::ServiceChannel() const {
  return grpc::CreateChannel(service_->address(), grpc::InsecureChannelCredentials());
}

void BesideProfileTest::CreateCounty() {
  pv1::CreateCountyResponse resp;
  grpc::Status s = Call(profile_stub_.get(), &pv1::ProfileService::Stub::CreateCounty, admin_,
                        WuyiCountyRequest(), &resp);
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
}

std::string BesideProfileTest::CreateSchool(const std::string& name, pv1::SchoolLocation location) {
  pv1::CreateSchoolResponse resp;
  grpc::Status s = Call(profile_stub_.get(), &pv1::ProfileService::Stub::CreateSchool, hr_,
                        PrimarySchoolRequest(name, location, absl::StrCat("school-", name)), &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp.school().school_id();
}

std::string BesideProfileTest::CreateTeacher(const std::string& name, const std::string& hire,
                                             const std::string& joined, const std::string& school,
                                             int serial) {
  pv1::CreateTeacherResponse resp;
  grpc::Status s = Call(profile_stub_.get(), &pv1::ProfileService::Stub::CreateTeacher, hr_,
                        MathsTeacherRequest(name, hire, joined, school, serial), &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp.teacher().teacher_id();
}

pv1::TimelineEntry BesideProfileTest::AddEntry(const std::string& teacher,
                                               const pv1::TimelineEntry& entry,
                                               const std::string& request_id) {
  pv1::AddTimelineEntryRequest req;
  req.set_teacher_id(teacher);
  *req.mutable_entry() = entry;
  req.set_request_id(request_id);
  pv1::AddTimelineEntryResponse resp;
  grpc::Status s =
      Call(profile_stub_.get(), &pv1::ProfileService::Stub::AddTimelineEntry, hr_, req, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp.entry();
}

}  // namespace shidang::testing

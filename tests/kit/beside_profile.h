#pragma once

// Test kit: a service that keeps its own copy of the profile service's teachers (rotation,
// mentorship, ...) beside the real profile service on one redis-server, both started as processes
// with one principal key and one pinned today, and the profile calls such tests make to give it
// a county, schools and teachers.
//
//   class MineWithProfileTest : public testing::BesideProfileTest {
//    protected:
//     void SetUp() override {
//       ASSERT_NO_FATAL_FAILURE(StartBesideProfile(SHIDANG_MINE_BINARY, "shidang-mine"));
//       stub_ = v1::MineService::NewStub(ServiceChannel());
//     }
//   };

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "services/common/principal.h"
#include "shidang/profile/v1/profile.grpc.pb.h"
#include "tests/kit/files.h"
#include "tests/kit/principals.h"
#include "tests/kit/profile_requests.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_process.h"

namespace shidang::testing {

// The day both processes run on.
inline constexpr char kBesideToday[] = "2025-10-15";

// Polls `done` every 50 ms for up to 15 s; whether it became true.
bool Eventually(const std::function<bool()>& done);

class BesideProfileTest : public ::testing::Test {
 protected:
  // Starts the profile service, then `binary` (named `name` in failure output), given
  // `--profile=<the profile service>` too when `with_profile_address`.
  void StartBesideProfile(const std::string& binary, const std::string& name,
                          bool with_profile_address = false);
  // On a failure, prints both processes' stderr.
  void TearDown() override;

  // A channel to the service started beside the profile service.
  std::shared_ptr<grpc::Channel> ServiceChannel() const;

  // Calls `method` as `who`, with a 30 s deadline.
  template <typename Stub, typename Req, typename Resp>
  grpc::Status Call(Stub* stub,
                    grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                    const common::v1::Principal& who, const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    signer_.Attach(&ctx, who);
    return (stub->*method)(&ctx, req, resp);
  }

  // The county (武义县), as an admin; a fatal failure when refused.
  void CreateCounty();
  // A primary school of the county at `location`, as HR; its id.
  std::string CreateSchool(const std::string& name, profile::v1::SchoolLocation location =
                                                        profile::v1::SCHOOL_LOCATION_URBAN);
  // A staffed primary maths teacher on duty at `school` since `joined` (request id
  // "teacher-<serial>"), born 1985-03-10, as HR; their id.
  std::string CreateTeacher(const std::string& name, const std::string& hire,
                            const std::string& joined, const std::string& school, int serial);
  // AddTimelineEntry as HR (request id `request_id`); the entry as recorded.
  profile::v1::TimelineEntry AddEntry(const std::string& teacher,
                                      const profile::v1::TimelineEntry& entry,
                                      const std::string& request_id);

  RedisServer redis_;
  TempDir keys_;
  std::unique_ptr<ServiceProcess> profile_, service_;
  std::string service_name_;
  std::unique_ptr<profile::v1::ProfileService::Stub> profile_stub_;
  PrincipalSigner signer_{std::string(40, 'k')};
  common::v1::Principal hr_ = Who(common::v1::ROLE_COUNTY_HR, "hr", kWuyiCounty);
  common::v1::Principal admin_ = Who(common::v1::ROLE_ADMIN, "root");
};

}  // namespace shidang::testing

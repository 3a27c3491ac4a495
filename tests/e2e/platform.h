#pragma once

// End-to-end kit: the whole platform as real processes (one redis-server, shidang-profile,
// shidang-training with its consumer of profile events on, shidang-gateway with its gRPC and
// HTTP/JSON fronts), reached only through public ports: the gateway's two, and each service's own
// port for the checks that bypass the gateway on purpose. Bearer tokens are minted with MintJwt,
// as shidang-mint does; principals for direct calls are signed with the platform's key.

#include <grpcpp/grpcpp.h>

#include <boost/beast/http.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "gtest/gtest.h"
#include "services/common/jwt.h"
#include "services/common/principal.h"
#include "shidang/common/v1/principal.pb.h"
#include "shidang/mentorship/v1/mentorship.grpc.pb.h"
#include "shidang/profile/v1/profile.grpc.pb.h"
#include "shidang/rotation/v1/rotation.grpc.pb.h"
#include "shidang/training/v1/training.grpc.pb.h"
#include "tests/kit/http_client.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/service_process.h"

namespace shidang::e2e {

inline constexpr char kIssuer[] = "shidang-e2e";
inline constexpr char kAudience[] = "shidang-e2e-api";
// The services' pinned "today" (Asia/Shanghai): 36 days before the default fixed cycle
// 2021-01-01..2025-12-31 ends (DOMAIN §6: 1826 days, elapsed 1790, expected 352.89 h of 360).
inline constexpr char kToday[] = "2025-11-25";

using Headers = testing::HttpHeaders;
using testing::HttpClient;
using testing::HttpReply;

// Principals (the claims of a bearer token, or what a direct call signs).
common::v1::Principal TeacherP(const std::string& teacher_id);
common::v1::Principal SchoolAdminP(const std::string& school_id);
common::v1::Principal HrP(common::v1::Role role, const std::string& region);
common::v1::Principal CentreP(const std::string& provider_id);
common::v1::Principal AdminP();
common::v1::Principal ServiceP();
// A principal of `role` with a plausible scope for it (used by the role table).
common::v1::Principal AnyOf(common::v1::Role role);

// Parses a JSON body with protobuf's JSON parser into a Struct; a failure fails the test and
// returns an empty Struct.
google::protobuf::Struct ParseJson(const std::string& body);
// The member `path` ("a.b.c"; arrays not traversed), or nullptr.
const google::protobuf::Value* Member(const google::protobuf::Struct& object,
                                      absl::string_view path);
// Parses JSON into a typed message (protobuf JSON mapping, unknown fields refused).
bool JsonTo(const std::string& body, google::protobuf::Message* message);

// A gateway process and its two fronts.
struct Gateway {
  std::unique_ptr<testing::ServiceProcess> process;
  int http_port = 0;
  std::string grpc_address() const { return process->address(); }
};

// How Platform::Start runs redis-server (the fault tests want appendfsync "always").
struct PlatformOptions {
  testing::RedisServerOptions redis;
};

// The platform's processes besides redis-server, for the fault tests' kills and restarts.
enum class Part { kProfile, kTraining, kRotation, kMentorship, kAccount, kGateway };
std::string PartName(Part part);

class Platform {
 public:
  // Starts redis-server, both services and a gateway in front of them (rate limit off, so the
  // table of every role and method is not throttled). Fails with the stderr of what did not start.
  static absl::StatusOr<std::unique_ptr<Platform>> Start(const PlatformOptions& options = {});
  ~Platform();

  // SIGKILLs `part`, as a crash would, and reaps it.
  void Crash(Part part);
  // Starts `part` again after Crash, with the arguments and on the port(s) it had, so the gateway
  // and the clients find it where it was. FAILED_PRECONDITION with its stderr when it does not
  // start (another process took the port meanwhile, say).
  absl::Status Restart(Part part);

  // Another gateway on the same keys and descriptor set, with `backends` (the flag's value) and
  // extra flags.
  absl::StatusOr<Gateway> StartGateway(const std::string& backends,
                                       const std::vector<std::string>& extra = {}) const;
  // Another shidang-training on the same Redis and keys, without the profile consumer (so that
  // killing it strands no event).
  absl::StatusOr<std::unique_ptr<testing::ServiceProcess>> StartExtraTraining() const;
  // The --backends value for the platform's own services.
  std::string Backends() const;

  std::string Token(const common::v1::Principal& claims, absl::Duration ttl = absl::Hours(1),
                    absl::Time now = absl::Now()) const;
  const JwtKey& jwt_key() const { return jwt_key_; }
  const PrincipalSigner& signer() const { return signer_; }
  // The key file the services verify principals with (for tools run against the platform).
  const std::string& principal_key_path() const { return principal_key_path_; }

  const Gateway& gateway() const { return gateway_; }
  testing::ServiceProcess& profile() { return *profile_; }
  testing::ServiceProcess& training() { return *training_; }
  testing::ServiceProcess& rotation() { return *rotation_; }
  testing::ServiceProcess& mentorship() { return *mentorship_; }
  testing::ServiceProcess& account() { return *account_; }
  testing::RedisServer& redis() { return redis_; }

  std::shared_ptr<grpc::Channel> GatewayChannel() const { return gateway_channel_; }
  profile::v1::ProfileService::Stub& profile_stub() { return *profile_stub_; }
  training::v1::TrainingService::Stub& training_stub() { return *training_stub_; }
  rotation::v1::RotationService::Stub& rotation_stub() { return *rotation_stub_; }
  mentorship::v1::MentorshipService::Stub& mentorship_stub() { return *mentorship_stub_; }

  // Everything the processes wrote to stderr, for a failing test's output.
  std::string Logs() const;

 private:
  explicit Platform(const PlatformOptions& options) : redis_(options.redis) {}
  // Starts `part` with `args` (kept for Restart) into its slot.
  absl::Status Launch(Part part, std::vector<std::string> args);
  std::unique_ptr<testing::ServiceProcess>& Slot(Part part);
  // The gateway's arguments, with a fresh HTTP port file; and the start from them.
  std::vector<std::string> GatewayArgs(const std::string& backends,
                                       const std::vector<std::string>& extra) const;
  absl::StatusOr<Gateway> StartGatewayWith(const std::vector<std::string>& args) const;

  testing::TempDir dir_;
  std::string principal_key_path_;
  std::string jwt_keys_path_;
  std::string data_key_path_;
  JwtKey jwt_key_;
  PrincipalSigner signer_{std::string(32, 'x')};  // replaced in Start
  testing::RedisServer redis_;
  std::unique_ptr<testing::ServiceProcess> profile_;
  std::unique_ptr<testing::ServiceProcess> training_;
  std::unique_ptr<testing::ServiceProcess> rotation_;
  std::unique_ptr<testing::ServiceProcess> mentorship_;
  std::unique_ptr<testing::ServiceProcess> account_;
  Gateway gateway_;
  std::shared_ptr<grpc::Channel> gateway_channel_;
  std::unique_ptr<profile::v1::ProfileService::Stub> profile_stub_;
  std::unique_ptr<training::v1::TrainingService::Stub> training_stub_;
  std::unique_ptr<rotation::v1::RotationService::Stub> rotation_stub_;
  std::unique_ptr<mentorship::v1::MentorshipService::Stub> mentorship_stub_;
  std::map<Part, std::vector<std::string>> args_;
};

// A channel to `address` that accepts large trailers (a rejected roster's row details).
std::shared_ptr<grpc::Channel> Channel(const std::string& address);

// A client context with a deadline and, when given, a bearer token and an x-request-id.
std::unique_ptr<grpc::ClientContext> BearerContext(const std::string& token,
                                                   const std::string& request_id = "",
                                                   absl::Duration deadline = absl::Seconds(30));

// Calls a generated stub method with a bearer token.
template <typename Stub, typename Req, typename Resp>
grpc::Status CallWith(Stub& stub,
                      grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                      const std::string& token, const Req& req, Resp* resp) {
  std::unique_ptr<grpc::ClientContext> context = BearerContext(token);
  return (stub.*method)(context.get(), req, resp);
}

// ---- Test data.

// A valid 18-digit ID-card number (GB 11643) born in `county`, with the check character.
std::string IdCard(const std::string& county, const std::string& birth_yyyymmdd, bool male,
                   int serial);

struct RosterSchool {
  std::string code;
  std::string name;
  std::string location = "城区";
};

struct RosterTeacher {
  std::string national_id;
  std::string name;
  bool male = false;
  std::string birth = "1990-03-07";
  std::string school_code;
  std::string title = "二级";
  std::string title_on = "2016-12-01";
  // 参加工作时间; the teacher joined their school on the later of it and 2015-09-01.
  std::string hire = "2012-09-01";
};

// The CSV files HR uploads (Chinese headers and labels, as Excel saves them but in UTF-8).
std::string SchoolsCsv(const std::vector<RosterSchool>& schools);
std::string TeachersCsv(const std::string& county, const std::vector<RosterTeacher>& teachers);

// The fixture every end-to-end suite uses: the platform is started once per suite (the test
// binary runs one test per process under ctest, so that is once per test there), and each test
// keeps its data apart with its own county, schools and providers.
class PlatformTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;
  void TearDown() override;
  static Platform& platform() { return **platform_; }

 private:
  static std::unique_ptr<Platform>* platform_;
  static std::string* start_error_;
};

// Polls `check` every 50 ms until it returns true or `timeout` passes.
bool Eventually(const std::function<bool()>& check, absl::Duration timeout = absl::Seconds(20));

}  // namespace shidang::e2e

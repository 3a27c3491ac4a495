#include "tests/e2e/platform.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <csignal>
#include <cstdio>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/profile/rules.h"
#include "tests/kit/files.h"

namespace shidang::e2e {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace pb = google::protobuf;
using common::v1::Principal;
using common::v1::Role;
using testing::ServiceProcess;

Principal TeacherP(const std::string& teacher_id) {
  Principal p;
  p.set_role(common::v1::ROLE_TEACHER);
  p.set_subject(teacher_id);
  return p;
}

Principal SchoolAdminP(const std::string& school_id) {
  Principal p;
  p.set_role(common::v1::ROLE_SCHOOL_ADMIN);
  p.set_subject("sa-" + school_id);
  p.set_school_id(school_id);
  return p;
}

Principal HrP(Role role, const std::string& region) {
  Principal p;
  p.set_role(role);
  p.set_subject(absl::StrCat(RoleName(role), "-", region));
  p.set_region(region);
  return p;
}

Principal CentreP(const std::string& provider_id) {
  Principal p;
  p.set_role(common::v1::ROLE_TRAINING_CENTER);
  p.set_subject("centre-" + provider_id);
  p.set_provider_id(provider_id);
  return p;
}

Principal AdminP() {
  Principal p;
  p.set_role(common::v1::ROLE_ADMIN);
  p.set_subject("ops");
  return p;
}

Principal ServiceP() {
  Principal p;
  p.set_role(common::v1::ROLE_SERVICE);
  p.set_subject("svc-e2e");
  return p;
}

Principal AnyOf(Role role) {
  switch (role) {
    case common::v1::ROLE_TEACHER:
      return TeacherP("T-role-table");
    case common::v1::ROLE_SCHOOL_ADMIN:
      return SchoolAdminP("S-role-table");
    case common::v1::ROLE_COUNTY_HR:
      return HrP(role, "330799");
    case common::v1::ROLE_CITY_HR:
      return HrP(role, "330700");
    case common::v1::ROLE_PROVINCE_HR:
      return HrP(role, "330000");
    case common::v1::ROLE_TRAINING_CENTER:
      return CentreP("P-role-table");
    case common::v1::ROLE_ADMIN:
      return AdminP();
    case common::v1::ROLE_SERVICE:
      return ServiceP();
    default:
      return Principal();
  }
}

// ---- HTTP.

pb::Struct ParseJson(const std::string& body) {
  pb::Struct object;
  auto status = pb::util::JsonStringToMessage(body, &object);
  EXPECT_TRUE(status.ok()) << "not a JSON object: " << status.ToString() << "\n" << body;
  return object;
}

const pb::Value* Member(const pb::Struct& object, absl::string_view path) {
  const pb::Struct* at = &object;
  const pb::Value* value = nullptr;
  for (absl::string_view name : absl::StrSplit(path, '.')) {
    if (at == nullptr) return nullptr;
    auto it = at->fields().find(std::string(name));
    if (it == at->fields().end()) return nullptr;
    value = &it->second;
    at = value->has_struct_value() ? &value->struct_value() : nullptr;
  }
  return value;
}

bool JsonTo(const std::string& body, pb::Message* message) {
  auto status = pb::util::JsonStringToMessage(body, message);
  EXPECT_TRUE(status.ok()) << "not a " << message->GetTypeName() << ": " << status.ToString()
                           << "\n"
                           << body;
  return status.ok();
}

// ---- Processes.

std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_MAX_METADATA_SIZE, 1 << 20);
  args.SetMaxReceiveMessageSize(16 << 20);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

std::unique_ptr<grpc::ClientContext> BearerContext(const std::string& token,
                                                   const std::string& request_id,
                                                   absl::Duration deadline) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + deadline));
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  if (!request_id.empty()) context->AddMetadata("x-request-id", request_id);
  return context;
}

namespace {

absl::Status Failed(const std::string& what, const absl::Status& status) {
  return absl::FailedPreconditionError(absl::StrCat(what, ": ", status.ToString()));
}

// Waits until the gateway's /readyz answers 200 (every backend SERVING).
bool AwaitReady(int http_port) {
  return Eventually(
      [&] {
        HttpClient client(http_port);
        return client.Send(http::verb::get, "/readyz").status == 200;
      },
      absl::Seconds(15));
}

}  // namespace

std::string PartName(Part part) {
  switch (part) {
    case Part::kProfile:
      return "shidang-profile";
    case Part::kTraining:
      return "shidang-training";
    case Part::kRotation:
      return "shidang-rotation";
    case Part::kMentorship:
      return "shidang-mentorship";
    case Part::kAccount:
      return "shidang-account";
    case Part::kGateway:
      return "shidang-gateway";
  }
  return "?";
}

namespace {

const char* BinaryOf(Part part) {
  switch (part) {
    case Part::kProfile:
      return SHIDANG_PROFILE_BINARY;
    case Part::kTraining:
      return SHIDANG_TRAINING_BINARY;
    case Part::kRotation:
      return SHIDANG_ROTATION_BINARY;
    case Part::kMentorship:
      return SHIDANG_MENTORSHIP_BINARY;
    case Part::kAccount:
      return SHIDANG_ACCOUNT_BINARY;
    case Part::kGateway:
      return SHIDANG_GATEWAY;
  }
  return "";
}

// The value of `--<name>=` in `args`, or "".
std::string FlagValue(const std::vector<std::string>& args, const std::string& name) {
  const std::string prefix = "--" + name + "=";
  for (const std::string& arg : args) {
    if (absl::StartsWith(arg, prefix)) return arg.substr(prefix.size());
  }
  return "";
}

}  // namespace

absl::StatusOr<std::unique_ptr<Platform>> Platform::Start(const PlatformOptions& options) {
  std::unique_ptr<Platform> p(new Platform(options));
  p->principal_key_path_ = p->dir_.path() + "/principal.key";
  const std::string principal_key = testing::RandomBytes(32);
  testing::WriteFile(p->principal_key_path_, principal_key);
  p->signer_ = PrincipalSigner(principal_key);
  p->jwt_key_ = JwtKey{"e2e-1", testing::RandomBytes(32)};
  p->jwt_keys_path_ = p->dir_.path() + "/jwt.keys";
  testing::WriteFile(p->jwt_keys_path_, FormatJwtKeyLine(p->jwt_key_));
  p->data_key_path_ = p->dir_.path() + "/profile-data.key";
  testing::WriteFile(p->data_key_path_, testing::RandomBytes(48));

  // Room for the replay test's 20 concurrent identical calls, which wait for the first's answer.
  const std::string threads = "--max_threads=64";
  const std::string redis = "--redis=" + p->redis_.address();
  const std::string key = "--principal_key_file=" + p->principal_key_path_;
  const std::string today = std::string("--today=") + kToday;
  absl::Status started = p->Launch(
      Part::kProfile, {redis, key, "--data_key_file=" + p->data_key_path_, today, threads});
  if (started.ok()) {
    started = p->Launch(Part::kTraining, {redis, key, today, "--consume_profile=true", threads});
  }
  if (started.ok()) {
    started = p->Launch(Part::kRotation,
                        {redis, key, today, "--profile=" + p->profile_->address(), threads});
  }
  if (started.ok()) started = p->Launch(Part::kMentorship, {redis, key, today});
  // The account service signs the same tokens the gateway verifies (its keyset, issuer, audience).
  if (started.ok()) {
    started = p->Launch(
        Part::kAccount,
        {redis, key, "--jwt_keys_file=" + p->jwt_keys_path_, std::string("--jwt_issuer=") + kIssuer,
         std::string("--jwt_audience=") + kAudience, "--profile=" + p->profile_->address()});
  }
  if (!started.ok()) return started;
  // The table of every role and method makes hundreds of calls: no rate limit here (a gateway
  // of its own tests the limit).
  p->args_[Part::kGateway] = p->GatewayArgs(p->Backends(), {"--rate_per_second=0"});
  auto gateway = p->StartGatewayWith(p->args_[Part::kGateway]);
  if (!gateway.ok()) return gateway.status();
  p->gateway_ = *std::move(gateway);
  if (!AwaitReady(p->gateway_.http_port)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the gateway never became ready:\n", p->Logs()));
  }
  p->gateway_channel_ = Channel(p->gateway_.grpc_address());
  p->profile_stub_ = profile::v1::ProfileService::NewStub(p->gateway_channel_);
  p->training_stub_ = training::v1::TrainingService::NewStub(p->gateway_channel_);
  p->rotation_stub_ = rotation::v1::RotationService::NewStub(p->gateway_channel_);
  p->mentorship_stub_ = mentorship::v1::MentorshipService::NewStub(p->gateway_channel_);
  return p;
}

Platform::~Platform() {
  // The gateway first, as deploy/run.sh stops them.
  gateway_.process.reset();
}

std::unique_ptr<ServiceProcess>& Platform::Slot(Part part) {
  switch (part) {
    case Part::kProfile:
      return profile_;
    case Part::kTraining:
      return training_;
    case Part::kRotation:
      return rotation_;
    case Part::kMentorship:
      return mentorship_;
    case Part::kAccount:
      return account_;
    case Part::kGateway:
      break;
  }
  return gateway_.process;
}

absl::Status Platform::Launch(Part part, std::vector<std::string> args) {
  auto process = ServiceProcess::Start(BinaryOf(part), args);
  if (!process.ok()) return Failed(PartName(part), process.status());
  args_[part] = std::move(args);
  Slot(part) = *std::move(process);
  return absl::OkStatus();
}

void Platform::Crash(Part part) {
  std::unique_ptr<ServiceProcess>& process = Slot(part);
  process->Kill(SIGKILL);
  process->Wait();
}

absl::Status Platform::Restart(Part part) {
  std::vector<std::string> args = args_.at(part);
  args.push_back(absl::StrCat("--port=", Slot(part)->port()));
  // More time than a first start: a restart comes while the machine is busy with the load.
  if (part != Part::kGateway) {
    auto process = ServiceProcess::Start(BinaryOf(part), args, absl::Seconds(30));
    if (!process.ok()) return Failed(PartName(part) + " again", process.status());
    Slot(part) = *std::move(process);
    return absl::OkStatus();
  }
  // The last --http_port wins; the old port file goes, so the new one is this start's.
  args.push_back(absl::StrCat("--http_port=", gateway_.http_port));
  std::remove(FlagValue(args, "http_port_file").c_str());
  auto gateway = StartGatewayWith(args);
  if (!gateway.ok()) return gateway.status();
  gateway_ = *std::move(gateway);
  return absl::OkStatus();
}

std::string Platform::Backends() const {
  return absl::StrCat("shidang.profile.v1.ProfileService=", profile_->address(),
                      ";shidang.training.v1.TrainingService=", training_->address(),
                      ";shidang.rotation.v1.RotationService=", rotation_->address(),
                      ";shidang.mentorship.v1.MentorshipService=", mentorship_->address(),
                      ";shidang.account.v1.AccountService=", account_->address());
}

std::vector<std::string> Platform::GatewayArgs(const std::string& backends,
                                               const std::vector<std::string>& extra) const {
  static int started = 0;
  const std::string http_port_file = absl::StrCat(dir_.path(), "/gateway-", ++started, ".http");
  std::vector<std::string> args = {
      "--principal_key_file=" + principal_key_path_,
      std::string("--descriptor_set=") + SHIDANG_DESCRIPTOR_SET,
      "--jwt_keys_file=" + jwt_keys_path_,
      std::string("--jwt_issuer=") + kIssuer,
      std::string("--jwt_audience=") + kAudience,
      "--backends=" + backends,
      "--health_interval_ms=100",
      "--shutdown_grace_ms=500",
      "--http_port=0",
      "--http_port_file=" + http_port_file,
  };
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

absl::StatusOr<Gateway> Platform::StartGateway(const std::string& backends,
                                               const std::vector<std::string>& extra) const {
  return StartGatewayWith(GatewayArgs(backends, extra));
}

absl::StatusOr<Gateway> Platform::StartGatewayWith(const std::vector<std::string>& args) const {
  const std::string http_port_file = FlagValue(args, "http_port_file");
  auto process = ServiceProcess::Start(SHIDANG_GATEWAY, args);
  if (!process.ok()) return Failed("shidang-gateway", process.status());
  Gateway gateway;
  gateway.process = *std::move(process);
  // The gRPC port file is written when the gRPC front listens; the HTTP one may follow.
  std::string text;
  if (!Eventually([&] {
        text = testing::ReadFile(http_port_file);
        return absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &gateway.http_port) &&
               gateway.http_port > 0;
      })) {
    return absl::FailedPreconditionError(
        absl::StrCat("shidang-gateway wrote no HTTP port: ", gateway.process->StderrText()));
  }
  return gateway;
}

absl::StatusOr<std::unique_ptr<ServiceProcess>> Platform::StartExtraTraining() const {
  return ServiceProcess::Start(
      SHIDANG_TRAINING_BINARY,
      {"--redis=" + redis_.address(), "--principal_key_file=" + principal_key_path_,
       std::string("--today=") + kToday, "--consume_profile=false"});
}

std::string Platform::Token(const Principal& claims, absl::Duration ttl, absl::Time now) const {
  auto token = MintJwt(jwt_key_, claims, kIssuer, kAudience, ttl, now);
  EXPECT_TRUE(token.ok()) << token.status();
  return token.value_or("");
}

std::string Platform::Logs() const {
  return absl::StrCat(
      "--- shidang-gateway ---\n", gateway_.process->StderrText(), "--- shidang-profile ---\n",
      profile_->StderrText(), "--- shidang-training ---\n", training_->StderrText(),
      "--- shidang-rotation ---\n", rotation_->StderrText(), "--- shidang-mentorship ---\n",
      mentorship_->StderrText(), "--- shidang-account ---\n", account_->StderrText());
}

// ---- Test data.

std::string IdCard(const std::string& county, const std::string& birth_yyyymmdd, bool male,
                   int serial) {
  std::string first17 =
      absl::StrCat(county, birth_yyyymmdd, absl::StrFormat("%02d", serial % 100), male ? "1" : "2");
  return first17 + profile::IdCardCheckCharacter(first17);
}

std::string SchoolsCsv(const std::vector<RosterSchool>& schools) {
  std::string csv = "学校代码,学校名称,学段,办学性质,城乡分类,办学质量,学校类型,义务教育\n";
  for (const RosterSchool& s : schools) {
    absl::StrAppend(&csv, s.code, ",", s.name, ",小学,公办,", s.location, ",普通,普通学校,是\n");
  }
  return csv;
}

std::string TeachersCsv(const std::string& county, const std::vector<RosterTeacher>& teachers) {
  std::string csv =
      "教师编号,姓名,性别,出生日期,身份证号,参加工作时间,学校,调入本校时间,学段,任教学科,"
      "是否在编,任职状态,职称,职称取得时间\n";
  int serial = 0;
  for (const RosterTeacher& t : teachers) {
    std::string birth = t.birth;
    birth.erase(std::remove(birth.begin(), birth.end(), '-'), birth.end());
    const std::string joined = std::max(t.hire, std::string("2015-09-01"));
    absl::StrAppend(&csv, t.national_id, ",", t.name, ",", t.male ? "男" : "女", ",", t.birth, ",",
                    IdCard(county, birth, t.male, ++serial), ",", t.hire, ",", t.school_code, ",",
                    joined, ",小学,数学、科学,是,在岗,", t.title, ",", t.title_on, "\n");
  }
  return csv;
}

std::unique_ptr<Platform>* PlatformTest::platform_ = nullptr;
std::string* PlatformTest::start_error_ = nullptr;

void PlatformTest::SetUpTestSuite() {
  auto started = Platform::Start();
  if (started.ok()) {
    platform_ = new std::unique_ptr<Platform>(*std::move(started));
  } else {
    start_error_ = new std::string(started.status().ToString());
  }
}

void PlatformTest::TearDownTestSuite() {
  delete platform_;
  platform_ = nullptr;
  delete start_error_;
  start_error_ = nullptr;
}

void PlatformTest::SetUp() {
  ASSERT_NE(platform_, nullptr) << "the platform did not start: "
                                << (start_error_ != nullptr ? *start_error_ : "");
}

void PlatformTest::TearDown() {
  if (HasFailure() && platform_ != nullptr) {
    std::fprintf(stderr, "%s\n", platform().Logs().c_str());
  }
}

bool Eventually(const std::function<bool()>& check, absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (true) {
    if (check()) return true;
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(50));
  }
}

}  // namespace shidang::e2e

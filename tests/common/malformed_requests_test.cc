// Every write RPC of every service (a method whose request has a request_id; every method of the
// account service, whose writes have none), sent many requests with one field made malformed at
// random: an enum number outside the enum, a string past its
// kind's limit, a control, BOM or bidi character, or bytes that are not UTF-8. Each is refused
// INVALID_ARGUMENT naming that field, and the refusal leaves Redis as it was: the same keys, each
// with the same DUMP (not only the same DBSIZE).
//
// The requests go over gRPC as raw bytes (a generic stub), so invalid UTF-8 reaches the server
// as a client other than ours would send it.

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/common/principal.h"
#include "services/common/request_check.h"
#include "shidang/account/v1/account.grpc.pb.h"
#include "shidang/mentorship/v1/mentorship.grpc.pb.h"
#include "shidang/profile/v1/profile.grpc.pb.h"
#include "shidang/rotation/v1/rotation.grpc.pb.h"
#include "shidang/training/v1/training.grpc.pb.h"
#include "tests/kit/redis_server.h"
#include "tests/kit/redis_snapshot.h"
#include "tests/kit/service_process.h"

namespace shidang {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MethodDescriptor;
using testing::Snapshot;

const std::string kPrincipalKey(40, 'k');
// Stands in for a string value in the serialized request, then is overwritten byte for byte
// with bytes that are not UTF-8 (the generated serializer would refuse to write them).
const std::string kUtf8Marker = "@@not-utf8-marker@@";

struct ServiceUnderTest {
  std::string name;
  std::string binary;
  std::string service;  // full name in the descriptor pool
  // Every method, not only those with a request_id: the account service's writes (sign-in,
  // passwords, accounts) have none.
  bool every_method = false;
};

std::ostream& operator<<(std::ostream& out, const ServiceUnderTest& s) { return out << s.name; }

// A malformed request and what the refusal must name.
struct Malformed {
  std::string bytes;
  std::string field;  // path, e.g. "teacher.national_teacher_id"
  std::string what;   // for the failure message
};

class RequestMaker {
 public:
  explicit RequestMaker(uint32_t seed) : random_(seed) {}

  // A request of `type` with a request id and one field (picked at random, at most two messages
  // deep) made malformed.
  Malformed Make(const Descriptor& type) {
    std::unique_ptr<Message> request(factory_.GetPrototype(&type)->New());
    if (const FieldDescriptor* request_id = type.FindFieldByName("request_id")) {
      request->GetReflection()->SetString(request.get(), request_id,
                                          absl::StrCat("rq-", random_()));
    }
    std::vector<std::vector<const FieldDescriptor*>> paths;
    CollectPaths(type, {}, &paths);
    Malformed out;
    if (paths.empty()) return out;
    const std::vector<const FieldDescriptor*>& path = paths[Pick(paths.size())];
    Message* holder = request.get();
    for (size_t i = 0; i + 1 < path.size(); ++i) {
      const FieldDescriptor* step = path[i];
      absl::StrAppend(&out.field, step->name(), step->is_repeated() ? "[0]" : "", ".");
      holder = step->is_repeated() ? holder->GetReflection()->AddMessage(holder, step)
                                   : holder->GetReflection()->MutableMessage(holder, step);
    }
    const FieldDescriptor* victim = path.back();
    absl::StrAppend(&out.field, victim->name(), victim->is_repeated() ? "[0]" : "");
    bool not_utf8 = false;
    if (victim->cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
      const int value = BadEnumNumber(*victim->enum_type());
      out.what = absl::StrCat("enum number ", value);
      if (victim->is_repeated()) {
        holder->GetReflection()->AddEnumValue(holder, victim, value);
      } else {
        holder->GetReflection()->SetEnumValue(holder, victim, value);
      }
    } else {
      std::string value = BadText(*victim, &out.what, &not_utf8);
      if (victim->is_repeated()) {
        holder->GetReflection()->AddString(holder, victim, std::move(value));
      } else {
        holder->GetReflection()->SetString(holder, victim, std::move(value));
      }
    }
    out.bytes = request->SerializeAsString();
    if (not_utf8) {
      const size_t at = out.bytes.find(kUtf8Marker);
      out.bytes.replace(at, kUtf8Marker.size(), NotUtf8(kUtf8Marker.size()));
    }
    return out;
  }

 private:
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random_); }

  // Paths to every enum and string field (not request_id), through message fields two deep.
  void CollectPaths(const Descriptor& type, const std::vector<const FieldDescriptor*>& prefix,
                    std::vector<std::vector<const FieldDescriptor*>>* paths) {
    for (int i = 0; i < type.field_count(); ++i) {
      const FieldDescriptor* field = type.field(i);
      std::vector<const FieldDescriptor*> path = prefix;
      path.push_back(field);
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        if (prefix.size() < 2 && !field->is_map() &&
            field->message_type()->file()->package().rfind("google.protobuf", 0) != 0) {
          CollectPaths(*field->message_type(), path, paths);
        }
      } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_ENUM ||
                 (field->type() == FieldDescriptor::TYPE_STRING &&
                  !(prefix.empty() && field->name() == "request_id"))) {
        paths->push_back(path);
      }
    }
  }

  int BadEnumNumber(const google::protobuf::EnumDescriptor& type) {
    const int candidates[] = {100001, -1, type.value_count() + 7,
                              std::uniform_int_distribution<int>(1000, 1 << 30)(random_)};
    for (int value : candidates) {
      if (type.FindValueByNumber(value) == nullptr && Pick(3) != 0) return value;
    }
    return -1 - static_cast<int>(Pick(1000));
  }

  std::string BadText(const FieldDescriptor& field, std::string* what, bool* not_utf8) {
    const TextKind kind = TextKindOf(field);
    switch (Pick(4)) {
      case 0: {
        const size_t limit = kind == TextKind::kId      ? kMaxIdBytes
                             : kind == TextKind::kToken ? kMaxTokenBytes
                             : kind == TextKind::kLine  ? kMaxLineChars
                                                        : kMaxMultiLineChars;
        // Past the limit by one, or by far (up to 1 MB); a character of 3 bytes counts once.
        const size_t count = Pick(2) == 0 ? limit + 1 : limit + 1 + Pick(1 << 20);
        *what = absl::StrCat(count, " characters");
        std::string text;
        const bool chinese = kind != TextKind::kId && kind != TextKind::kToken && Pick(2) == 0;
        for (size_t i = 0; i < count; ++i) text += chinese ? "师" : "7";
        return text;
      }
      case 1: {
        // Controls refused in every kind (LF and TAB pass in multi-line text).
        static const char32_t kControls[] = {0x00, 0x0D, 0x01, 0x07, 0x1B, 0x1F, 0x7F, 0x85};
        return Around(kControls[Pick(sizeof(kControls) / sizeof(kControls[0]))], what);
      }
      case 2: {
        static const char32_t kInvisible[] = {0xFEFF, 0x202A, 0x202B, 0x202C, 0x202D,
                                              0x202E, 0x2066, 0x2067, 0x2068, 0x2069};
        return Around(kInvisible[Pick(sizeof(kInvisible) / sizeof(kInvisible[0]))], what);
      }
      default:
        *what = "bytes that are not UTF-8";
        *not_utf8 = true;
        return kUtf8Marker;
    }
  }

  static std::string Utf8(char32_t c) {
    std::string out;
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
    return out;
  }

  std::string Around(char32_t c, std::string* what) {
    *what = absl::StrCat("U+", absl::Hex(static_cast<uint32_t>(c)));
    return absl::StrCat("330", Utf8(c), "723");
  }

  std::string NotUtf8(size_t size) {
    // A lone continuation byte, a truncated sequence, an overlong form, a surrogate, 0xFF.
    static const char* kBad[] = {"\x80", "\xE5\xB8", "\xC0\xAF", "\xED\xA0\x80", "\xFF"};
    std::string out = kBad[Pick(5)];
    while (out.size() < size) out.insert(out.begin(), 'a');
    return out;
  }

  std::mt19937 random_;
  google::protobuf::DynamicMessageFactory factory_;
};

class MalformedRequestsTest : public ::testing::TestWithParam<ServiceUnderTest> {
 protected:
  void SetUp() override {
    std::ofstream(keys_.path() + "/principal.key", std::ios::binary) << kPrincipalKey;
    std::ofstream(keys_.path() + "/data.key", std::ios::binary) << std::string(48, 'd');
    std::vector<std::string> args = {"--redis=" + redis_.address(),
                                     "--principal_key_file=" + keys_.path() + "/principal.key",
                                     "--today=2025-10-15"};
    if (GetParam().name == "profile")
      args.push_back("--data_key_file=" + keys_.path() + "/data.key");
    if (GetParam().name == "account") {
      std::ofstream(keys_.path() + "/jwt.keys") << "k1 " << std::string(64, 'a') << "\n";
      args.push_back("--jwt_keys_file=" + keys_.path() + "/jwt.keys");
    }
    auto process = testing::ServiceProcess::Start(GetParam().binary, args);
    ASSERT_TRUE(process.ok()) << process.status();
    process_ = std::move(*process);
    channel_ = grpc::CreateChannel(process_->address(), grpc::InsecureChannelCredentials());
  }

  grpc::Status Send(const MethodDescriptor& method, const std::string& bytes) {
    grpc::GenericStub stub(channel_);
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    common::v1::Principal admin;
    admin.set_role(common::v1::ROLE_ADMIN);
    admin.set_subject("ops");
    signer_.Attach(&context, admin);
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::Status status;
    absl::Notification done;
    stub.UnaryCall(&context, absl::StrCat("/", method.service()->full_name(), "/", method.name()),
                   grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    return status;
  }

  testing::TempDir keys_;
  testing::RedisServer redis_;
  std::unique_ptr<testing::ServiceProcess> process_;
  std::shared_ptr<grpc::Channel> channel_;
  PrincipalSigner signer_{kPrincipalKey};
};

TEST_P(MalformedRequestsTest, EveryWriteRefusesAMalformedFieldAndWritesNothing) {
  // Referenced so that the linker keeps the generated files, which register the services.
  ASSERT_NE(profile::v1::CreateTeacherRequest::descriptor(), nullptr);
  ASSERT_NE(training::v1::EnrollRequest::descriptor(), nullptr);
  ASSERT_NE(rotation::v1::CreateRotationRequest::descriptor(), nullptr);
  ASSERT_NE(mentorship::v1::CreatePairingsRequest::descriptor(), nullptr);
  ASSERT_NE(account::v1::SignInRequest::descriptor(), nullptr);
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(GetParam().service);
  ASSERT_NE(service, nullptr);
  const std::map<std::string, std::string> before = Snapshot(redis_.pool());
  RequestMaker maker(20261206);
  int writes = 0;
  for (int m = 0; m < service->method_count(); ++m) {
    const MethodDescriptor& method = *service->method(m);
    if (!GetParam().every_method && method.input_type()->FindFieldByName("request_id") == nullptr) {
      continue;
    }
    ++writes;
    for (int i = 0; i < 25; ++i) {
      const Malformed bad = maker.Make(*method.input_type());
      if (bad.field.empty()) break;  // nothing but request_id to spoil
      SCOPED_TRACE(absl::StrCat(method.name(), ": ", bad.field, " = ", bad.what));
      const grpc::Status status = Send(method, bad.bytes);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
      EXPECT_TRUE(absl::StrContains(status.error_message(), bad.field + ":"))
          << status.error_message();
    }
    ASSERT_EQ(Snapshot(redis_.pool()), before) << "after " << method.name();
  }
  EXPECT_GT(writes, 2);
}

INSTANTIATE_TEST_SUITE_P(
    Services, MalformedRequestsTest,
    ::testing::Values(ServiceUnderTest{"profile", SHIDANG_PROFILE_BINARY,
                                       "shidang.profile.v1.ProfileService"},
                      ServiceUnderTest{"training", SHIDANG_TRAINING_BINARY,
                                       "shidang.training.v1.TrainingService"},
                      ServiceUnderTest{"rotation", SHIDANG_ROTATION_BINARY,
                                       "shidang.rotation.v1.RotationService"},
                      ServiceUnderTest{"mentorship", SHIDANG_MENTORSHIP_BINARY,
                                       "shidang.mentorship.v1.MentorshipService"},
                      ServiceUnderTest{"account", SHIDANG_ACCOUNT_BINARY,
                                       "shidang.account.v1.AccountService", true}),
    [](const ::testing::TestParamInfo<ServiceUnderTest>& info) { return info.param.name; });

}  // namespace
}  // namespace shidang

// shidang-echo-server: a test service on the real bootstrap, wired exactly as a service's main.cc
// is, so tests can check as a process what every service inherits (principal checks, status
// details, health, reflection, logging, graceful shutdown).

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "kit/testing.grpc.pb.h"  // generated from tests/kit/testing.proto
#include "services/common/log.h"
#include "services/common/principal.h"
#include "services/common/server.h"
#include "services/common/service_flags.h"
#include "services/common/service_main.h"
#include "services/common/status.h"

namespace shidang::testing {
namespace {

class EchoService final : public v1::EchoService::Service {
 public:
  EchoService(const PrincipalSigner& signer, std::string today)
      : signer_(signer), today_(std::move(today)) {}

  grpc::Status Echo(grpc::ServerContext* context, const v1::EchoRequest* request,
                    v1::EchoResponse* response) override {
    return HandleCall(context, "shidang.testing.v1.EchoService/Echo", signer_,
                      [&](const CallContext& call) -> absl::Status {
                        if (request->sleep_ms() < 0 || request->sleep_ms() > 60000) {
                          return InvalidField("sleep_ms", "range", "must be 0..60000");
                        }
                        std::this_thread::sleep_for(std::chrono::milliseconds(request->sleep_ms()));
                        response->set_text(request->text());
                        response->set_actor(call.actor);
                        response->set_request_id(call.request_id);
                        response->set_today(today_);
                        return absl::OkStatus();
                      });
  }

  grpc::Status Fail(grpc::ServerContext* context, const v1::FailRequest* request,
                    v1::FailResponse*) override {
    return HandleCall(context, "shidang.testing.v1.EchoService/Fail", signer_,
                      [&](const CallContext&) -> absl::Status {
                        return InvalidField(request->field(), "always",
                                            "is never accepted by this test method");
                      });
  }

 private:
  const PrincipalSigner& signer_;
  const std::string today_;
};

}  // namespace
}  // namespace shidang::testing

int main(int argc, char** argv) {
  shidang::InitServerProcess(argc, argv);
  shidang::ServiceConfig config = shidang::ServiceConfigFromFlags();
  config.redis_required = false;  // it keeps no data
  return shidang::RunService(
      config, [](const shidang::ServiceKit& kit) -> absl::StatusOr<shidang::ServiceParts> {
        shidang::ServiceParts parts;
        parts.services.push_back(
            std::make_unique<shidang::testing::EchoService>(kit.signer, kit.server.today));
        return parts;
      });
}

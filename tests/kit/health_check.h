#pragma once

// Test kit: grpc.health.v1.Health/Check as the gateway (or a load balancer) calls it, through a
// generic stub with the test service's copy of the health messages (tests/kit/testing.proto).
// Header only, for the tests that link shidang_testing_protos.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "kit/testing.grpc.pb.h"  // generated from tests/kit/testing.proto

namespace shidang::testing {

using ServingStatus = v1::HealthCheckResponse::ServingStatus;

// The answer to one Check call.
struct HealthAnswer {
  grpc::Status status;
  v1::HealthCheckResponse response;
};

// Asks `channel` for the health of `service` ("" for the whole server), with a deadline of
// `timeout` from now (none when it is infinite).
inline HealthAnswer CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                const std::string& service,
                                absl::Duration timeout = absl::Seconds(2)) {
  grpc::TemplatedGenericStub<v1::HealthCheckRequest, v1::HealthCheckResponse> health(channel);
  grpc::ClientContext context;
  if (timeout != absl::InfiniteDuration()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  }
  v1::HealthCheckRequest request;
  request.set_service(service);
  HealthAnswer answer;
  absl::Notification done;
  health.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                   &answer.response, [&](grpc::Status s) {
                     answer.status = std::move(s);
                     done.Notify();
                   });
  done.WaitForNotification();
  return answer;
}

// The serving status of `service`, or UNKNOWN when the call fails (2 s deadline).
inline ServingStatus HealthOf(const std::shared_ptr<grpc::Channel>& channel,
                              const std::string& service) {
  const HealthAnswer answer = CheckHealth(channel, service);
  return answer.status.ok() ? answer.response.status() : v1::HealthCheckResponse::UNKNOWN;
}

// Polls every 50 ms until the health of `service` is `want` (true, with how long that took in
// *took when given) or `timeout` passes (false).
inline bool AwaitHealth(const std::shared_ptr<grpc::Channel>& channel, const std::string& service,
                        ServingStatus want, absl::Duration timeout,
                        absl::Duration* took = nullptr) {
  const absl::Time start = absl::Now();
  while (absl::Now() - start < timeout) {
    if (HealthOf(channel, service) == want) {
      if (took != nullptr) *took = absl::Now() - start;
      return true;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

}  // namespace shidang::testing

#pragma once

// Test kit: one grpc.reflection.v1alpha ServerReflectionInfo exchange, made with the
// wire-compatible copies of the reflection messages in kit/testing.proto (Debian ships no generated
// reflection stub).

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <memory>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "kit/testing.pb.h"

namespace shidang::testing {

// One ServerReflectionInfo exchange: one request, every response until the server closes.
class ReflectionCall
    : public grpc::ClientBidiReactor<v1::ReflectionRequest, v1::ReflectionResponse> {
 public:
  ReflectionCall(std::shared_ptr<grpc::Channel> channel, v1::ReflectionRequest request)
      : stub_(std::move(channel)), request_(std::move(request)) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    stub_.PrepareBidiStreamingCall(&context_,
                                   "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                   grpc::StubOptions(), this);
    StartWrite(&request_);
    StartRead(&response_);
    StartCall();
  }
  void OnWriteDone(bool) override { StartWritesDone(); }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    responses_.push_back(response_);
    StartRead(&response_);
  }
  void OnDone(const grpc::Status& status) override {
    status_ = status;
    done_.Notify();
  }
  grpc::Status Await() {
    done_.WaitForNotification();
    return status_;
  }
  const std::vector<v1::ReflectionResponse>& responses() const { return responses_; }

 private:
  grpc::TemplatedGenericStub<v1::ReflectionRequest, v1::ReflectionResponse> stub_;
  grpc::ClientContext context_;
  v1::ReflectionRequest request_;
  v1::ReflectionResponse response_;
  std::vector<v1::ReflectionResponse> responses_;
  grpc::Status status_;
  absl::Notification done_;
};

}  // namespace shidang::testing

#include "gateway/local_service.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace shidang::gateway {
namespace {

// Answers UNIMPLEMENTED at once, reading nothing.
class Unimplemented : public grpc::ServerGenericBidiReactor {
 public:
  explicit Unimplemented(const std::string& path) {
    Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        absl::StrCat("method ", path, " is not served here")));
  }
  void OnDone() override { delete this; }
};

}  // namespace

void LocalService::ServeLocally(std::string path,
                                std::function<grpc::ServerGenericBidiReactor*()> factory) {
  local_.insert_or_assign(std::move(path), std::move(factory));
}

grpc::ServerGenericBidiReactor* LocalService::CreateReactor(
    grpc::GenericCallbackServerContext* context) {
  auto it = local_.find(context->method());
  if (it != local_.end()) return it->second();
  return new Unimplemented(context->method());
}

}  // namespace shidang::gateway

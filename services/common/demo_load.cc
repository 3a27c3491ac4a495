#include "services/common/demo_load.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "services/common/clock.h"
#include "services/common/digest.h"

namespace shidang::demo {

int RunLoader(absl::string_view program, const std::string& principal_key_file,
              const std::string& today,
              const std::function<int(PrincipalSigner, absl::CivilDay)>& load) {
  const std::string name(program);
  absl::StatusOr<PrincipalSigner> signer = PrincipalSigner::FromKeyFile(principal_key_file);
  if (!signer.ok()) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), signer.status().ToString().c_str());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<Clock>> clock = ClockFromFlagValue(today);
  if (!clock.ok()) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), clock.status().ToString().c_str());
    return 2;
  }
  return load(*std::move(signer), (*clock)->Today());
}

void Sign(grpc::ClientContext* context, const PrincipalSigner& signer,
          const common::v1::Principal& principal) {
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  signer.Attach(context, principal);
}

double Draw(absl::string_view seed) {
  const std::string digest = Sha256(seed);
  uint32_t bits = 0;
  for (int i = 0; i < 4; ++i) bits = (bits << 8) | static_cast<unsigned char>(digest[i]);
  return bits / 4294967296.0;
}

int FailedCall(absl::string_view program, absl::string_view what, const grpc::Status& status) {
  std::fprintf(stderr, "%s: %s: %s\n", std::string(program).c_str(), std::string(what).c_str(),
               status.error_message().c_str());
  return 1;
}

}  // namespace shidang::demo

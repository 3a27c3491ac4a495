#pragma once

// What the demo loaders (shidang-demo-load and each service's shidang-<service>-demo-load) share:
// how they start (the principal key and "today" from their flags), how they sign a call, and how
// they say a call failed. Each loader keeps its own flags (flags belong to each main).
//
//   int main(int argc, char** argv) {
//     absl::ParseCommandLine(argc, argv);
//     return shidang::demo::RunLoader(
//         "shidang-my-demo-load", absl::GetFlag(FLAGS_principal_key_file),
//         absl::GetFlag(FLAGS_today),
//         [](shidang::PrincipalSigner signer, absl::CivilDay today) {
//           return MyLoader(std::move(signer), today).Run();
//         });
//   }

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/common/principal.h"
#include "shidang/common/v1/principal.pb.h"

namespace shidang::demo {

// Reads the key in `principal_key_file` and the day `today` names (YYYY-MM-DD; empty: today in
// Asia/Shanghai), then returns `load(signer, day)`. When either is refused it prints
// "<program>: <status>" to stderr and returns 2 without calling `load`.
int RunLoader(absl::string_view program, const std::string& principal_key_file,
              const std::string& today,
              const std::function<int(PrincipalSigner, absl::CivilDay)>& load);

// Gives `context` the demo's deadline (120 s: a demo county's import is the slowest call) and
// `principal`, signed by `signer`.
void Sign(grpc::ClientContext* context, const PrincipalSigner& signer,
          const common::v1::Principal& principal);

// A number in [0, 1) fixed by `seed` (from its SHA-256): the same teacher makes the same choices
// on every run of a loader.
double Draw(absl::string_view seed);

// Prints "<program>: <what>: <the status's message>" to stderr and returns 1, a loader's exit
// code for a call that failed.
int FailedCall(absl::string_view program, absl::string_view what, const grpc::Status& status);

}  // namespace shidang::demo

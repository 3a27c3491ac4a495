// shidang-training: the training service (360 学时 per 5-year cycle). Flags and wiring only.

#include <memory>

#include "absl/flags/flag.h"
#include "services/common/service_flags.h"
#include "services/common/service_main.h"
#include "services/training/service.h"

ABSL_FLAG(bool, consume_profile, true,
          "Keep the local copy of teachers' facts from the profile service's event streams "
          "(consumer group \"training\" on profile:streams).");

namespace shidang::training {
namespace {

absl::StatusOr<ServiceParts> Wire(const ServiceKit& kit) {
  return FollowingProfile(std::make_unique<TrainingServiceImpl>(*kit.pool, kit.signer, kit.clock),
                          "training", absl::GetFlag(FLAGS_consume_profile));
}

}  // namespace
}  // namespace shidang::training

int main(int argc, char** argv) {
  return shidang::ServiceMain(
      argc, argv,
      "shidang-training: the training service (360 h / 5 years); --helpfull lists its flags",
      shidang::training::Wire);
}

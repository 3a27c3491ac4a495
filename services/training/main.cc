// shidang-training: the training service (360 学时 per 5-year cycle). Flags and wiring only.

#include <memory>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "services/common/service_flags.h"
#include "services/common/service_main.h"
#include "services/training/service.h"

ABSL_FLAG(bool, consume_profile, true,
          "Keep the local copy of teachers' facts from the profile service's event streams "
          "(consumer group \"training\" on profile:streams).");

namespace shidang::training {
namespace {

absl::StatusOr<ServiceParts> Wire(const ServiceKit& kit) {
  auto service = std::make_unique<TrainingServiceImpl>(*kit.pool, kit.signer, kit.clock);
  ServiceParts parts;
  if (absl::GetFlag(FLAGS_consume_profile)) {
    EventSubscription teachers;
    teachers.options.group = "training";
    teachers.sources = {"profile"};
    teachers.apply = [s = service.get()](const common::v1::Event& event, absl::string_view) {
      return s->ApplyProfileEvent(event);
    };
    parts.subscriptions.push_back(std::move(teachers));
  }
  parts.services.push_back(std::move(service));
  return parts;
}

}  // namespace
}  // namespace shidang::training

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "shidang-training: the training service (360 h / 5 years); --helpfull lists its flags");
  shidang::InitServerProcess(argc, argv);
  return shidang::RunService(shidang::ServiceConfigFromFlags(), shidang::training::Wire);
}

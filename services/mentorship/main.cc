// shidang-mentorship: the mentorship service (师徒结对, 双导师, 城乡结对). Flags and wiring only.

#include <memory>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/usage.h"
#include "services/common/service_flags.h"
#include "services/common/service_main.h"
#include "services/mentorship/service.h"

ABSL_FLAG(bool, consume_profile, true,
          "Keep the copy of teachers and schools from the profile service's event streams "
          "(consumer group \"mentorship\" on profile:streams).");

namespace shidang::mentorship {
namespace {

absl::StatusOr<ServiceParts> Wire(const ServiceKit& kit) {
  auto service = std::make_unique<MentorshipServiceImpl>(*kit.pool, kit.signer, kit.clock);
  ServiceParts parts;
  if (absl::GetFlag(FLAGS_consume_profile)) {
    EventSubscription teachers;
    teachers.options.group = "mentorship";
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
}  // namespace shidang::mentorship

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "shidang-mentorship: the mentorship service (双导师 pairings); --helpfull lists its flags");
  shidang::InitServerProcess(argc, argv);
  return shidang::RunService(shidang::ServiceConfigFromFlags(), shidang::mentorship::Wire);
}

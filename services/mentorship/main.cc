// shidang-mentorship: the mentorship service (师徒结对, 双导师, 城乡结对). Flags and wiring only.

#include <memory>

#include "absl/flags/flag.h"
#include "services/common/service_flags.h"
#include "services/common/service_main.h"
#include "services/mentorship/service.h"

ABSL_FLAG(bool, consume_profile, true,
          "Keep the copy of teachers and schools from the profile service's event streams "
          "(consumer group \"mentorship\" on profile:streams).");

namespace shidang::mentorship {
namespace {

absl::StatusOr<ServiceParts> Wire(const ServiceKit& kit) {
  return FollowingProfile(std::make_unique<MentorshipServiceImpl>(*kit.pool, kit.signer, kit.clock),
                          "mentorship", absl::GetFlag(FLAGS_consume_profile));
}

}  // namespace
}  // namespace shidang::mentorship

int main(int argc, char** argv) {
  return shidang::ServiceMain(
      argc, argv,
      "shidang-mentorship: the mentorship service (双导师 pairings); --helpfull lists its flags",
      shidang::mentorship::Wire);
}

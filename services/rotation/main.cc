// shidang-rotation: the rotation service (交流轮岗, the 10% quota). Flags and wiring only.

#include <memory>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "grpcpp/grpcpp.h"
#include "services/common/service_flags.h"
#include "services/common/service_main.h"
#include "services/rotation/profile_client.h"
#include "services/rotation/service.h"

ABSL_FLAG(bool, consume_profile, true,
          "Keep the copy of teachers and schools from the profile service's event streams "
          "(consumer group \"rotation\" on profile:streams).");
ABSL_FLAG(std::string, profile, "",
          "host:port of the profile service, which moves a teacher when a rotation that moves the "
          "personnel relation starts; empty: such rotations cannot start.");

namespace shidang::rotation {
namespace {

absl::StatusOr<ServiceParts> Wire(const ServiceKit& kit) {
  ProfileMover mover;
  const std::string profile_address = absl::GetFlag(FLAGS_profile);
  if (!profile_address.empty()) {
    // One channel for the process, made here and shared by every call (STYLE: stubs made once).
    std::shared_ptr<profile::v1::ProfileService::StubInterface> stub =
        profile::v1::ProfileService::NewStub(
            grpc::CreateChannel(profile_address, grpc::InsecureChannelCredentials()));
    mover = MoverOverGrpc(std::move(stub), kit.signer);
  }
  auto service =
      std::make_unique<RotationServiceImpl>(*kit.pool, kit.signer, kit.clock, std::move(mover));
  return FollowingProfile(std::move(service), "rotation", absl::GetFlag(FLAGS_consume_profile));
}

}  // namespace
}  // namespace shidang::rotation

int main(int argc, char** argv) {
  return shidang::ServiceMain(
      argc, argv,
      "shidang-rotation: the rotation service (the 10% quota); --helpfull lists its flags",
      shidang::rotation::Wire);
}

// shidang-rotation: the rotation service (交流轮岗, the 10% quota). Flags and wiring only.

#include <unistd.h>

#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "services/common/clock.h"
#include "services/common/events.h"
#include "services/common/log.h"
#include "services/common/server.h"
#include "services/rotation/profile_client.h"
#include "services/rotation/service.h"

ABSL_FLAG(bool, consume_profile, true,
          "Keep the copy of teachers and schools from the profile service's event streams "
          "(consumer group \"rotation\" on profile:streams).");
ABSL_FLAG(std::string, profile, "",
          "host:port of the profile service, which moves a teacher when a rotation that moves the "
          "personnel relation starts; empty: such rotations cannot start.");

int main(int argc, char** argv) {
  shidang::InitServerProcess(argc, argv);
  absl::StatusOr<shidang::ServerConfig> config = shidang::ServerConfigFromFlags();
  if (!config.ok()) {
    shidang::LogError(config.status().ToString());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<shidang::Clock>> clock =
      shidang::ClockFromFlagValue(config->today);
  if (!clock.ok()) {
    shidang::LogError(clock.status().ToString());
    return 2;
  }
  shidang::redis::Pool pool(*config->redis);
  shidang::rotation::ProfileMover mover;
  const std::string profile_address = absl::GetFlag(FLAGS_profile);
  if (!profile_address.empty()) {
    std::shared_ptr<shidang::profile::v1::ProfileService::StubInterface> stub =
        shidang::profile::v1::ProfileService::NewStub(
            grpc::CreateChannel(profile_address, grpc::InsecureChannelCredentials()));
    mover = shidang::rotation::MoverOverGrpc(std::move(stub), *config->principal_signer);
  }
  shidang::rotation::RotationServiceImpl service(pool, *config->principal_signer, **clock,
                                                 std::move(mover));

  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  shidang::EventConsumerOptions options;
  options.group = "rotation";
  options.consumer = absl::StrCat(host, "-", getpid());
  shidang::EventConsumer consumer(pool, options, shidang::StreamsFromIndex(pool, {"profile"}),
                                  [&](const shidang::common::v1::Event& event, absl::string_view) {
                                    return service.ApplyProfileEvent(event);
                                  });
  const bool consume = absl::GetFlag(FLAGS_consume_profile);
  if (consume) consumer.Start();

  shidang::ServiceServer server(*config);
  server.AddService(&service);
  absl::Status run = server.Run();
  if (consume) consumer.Stop();
  if (!run.ok()) {
    shidang::LogError(run.ToString());
    return 1;
  }
  return 0;
}

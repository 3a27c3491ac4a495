// shidang-training: the training service (360 学时 per 5-year cycle). Flags and wiring only.

#include <unistd.h>

#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/events.h"
#include "services/common/log.h"
#include "services/common/server.h"
#include "services/training/service.h"

ABSL_FLAG(bool, consume_profile, true,
          "Keep the local copy of teachers' facts from the profile service's event streams "
          "(consumer group \"training\" on profile:streams).");

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
  shidang::training::TrainingServiceImpl service(pool, *config->principal_signer, **clock);

  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  shidang::EventConsumerOptions options;
  options.group = "training";
  options.consumer = absl::StrCat(host, "-", getpid());
  shidang::EventConsumer consumer(
      pool, options, shidang::StreamsFromIndex(pool, {"profile"}),
      [&](const shidang::common::v1::Event& event, absl::string_view) {
        return service.ApplyProfileEvent(event);
      });
  bool consume = absl::GetFlag(FLAGS_consume_profile);
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

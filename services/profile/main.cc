// shidang-profile: the profile service (一师一档案). Flags and wiring only.

#include <unistd.h>

#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/clock.h"
#include "services/common/events.h"
#include "services/common/log.h"
#include "services/common/server.h"
#include "services/profile/id_card_vault.h"
#include "services/profile/service.h"

ABSL_FLAG(std::string, data_key_file, "",
          "File with at least 32 random bytes: the key ID-card numbers are sealed and indexed "
          "with. Required.");
ABSL_FLAG(std::string, consume, "training,rotation,mentorship",
          "Services whose event streams are filed into the growth file (comma-separated).");

int main(int argc, char** argv) {
  shidang::InitServerProcess(argc, argv);
  absl::StatusOr<shidang::ServerConfig> config = shidang::ServerConfigFromFlags();
  if (!config.ok()) {
    shidang::LogError(config.status().ToString());
    return 2;
  }
  absl::StatusOr<shidang::profile::IdCardVault> vault =
      shidang::profile::IdCardVault::FromKeyFile(absl::GetFlag(FLAGS_data_key_file));
  if (!vault.ok()) {
    shidang::LogError("--data_key_file: ", vault.status().ToString());
    return 2;
  }
  absl::StatusOr<std::unique_ptr<shidang::Clock>> clock =
      shidang::ClockFromFlagValue(config->today);
  if (!clock.ok()) {
    shidang::LogError(clock.status().ToString());
    return 2;
  }
  shidang::redis::Pool pool(*config->redis);
  shidang::profile::ProfileServiceImpl service(pool, *config->principal_signer, **clock, *vault);

  std::vector<std::string> sources = absl::StrSplit(absl::GetFlag(FLAGS_consume), ',',
                                                    absl::SkipWhitespace());
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  shidang::EventConsumerOptions options;
  options.group = "profile";
  options.consumer = absl::StrCat(host, "-", getpid());
  shidang::EventConsumer consumer(
      pool, options, shidang::StreamsFromIndex(pool, sources),
      [&](const shidang::common::v1::Event& event, absl::string_view) {
        return service.FileExternalEvent(event);
      });
  if (!sources.empty()) consumer.Start();

  shidang::ServiceServer server(*config);
  server.AddService(&service);
  absl::Status run = server.Run();
  consumer.Stop();
  if (!run.ok()) {
    shidang::LogError(run.ToString());
    return 1;
  }
  return 0;
}

// shidang-profile: the profile service (一师一档案). Flags and wiring only.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "services/common/service_flags.h"
#include "services/common/service_main.h"
#include "services/profile/id_card_owners.h"
#include "services/profile/id_card_vault.h"
#include "services/profile/service.h"
#include "services/profile/service_deps.h"

ABSL_FLAG(std::string, data_key_file, "",
          "File with at least 32 random bytes: the key ID-card numbers are sealed and indexed "
          "with. Required.");
ABSL_FLAG(absl::Duration, id_card_read_retention, shidang::profile::kIdCardReadRetention,
          "How long an unmasked ID-card read stays in the audit trail (e.g. 43848h, five years; "
          "older entries go as new ones are added and are never listed).");
ABSL_FLAG(std::string, consume, "training,rotation,mentorship",
          "Services whose event streams are filed into the growth file (comma-separated).");

namespace shidang::profile {
namespace {

absl::StatusOr<ServiceParts> Wire(const ServiceKit& kit) {
  absl::StatusOr<IdCardVault> vault = IdCardVault::FromKeyFile(absl::GetFlag(FLAGS_data_key_file));
  if (!vault.ok()) {
    return absl::Status(vault.status().code(),
                        absl::StrCat("--data_key_file: ", vault.status().message()));
  }
  ProfileOptions options;
  options.id_card_read_retention = absl::GetFlag(FLAGS_id_card_read_retention);
  if (options.id_card_read_retention <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--id_card_read_retention: must be more than zero");
  }
  auto sealed = std::make_shared<const IdCardVault>(*std::move(vault));
  // Numbers written before national claims existed get theirs before the first call is served.
  if (kit.pool == nullptr) return absl::FailedPreconditionError("--redis: required");
  if (absl::Status claimed = BackfillIdCardOwners(*kit.pool, *sealed); !claimed.ok()) {
    return absl::Status(claimed.code(),
                        absl::StrCat("claiming the ID-card numbers on file: ", claimed.message()));
  }
  auto service =
      std::make_unique<ProfileServiceImpl>(*kit.pool, kit.signer, kit.clock, *sealed, options);
  ServiceParts parts;
  parts.resources.push_back(sealed);
  EventSubscription growth_file;
  growth_file.options.group = "profile";
  std::vector<std::string> sources =
      absl::StrSplit(absl::GetFlag(FLAGS_consume), ',', absl::SkipWhitespace());
  growth_file.sources = std::move(sources);
  growth_file.apply = [s = service.get()](const common::v1::Event& event, absl::string_view) {
    return s->FileExternalEvent(event);
  };
  if (!growth_file.sources.empty()) parts.subscriptions.push_back(std::move(growth_file));
  parts.services.push_back(std::move(service));
  return parts;
}

}  // namespace
}  // namespace shidang::profile

int main(int argc, char** argv) {
  return shidang::ServiceMain(
      argc, argv, "shidang-profile: the profile service (一师一档案); --helpfull lists its flags",
      shidang::profile::Wire);
}

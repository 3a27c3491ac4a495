#include "services/profile/id_card_reads.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/profile/store.h"

namespace shidang::profile {
namespace {

std::string ReadsKey(absl::string_view county_id) {
  return absl::StrCat("profile:", ProfileStore::Tag(county_id), ":id_card_reads");
}

}  // namespace

absl::Status RecordIdCardReads(ServiceDeps& deps, const CallContext& call,
                               const std::vector<IdCardReadOf>& reads) {
  if (reads.empty()) return absl::OkStatus();
  // MINID ~ trims by age as entries are added: what is older than the retention goes.
  const std::string oldest = std::to_string(absl::ToUnixMillis(absl::Now() - kIdCardReadRetention));
  std::vector<redis::Args> commands;
  commands.reserve(reads.size());
  for (const IdCardReadOf& read : reads) {
    commands.push_back({"XADD", ReadsKey(read.county_id), "MINID", "~", oldest, "*", "r",
                        call.actor, "t", read.teacher_id, "q", call.request_id});
  }
  absl::StatusOr<std::vector<redis::Reply>> added = deps.pool.Pipeline(commands);
  absl::Status status = added.status();
  for (size_t i = 0; status.ok() && i < added->size(); ++i) status = (*added)[i].ToStatus();
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "the read of an unmasked ID-card number could not be recorded; retry: ", status.message()));
  }
  return absl::OkStatus();
}

}  // namespace shidang::profile

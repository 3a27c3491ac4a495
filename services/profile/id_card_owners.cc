#include "services/profile/id_card_owners.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/status.h"

namespace shidang::profile {
namespace {

using Outcome = IdCardOwnerReply::Outcome;

// Per teacher, whether the file in their home county holds the number of `blinds[i]`. A file
// that does not open with this key counts as holding it: a claim is never taken on a guess.
absl::StatusOr<std::vector<bool>> FilesHoldNumbers(ServiceDeps& deps,
                                                   const std::vector<std::string>& teachers,
                                                   const std::vector<std::string>& blinds) {
  SHIDANG_ASSIGN_OR_RETURN(std::vector<std::string> sealed,
                           deps.store.SealedIdCardsAtHome(teachers));
  std::vector<bool> holds(teachers.size(), false);
  for (size_t i = 0; i < teachers.size(); ++i) {
    if (sealed[i].empty()) continue;
    absl::StatusOr<std::string> number = deps.vault.Open(sealed[i]);
    holds[i] = !number.ok() || deps.vault.BlindIndex(*number) == blinds[i];
  }
  return holds;
}

// Per claim, whether another teacher's claim on its number is stale: older than the grace, and
// that teacher's file does not hold the number.
absl::StatusOr<std::vector<bool>> StaleClaims(ServiceDeps& deps,
                                              const std::vector<IdCardOwnerClaim>& claims,
                                              const std::vector<IdCardOwnerReply>& replies) {
  std::vector<size_t> old;
  std::vector<std::string> holders, blinds;
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].outcome != Outcome::kTaken || replies[i].age < kUnconfirmedClaimGrace) continue;
    old.push_back(i);
    holders.push_back(replies[i].holder);
    blinds.push_back(claims[i].blind_index);
  }
  std::vector<bool> stale(claims.size(), false);
  if (old.empty()) return stale;
  SHIDANG_ASSIGN_OR_RETURN(std::vector<bool> holds, FilesHoldNumbers(deps, holders, blinds));
  for (size_t k = 0; k < old.size(); ++k) stale[old[k]] = !holds[k];
  return stale;
}

}  // namespace

absl::Status NumberTakenElsewhere(absl::string_view field) {
  absl::Status status = absl::AlreadyExistsError(absl::StrCat(field, ": ", kNumberTakenElsewhere));
  AddFieldViolation(&status, field, "exists", kNumberTakenElsewhere);
  return status;
}

absl::StatusOr<std::vector<bool>> TakenByOthers(ServiceDeps& deps,
                                                const std::vector<IdCardOwnerClaim>& claims) {
  SHIDANG_ASSIGN_OR_RETURN(std::vector<IdCardOwnerReply> replies,
                           deps.store.ProbeIdCardOwners(claims));
  SHIDANG_ASSIGN_OR_RETURN(std::vector<bool> stale, StaleClaims(deps, claims, replies));
  std::vector<bool> taken(claims.size());
  for (size_t i = 0; i < claims.size(); ++i) {
    taken[i] = replies[i].outcome == Outcome::kTaken && !stale[i];
  }
  return taken;
}

absl::StatusOr<std::vector<bool>> ClaimIdCards(ServiceDeps& deps,
                                               const std::vector<IdCardOwnerClaim>& claims) {
  SHIDANG_ASSIGN_OR_RETURN(std::vector<IdCardOwnerReply> replies,
                           deps.store.ClaimIdCardOwners(claims));
  SHIDANG_ASSIGN_OR_RETURN(std::vector<bool> stale, StaleClaims(deps, claims, replies));
  std::vector<bool> refused(claims.size(), false);
  std::vector<IdCardOwnerClaim> repairs;
  std::vector<size_t> repair_of;
  for (size_t i = 0; i < claims.size(); ++i) {
    if (replies[i].outcome != Outcome::kTaken) continue;
    refused[i] = true;
    if (!stale[i]) continue;
    // Replaced only if it still names the stale holder: a concurrent repair wins once.
    repairs.push_back({claims[i].blind_index, claims[i].teacher_id, replies[i].holder});
    repair_of.push_back(i);
  }
  if (repairs.empty()) return refused;
  for (const IdCardOwnerClaim& repair : repairs) {
    LogWarning("id_card_owner repaired: a stale claim of teacher ", repair.replaces,
               " (no file holds its number) goes to teacher ", repair.teacher_id);
  }
  SHIDANG_ASSIGN_OR_RETURN(std::vector<IdCardOwnerReply> repaired,
                           deps.store.ClaimIdCardOwners(repairs));
  for (size_t k = 0; k < repairs.size(); ++k) {
    refused[repair_of[k]] = repaired[k].outcome == Outcome::kTaken;
  }
  return refused;
}

absl::Status ReleaseIdCardClaims(ServiceDeps& deps, const std::vector<IdCardOwnerClaim>& claims) {
  std::vector<std::string> teachers, blinds;
  for (const IdCardOwnerClaim& claim : claims) {
    teachers.push_back(claim.teacher_id);
    blinds.push_back(claim.blind_index);
  }
  SHIDANG_ASSIGN_OR_RETURN(std::vector<bool> holds, FilesHoldNumbers(deps, teachers, blinds));
  std::vector<IdCardOwnerClaim> released;
  for (size_t i = 0; i < claims.size(); ++i) {
    if (!holds[i]) released.push_back(claims[i]);
  }
  return deps.store.ReleaseIdCardOwners(released);
}

namespace {

// Claims the numbers of one county's teachers, 1,000 at a time.
absl::Status BackfillCounty(ProfileStore& store, redis::Pool& pool, const IdCardVault& vault,
                            const std::string& county) {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply ids,
                           pool.Command({"ZRANGE", ProfileStore::TeachersKey(county), "0", "-1"}));
  constexpr size_t kChunk = 1000;
  for (size_t first = 0; first < ids.size(); first += kChunk) {
    std::vector<redis::Args> reads;
    std::vector<std::string> teachers;
    for (size_t i = first; i < std::min(ids.size(), first + kChunk); ++i) {
      teachers.emplace_back(ids[i].str());
      reads.push_back({"HGET", ProfileStore::TeacherKey(county, teachers.back()), "idc"});
    }
    SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> sealed, pool.Pipeline(reads));
    std::vector<IdCardOwnerClaim> claims;
    for (size_t k = 0; k < sealed.size(); ++k) {
      SHIDANG_RETURN_IF_ERROR(sealed[k].ToStatus());
      if (sealed[k].is_nil()) continue;
      SHIDANG_ASSIGN_OR_RETURN(std::string number, vault.Open(sealed[k].str()));
      claims.push_back({vault.BlindIndex(number), teachers[k], ""});
    }
    SHIDANG_ASSIGN_OR_RETURN(std::vector<IdCardOwnerReply> replies,
                             store.ClaimIdCardOwners(claims));
    for (size_t k = 0; k < replies.size(); ++k) {
      if (replies[k].outcome != Outcome::kTaken) continue;
      LogWarning("id_card_owner backfill: teacher ", claims[k].teacher_id, " of county ", county,
                 " has the ID-card number teacher ", replies[k].holder, " holds");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status BackfillIdCardOwners(redis::Pool& pool, const IdCardVault& vault) {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply done,
                           pool.Command({"EXISTS", ProfileStore::IdCardOwnersBackfilledKey()}));
  if (done.integer() == 1) return absl::OkStatus();
  ProfileStore store(pool);
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply counties,
                           pool.Command({"SMEMBERS", ProfileStore::CountiesKey()}));
  for (size_t i = 0; i < counties.size(); ++i) {
    SHIDANG_RETURN_IF_ERROR(BackfillCounty(store, pool, vault, std::string(counties[i].str())));
  }
  LogInfo("id_card_owner backfill: the numbers of ", counties.size(), " counties are claimed");
  return pool.Command({"SET", ProfileStore::IdCardOwnersBackfilledKey(), "1"}).status();
}

}  // namespace shidang::profile

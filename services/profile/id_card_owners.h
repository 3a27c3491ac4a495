#pragma once

// One person, one ID-card number, nationally. A county's script checks its own index
// (profile:{c:<county>}:idc:<blind index>) in the same script as the write; across counties the
// number's owner record (store.h: profile:{idc:<blind index>}:owner, a hash tag of its own, never
// the number) names the one teacher who holds it. A write that gives a teacher a number takes it
// in idempotent steps, like a transfer:
//
//   1. claim the owner record for the teacher (claim_id_card_owner.lua; a claim the same teacher
//      holds already, from an earlier try of the same request, is theirs: a retry with the same
//      request id makes the same teacher id and goes on);
//   2. run the county's script;
//   3. if it refused, release the claim (release_id_card_owner.lua, only where it still names the
//      teacher and the teacher's file does not hold the number); an update releases the number it
//      replaced the same way once its script has run.
//
// A crash between the steps leaves a claim whose teacher's file (in their home county) does not
// hold the number. The retry with the same request id completes it (step 1 finds it held); without
// a retry, the next claim of that number repairs it: a claim older than kUnconfirmedClaimGrace
// whose teacher's file does not hold the number is replaced (compare-and-set on the holder). A
// younger one is left alone and answers ALREADY_EXISTS, since its write may still be running: so
// of two concurrent creations of one number in two counties exactly one succeeds.
//
// A transfer keeps the teacher's id, so it keeps the claim. Numbers on file from before owner
// records existed are claimed by BackfillIdCardOwners once, at the service's start.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/redis.h"
#include "services/profile/id_card_vault.h"
#include "services/profile/service_deps.h"
#include "services/profile/store.h"

namespace shidang::profile {

// How long a claim with no file holding its number is left alone: far longer than any write
// between its claim and its county's script (a 20,000-row import's script may take ~40 s), so a
// claim in flight is never taken for one a crash left.
inline constexpr absl::Duration kUnconfirmedClaimGrace = absl::Minutes(10);

// The ALREADY_EXISTS a refused claim answers, naming `field`, in the shape of a county script's
// answer, and saying neither which teacher nor which county holds the number.
absl::Status NumberTakenElsewhere(absl::string_view field);

// The row problem text of the same refusal in a roster.
inline constexpr char kNumberTakenElsewhere[] =
    "this ID-card number is already on file for another teacher (numbers are unique nationally; "
    "a teacher who moves between counties is transferred, not created again)";

// Per claim, whether another teacher holds the number (read only: a roster checks every row before
// it writes anything). A stale claim (see above) does not count.
absl::StatusOr<std::vector<bool>> TakenByOthers(ServiceDeps& deps,
                                                const std::vector<IdCardOwnerClaim>& claims);

// Claims every number for its teacher (step 1), repairing stale claims. Per claim, true when it
// was refused: another teacher holds the number. The claims that were not refused are held when
// this returns, also when others were refused: release them (ReleaseIdCardClaims) when the write
// does not go ahead.
absl::StatusOr<std::vector<bool>> ClaimIdCards(ServiceDeps& deps,
                                               const std::vector<IdCardOwnerClaim>& claims);

// Step 3: lets go of each claim that still names its teacher unless that teacher's file holds the
// number.
absl::Status ReleaseIdCardClaims(ServiceDeps& deps, const std::vector<IdCardOwnerClaim>& claims);

// Claims the number of every teacher on file whose number has no owner record yet (data written
// before owner records existed), once: a marker key says it was done. Two teachers already on
// file with one number (possible before) keep it both; the second is logged by teacher id.
absl::Status BackfillIdCardOwners(redis::Pool& pool, const IdCardVault& vault);

}  // namespace shidang::profile

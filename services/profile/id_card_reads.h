#pragma once

// The audit trail of unmasked ID-card reads (DESIGN "Who did it": reading an unmasked ID-card
// number is itself logged): one entry per teacher whose number an answer carried, in the
// teacher's county, appended before the answer leaves (a read that cannot be recorded is refused,
// UNAVAILABLE), never changed, and trimmed by age (kIdCardReadRetention) as entries are added.
// The entry names who read, whose number, when and in which call (x-request-id), never the
// number.
//
//   profile:{c:<county>}:id_card_reads  stream  fields r = reader (actor), t = teacher id,
//                                               q = request id; the entry id is the time

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/common/server.h"
#include "services/profile/service_deps.h"

namespace shidang::profile {

// How long an entry is kept: five years, the span of a training cycle (DOMAIN §6), so a
// teacher's whole cycle can be audited.
inline constexpr absl::Duration kIdCardReadRetention = absl::Hours(24 * (365 * 5 + 1));

// Whose number an answer carries.
struct IdCardReadOf {
  std::string county_id;
  std::string teacher_id;
};

// Appends the reads by the call's actor, one entry each, in one round trip.
absl::Status RecordIdCardReads(ServiceDeps& deps, const CallContext& call,
                               const std::vector<IdCardReadOf>& reads);

}  // namespace shidang::profile

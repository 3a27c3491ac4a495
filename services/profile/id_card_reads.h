#pragma once

// The audit trail of unmasked ID-card reads (DESIGN "Who did it": reading an unmasked ID-card
// number is itself logged): one entry per teacher whose number an answer carried, in the
// teacher's county, appended before the answer leaves (a read that cannot be recorded is refused,
// UNAVAILABLE), never changed, and trimmed by age (ProfileOptions::id_card_read_retention, five
// years by default) as entries are added. The entry names who read, whose number, when and in
// which call (x-request-id and method), never the number. ListIdCardReads reads it for admins and
// HR of the region.
//
//   profile:{c:<county>}:id_card_reads  stream  fields r = reader (actor, "role:subject"),
//                                               t = teacher id, q = request id, m = method;
//                                               the entry id is the time

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/common/server.h"
#include "services/profile/service_deps.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::profile {

// Whose number an answer carries.
struct IdCardReadOf {
  std::string county_id;
  std::string teacher_id;
};

// Appends the reads by the call's actor, one entry each, in one round trip, and lets entries
// older than the retention go from each stream it appends to.
absl::Status RecordIdCardReads(ServiceDeps& deps, const CallContext& call,
                               const std::vector<IdCardReadOf>& reads);

// ListIdCardReads: the trail of one county, newest first, filtered and paged.
class IdCardReads {
 public:
  explicit IdCardReads(ServiceDeps& deps) : deps_(deps) {}

  absl::Status ListIdCardReads(const CallContext& call, const v1::ListIdCardReadsRequest& req,
                               v1::ListIdCardReadsResponse* resp);

 private:
  ServiceDeps& deps_;
};

}  // namespace shidang::profile

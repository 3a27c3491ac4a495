#pragma once

// A teacher changing school within their county (MoveTeacher), and changing county
// (TransferTeacher: two idempotent steps, one script on each county's slot).

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/common/server.h"
#include "services/profile/service_deps.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::profile {

class MovesAndTransfers {
 public:
  explicit MovesAndTransfers(ServiceDeps& deps) : deps_(deps) {}

  absl::Status MoveTeacher(const CallContext& call, const v1::MoveTeacherRequest& req,
                           v1::MoveTeacherResponse* resp);
  absl::Status TransferTeacher(const CallContext& call, const v1::TransferTeacherRequest& req,
                               v1::TransferTeacherResponse* resp);

 private:
  // A transfer to the county the teacher is in: the answer of the transfer this caller's request
  // completed before, or INVALID_ARGUMENT (a move within a county is MoveTeacher).
  absl::Status AnswerCompletedTransfer(const CallContext& call,
                                       const v1::TransferTeacherRequest& req,
                                       const StoredTeacher& stored,
                                       v1::TransferTeacherResponse* resp);
  // Step one: the receiving county takes the whole file in. Step two: the sending county
  // records the departure and lets go of the teacher. `number`: the opened ID-card number.
  // TransferIn answers the transfer id as first recorded.
  absl::StatusOr<std::string> TransferIn(const CallContext& call,
                                         const v1::TransferTeacherRequest& req,
                                         const StoredTeacher& stored,
                                         const v1::TimelineEntry& entry, const std::string& number);
  absl::Status TransferOut(const CallContext& call, const v1::TransferTeacherRequest& req,
                           const StoredTeacher& stored, const v1::TimelineEntry& entry,
                           const std::string& number);

  ServiceDeps& deps_;
};

}  // namespace shidang::profile

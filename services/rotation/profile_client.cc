#include "services/rotation/profile_client.h"

#include <chrono>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/dates.h"
#include "services/common/status.h"

namespace shidang::rotation {

ProfileMover MoverOverGrpc(std::shared_ptr<profile::v1::ProfileService::StubInterface> stub,
                           const PrincipalSigner& signer) {
  return [stub = std::move(stub), &signer](const std::string& teacher_id,
                                           const std::string& to_school_id, absl::CivilDay moved_on,
                                           const std::string& request_id) -> absl::Status {
    common::v1::Principal me;
    me.set_role(common::v1::ROLE_SERVICE);
    me.set_subject("rotation");
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    signer.Attach(&ctx, me);
    profile::v1::MoveTeacherRequest req;
    req.set_teacher_id(teacher_id);
    req.set_to_school_id(to_school_id);
    req.set_moved_on(dates::FormatDate(moved_on));
    req.set_reason("交流轮岗，人事关系转入");
    req.set_request_id(request_id);
    profile::v1::MoveTeacherResponse resp;
    absl::Status status = FromGrpcStatus(stub->MoveTeacher(&ctx, req, &resp));
    if (status.ok()) return status;
    std::optional<common::v1::BadRequest> bad = BadRequestOf(status);
    if (bad.has_value() && bad->field_violations_size() == 1 &&
        bad->field_violations(0).rule() == "same_school") {
      return absl::OkStatus();  // already there: an earlier attempt moved them
    }
    return absl::Status(status.code(), absl::StrCat("moving the teacher in the profile service: ",
                                                    status.message()));
  };
}

}  // namespace shidang::rotation

#pragma once

// The profile service as the rotation service calls it: moving a teacher to the receiving school
// when a rotation that moves the personnel relation starts.

#include <memory>
#include <string>

#include "services/common/principal.h"
#include "services/rotation/context.h"
#include "shidang/profile/v1/profile.grpc.pb.h"

namespace shidang::rotation {

// A ProfileMover over `stub` (made once in main), calling MoveTeacher as the trusted principal
// service:rotation with a 10 s deadline and `request_id` (so a retry changes nothing). A teacher
// already at the receiving school (an earlier attempt got through) counts as moved.
ProfileMover MoverOverGrpc(std::shared_ptr<profile::v1::ProfileService::StubInterface> stub,
                           const PrincipalSigner& signer);

}  // namespace shidang::rotation

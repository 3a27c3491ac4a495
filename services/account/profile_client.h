#pragma once

// The profile service as the account service reads it: a teacher (for a teacher's account) and a
// county's teachers (for the accounts made from the roster).

#include <memory>

#include "services/account/context.h"
#include "services/common/principal.h"
#include "shidang/profile/v1/profile.grpc.pb.h"

namespace shidang::account {

// A ProfileReader over `stub` (made once in main), calling as the trusted principal
// service:account with a 10 s deadline per call; the roster is read page by page.
ProfileReader ReaderOverGrpc(std::shared_ptr<profile::v1::ProfileService::StubInterface> stub,
                             const PrincipalSigner& signer);

}  // namespace shidang::account

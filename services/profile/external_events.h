#pragma once

// Other services' events filed into the growth file: each as an EXTERNAL timeline entry, and
// summaries ("<source>.summary" events, or a change's teacher_summary) into the file's summaries.

#include "absl/status/status.h"
#include "services/profile/service_deps.h"
#include "shidang/common/v1/event.pb.h"

namespace shidang::profile {

// Files `event` for its teacher, idempotently per event id (the event id is the request id, so a
// re-delivery changes nothing). Events about no teacher, or an unknown one, are skipped (logged).
absl::Status FileExternalEvent(ServiceDeps& deps, const common::v1::Event& event);

}  // namespace shidang::profile

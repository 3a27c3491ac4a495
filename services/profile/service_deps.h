#pragma once

// What every use case of the profile service works with: made once by the gRPC edge
// (service.cc) and passed to each use case by reference.

#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/policy.h"
#include "services/common/redis.h"
#include "services/profile/id_card_vault.h"
#include "services/profile/store.h"

namespace shidang::profile {

// How long an unmasked ID-card read stays in the audit trail (id_card_reads.h) unless configured
// otherwise: five years, the span of a training cycle (DOMAIN §6), so a teacher's whole cycle can
// be audited (DESIGN names no other retention).
inline constexpr absl::Duration kIdCardReadRetention = absl::Hours(24 * (365 * 5 + 1));

// What main.cc configures beyond the kit's flags.
struct ProfileOptions {
  absl::Duration id_card_read_retention = kIdCardReadRetention;
};

struct ServiceDeps {
  ServiceDeps(redis::Pool& redis_pool, const Clock& service_clock, const IdCardVault& id_vault,
              ProfileOptions profile_options = {})
      : pool(redis_pool),
        clock(service_clock),
        vault(id_vault),
        options(profile_options),
        store(redis_pool),
        policies(redis_pool, policy::PolicyStoreOptions{.clock = &service_clock}) {}

  redis::Pool& pool;
  const Clock& clock;
  const IdCardVault& vault;
  ProfileOptions options;
  ProfileStore store;
  policy::PolicyStore policies;
};

}  // namespace shidang::profile

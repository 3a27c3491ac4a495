#pragma once

// What every use case of the profile service works with: made once by the gRPC edge
// (service.cc) and passed to each use case by reference.

#include "services/common/clock.h"
#include "services/common/policy.h"
#include "services/common/redis.h"
#include "services/profile/id_card_vault.h"
#include "services/profile/store.h"

namespace shidang::profile {

struct ServiceDeps {
  ServiceDeps(redis::Pool& redis_pool, const Clock& service_clock, const IdCardVault& id_vault)
      : pool(redis_pool),
        clock(service_clock),
        vault(id_vault),
        store(redis_pool),
        policies(redis_pool, policy::PolicyStoreOptions{.clock = &service_clock}) {}

  redis::Pool& pool;
  const Clock& clock;
  const IdCardVault& vault;
  ProfileStore store;
  policy::PolicyStore policies;
};

}  // namespace shidang::profile

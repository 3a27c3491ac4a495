#pragma once

// The profile service as a process (testing::ServiceFixture) with its data key: the fixture of
// its tests, calls to it waiting 20 s at most.

#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "shidang/profile/v1/profile.grpc.pb.h"
#include "tests/kit/files.h"
#include "tests/kit/service_fixture.h"

namespace shidang::profile {

// The key ID-card numbers are sealed and indexed with in these tests.
inline const std::string kTestDataKey(48, 'd');

class ProfileFixture : public testing::ServiceFixture<v1::ProfileService> {
 protected:
  explicit ProfileFixture(testing::RedisServerOptions redis_options = {})
      : ServiceFixture(std::move(redis_options), absl::Seconds(20)) {}

  // (Re)starts the profile service on `today` with kTestDataKey and `extra` flags.
  void StartProfile(const std::string& today, std::vector<std::string> extra = {}) {
    const std::string data_key = keys_.path() + "/data.key";
    testing::WriteFile(data_key, kTestDataKey);
    extra.insert(extra.begin(), "--data_key_file=" + data_key);
    StartService(SHIDANG_PROFILE_BINARY, "shidang-profile", today, extra);
  }
};

}  // namespace shidang::profile

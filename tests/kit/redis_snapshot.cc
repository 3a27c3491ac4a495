#include "tests/kit/redis_snapshot.h"

#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace shidang::testing {

std::map<std::string, std::string> Snapshot(redis::Pool& pool) {
  std::map<std::string, std::string> keys;
  absl::StatusOr<redis::Reply> names = pool.Command({"KEYS", "*"});
  EXPECT_TRUE(names.ok()) << names.status();
  if (!names.ok()) return keys;
  for (size_t i = 0; i < names->size(); ++i) {
    const std::string name((*names)[i].str());
    absl::StatusOr<redis::Reply> dump = pool.Command({"DUMP", name});
    EXPECT_TRUE(dump.ok()) << dump.status();
    keys[name] = dump.ok() ? std::string(dump->str()) : "";
  }
  return keys;
}

}  // namespace shidang::testing

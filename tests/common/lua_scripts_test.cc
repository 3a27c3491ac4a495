// The error codes of the Lua scripts (services/common/scripts/status_codes.lua) against the C++
// that reads them: Mutation::Decode turns a body's err number into absl::StatusCode, so each
// Code.<NAME> must be the number absl gives that name, and every absl code must have its name.

#include "services/common/lua_scripts.h"

#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/keys.h"
#include "services/common/mutation.h"
#include "shidang/common/v1/event.pb.h"
#include "tests/kit/redis_server.h"

namespace shidang {
namespace {

// The highest absl::StatusCode (kUnauthenticated = 16); codes run from kOk = 0 without gaps.
constexpr int kLastCode = static_cast<int>(absl::StatusCode::kUnauthenticated);

TEST(LuaStatusCodesTest, EveryNameIsAbslsNameForItsNumber) {
  testing::RedisServer server;
  // The piece as the prelude includes it, then its table as name, number pairs.
  auto reply = server.pool().Command({"EVAL", absl::StrCat(common::lua::kStatusCodes, R"lua(
local pairs_out = {}
for name, number in pairs(Code) do
  pairs_out[#pairs_out + 1] = name
  pairs_out[#pairs_out + 1] = number
end
return pairs_out
)lua"),
                                      "0"});
  ASSERT_TRUE(reply.ok()) << reply.status();
  std::set<int> numbers;
  for (size_t i = 0; i + 1 < reply->size(); i += 2) {
    const std::string name((*reply)[i].str());
    const int64_t number = (*reply)[i + 1].integer();
    ASSERT_GE(number, 0) << name;
    ASSERT_LE(number, kLastCode) << name;
    EXPECT_EQ(absl::StatusCodeToString(static_cast<absl::StatusCode>(number)), name)
        << "Code." << name << " = " << number;
    numbers.insert(static_cast<int>(number));
  }
  EXPECT_EQ(numbers.size(), static_cast<size_t>(kLastCode + 1)) << "a code has no name";
  EXPECT_EQ(reply->size(), 2u * (kLastCode + 1)) << "two names for one code";
}

// A body answering with a name comes out of Run as that absl::StatusCode, its field attached.
TEST(LuaStatusCodesTest, BodyErrByNameReachesTheCallerAsThatCode) {
  testing::RedisServer server;
  const Mutation refuse(R"lua(
    return {err = Code[A[1]], msg = 'refused by name', field = 'name'}
  )lua");
  const std::string tag = keys::HashTag("c", "110105");
  for (int number = 1; number <= kLastCode; ++number) {
    const auto code = static_cast<absl::StatusCode>(number);
    MutationRequest m;
    m.stream_key = keys::StreamKey("training", tag);
    m.args = {absl::StatusCodeToString(code)};
    absl::StatusOr<MutationResult> result = refuse.Run(server.pool(), m);
    EXPECT_EQ(result.status().code(), code) << m.args[0] << ": " << result.status();
  }
}

}  // namespace
}  // namespace shidang

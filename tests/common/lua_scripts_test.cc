// The error codes of the Lua scripts (services/common/scripts/status_codes.lua) against the C++
// that reads them: Mutation::Decode turns a body's err number into absl::StatusCode, so each
// Code.<NAME> must be the number absl gives that name, and every absl code must have its name.

#include "services/common/lua_scripts.h"

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lua_registry.h"
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

// The `{err = ...}` tables written in a Lua text, comments and strings skipped.
std::vector<std::string> ErrTables(absl::string_view lua) {
  std::vector<std::string> tables;
  size_t start = absl::string_view::npos;
  int depth = 0;
  for (size_t i = 0; i < lua.size(); ++i) {
    const absl::string_view rest = lua.substr(i);
    if (absl::StartsWith(rest, "--")) {
      const size_t end = absl::StartsWith(rest, "--[[") ? lua.find("]]", i) : lua.find('\n', i);
      if (end == absl::string_view::npos) break;
      i = end;
      continue;
    }
    const char c = lua[i];
    if (c == '\'' || c == '"') {
      while (++i < lua.size() && lua[i] != c) {
        if (lua[i] == '\\') ++i;
      }
      continue;
    }
    if (c == '{') {
      if (start == absl::string_view::npos &&
          absl::StartsWith(absl::StripLeadingAsciiWhitespace(rest.substr(1)), "err")) {
        start = i;
        depth = 0;
      }
      if (start != absl::string_view::npos) ++depth;
    } else if (c == '}' && start != absl::string_view::npos && --depth == 0) {
      tables.emplace_back(lua.substr(start, i + 1 - start));
      start = absl::string_view::npos;
    }
  }
  return tables;
}

// Every refusal of a field names the rule it broke (a short snake_case name, as InvalidField's),
// so that the field violation a client gets never has an empty rule.
TEST(LuaStatusCodesTest, EveryRefusalOfAFieldNamesItsRule) {
  int refusals_of_a_field = 0;
  for (const EmbeddedLua& file : kEmbeddedLua) {
    for (const std::string& table : ErrTables(file.text)) {
      if (!absl::StrContains(table, "field =")) continue;
      ++refusals_of_a_field;
      EXPECT_TRUE(absl::StrContains(table, "rule = '")) << file.path << ": " << table;
    }
  }
  // The scan found the services' refusals (create_rotation.lua's, add_policy_version.lua's, ...).
  EXPECT_GE(refusals_of_a_field, 20);
}

}  // namespace
}  // namespace shidang

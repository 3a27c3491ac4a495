#include "services/common/digest.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace shidang {
namespace {

TEST(Sha256Test, MatchesTheStandardVectors) {
  EXPECT_EQ(absl::BytesToHexString(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(absl::BytesToHexString(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256(std::string("a\0b", 3)).size(), 32u);
  EXPECT_NE(Sha256(std::string("a\0b", 3)), Sha256("a"));  // bytes after a NUL count
}

TEST(HexIdTest, ASeedGivesTheSamePrefixOfItsDigestEveryTime) {
  EXPECT_EQ(HexId("abc", 16), "ba7816bf8f01cfea");
  EXPECT_EQ(HexId("abc", 12), "ba7816bf8f01");
  EXPECT_EQ(HexId("abc", 10), "ba7816bf8f");
  EXPECT_EQ(HexId("abc", 64).size(), 64u);
  EXPECT_EQ(HexId("abc", 100).size(), 64u);  // at most the whole digest
}

TEST(HexIdTest, NoSeedGivesRandomIds) {
  const std::string a = HexId("", 16), b = HexId("", 16);
  EXPECT_EQ(a.size(), 16u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace shidang

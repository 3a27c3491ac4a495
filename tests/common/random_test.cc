// The random-bytes helper and the ids made from it: one behaviour when OpenSSL's CSPRNG fails.

// RAND_set_rand_method is deprecated in OpenSSL 3 but still honoured by RAND_bytes: it is how
// this test makes the CSPRNG fail.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "services/common/random.h"

#include <openssl/rand.h>

#include <cstdio>
#include <string>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "services/common/digest.h"
#include "services/common/mutation.h"

namespace shidang {
namespace {

int FailingBytes(unsigned char*, int) { return 0; }
int FailingStatus() { return 0; }

// Makes every later RAND_bytes in this process fail; run only inside a death test's child.
void BreakTheCsprng() {
  static RAND_METHOD failing = {nullptr, FailingBytes, nullptr,
                                nullptr, FailingBytes, FailingStatus};
  ASSERT_EQ(RAND_set_rand_method(&failing), 1);
  unsigned char byte;
  ASSERT_NE(RAND_bytes(&byte, 1), 1);
}

TEST(SecureRandomTest, BytesAndHexHaveTheAskedSizeAndDiffer) {
  EXPECT_EQ(SecureRandomBytes(0).size(), 0u);
  EXPECT_EQ(SecureRandomBytes(48).size(), 48u);
  const std::string a = SecureRandomHex(16), b = SecureRandomHex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, b);
}

using SecureRandomDeathTest = ::testing::Test;

TEST_F(SecureRandomDeathTest, AFailingCsprngEndsTheProcess) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        BreakTheCsprng();
        SecureRandomBytes(16);
      },
      "RAND_bytes failed");
}

// HexId("") ignored a failed RAND_bytes and answered the digest of zero bytes' buffer: every
// "random" id the same. It now ends the process like the other callers.
TEST_F(SecureRandomDeathTest, AnUnseededIdIsNeverMadeWithoutRandomBytes) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        BreakTheCsprng();
        std::fprintf(stderr, "id %s\n", HexId("", 16).c_str());
      },
      "RAND_bytes failed");
}

TEST_F(SecureRandomDeathTest, EventIdsAreNeverMadeWithoutRandomBytes) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        BreakTheCsprng();
        std::fprintf(stderr, "id %s\n",
                     NewEvent("test", "test.happened", absl::Now()).id().c_str());
      },
      "RAND_bytes failed");
}

}  // namespace
}  // namespace shidang

#include "services/common/principal.h"

#include <sys/stat.h>

#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/kit/redis_server.h"

namespace shidang {
namespace {

using common::v1::Principal;

const std::string kKey(32, 'k');
const std::string kOtherKey(32, 'o');

Principal CountyHr() {
  Principal principal;
  principal.set_role(common::v1::ROLE_COUNTY_HR);
  principal.set_subject("alice");
  principal.set_region("130104");
  principal.set_expires_at(4'102'444'800);  // 2100-01-01: fixed, so signatures repeat
  return principal;
}

TEST(PrincipalTest, SignedPrincipalVerifies) {
  PrincipalSigner signer(kKey);
  Principal principal = CountyHr();
  const std::string bytes = principal.SerializeAsString();
  const std::string signature = signer.Sign(principal);
  EXPECT_EQ(signature.size(), 64u);
  absl::StatusOr<Principal> verified = signer.VerifyValues(bytes, signature, absl::Now());
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->subject(), "alice");
  EXPECT_EQ(verified->region(), "130104");
  EXPECT_EQ(verified->role(), common::v1::ROLE_COUNTY_HR);
}

TEST(PrincipalTest, TamperedBytesAreRefused) {
  PrincipalSigner signer(kKey);
  Principal principal = CountyHr();
  const std::string signature = signer.Sign(principal);
  Principal widened = principal;
  widened.set_region("130000");  // a county HR trying to cover the whole province
  absl::StatusOr<Principal> verified =
      signer.VerifyValues(widened.SerializeAsString(), signature, absl::Now());
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST(PrincipalTest, TamperedOrMalformedSignatureIsRefused) {
  PrincipalSigner signer(kKey);
  Principal principal = CountyHr();
  const std::string bytes = principal.SerializeAsString();
  std::string signature = signer.Sign(principal);
  signature[10] = signature[10] == 'a' ? 'b' : 'a';
  EXPECT_EQ(signer.VerifyValues(bytes, signature, absl::Now()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(signer.VerifyValues(bytes, "", absl::Now()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(signer.VerifyValues(bytes, signature.substr(0, 62), absl::Now()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(signer.VerifyValues(bytes, std::string(64, 'z'), absl::Now()).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(signer.VerifyValues("", signer.SignBytes(""), absl::Now()).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(PrincipalTest, WrongKeyIsRefused) {
  PrincipalSigner signer(kKey);
  PrincipalSigner other(kOtherKey);
  Principal principal = CountyHr();
  EXPECT_EQ(other.VerifyValues(principal.SerializeAsString(), signer.Sign(principal), absl::Now())
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(PrincipalTest, ExpiredIsRefused) {
  PrincipalSigner signer(kKey);
  Principal principal = CountyHr();
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  principal.set_expires_at(1'700'000'000);
  const std::string bytes = principal.SerializeAsString();
  absl::StatusOr<Principal> at_expiry = signer.VerifyValues(bytes, signer.SignBytes(bytes), now);
  EXPECT_EQ(at_expiry.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(at_expiry.status().message().find("expired"), absl::string_view::npos);
  EXPECT_TRUE(signer.VerifyValues(bytes, signer.SignBytes(bytes), now - absl::Seconds(1)).ok());
}

TEST(PrincipalTest, NoExpiryIsRefused) {
  PrincipalSigner signer(kKey);
  Principal forever = CountyHr();
  forever.clear_expires_at();
  const std::string bytes = forever.SerializeAsString();
  absl::StatusOr<Principal> verified =
      signer.VerifyValues(bytes, signer.SignBytes(bytes), absl::Now());
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(verified.status().message(), "the principal has no expiry");
}

TEST(PrincipalTest, UnspecifiedRoleIsRefused) {
  PrincipalSigner signer(kKey);
  Principal principal = CountyHr();
  principal.set_role(common::v1::ROLE_UNSPECIFIED);
  const std::string bytes = principal.SerializeAsString();
  EXPECT_EQ(signer.VerifyValues(bytes, signer.SignBytes(bytes), absl::Now()).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(PrincipalTest, KeyFileNeedsThirtyTwoBytes) {
  testing::TempDir dir;
  const std::string short_path = dir.path() + "/short.key";
  const std::string good_path = dir.path() + "/good.key";
  std::ofstream(short_path, std::ios::binary) << std::string(31, 'x');
  std::ofstream(good_path, std::ios::binary) << kKey;
  EXPECT_EQ(PrincipalSigner::FromKeyFile(short_path).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(PrincipalSigner::FromKeyFile(dir.path() + "/missing.key").ok());
  absl::StatusOr<PrincipalSigner> from_file = PrincipalSigner::FromKeyFile(good_path);
  ASSERT_TRUE(from_file.ok());
  // Same key, same signature.
  EXPECT_EQ(from_file->Sign(CountyHr()), PrincipalSigner(kKey).Sign(CountyHr()));
}

TEST(PrincipalTest, RoleNamesRoundTrip) {
  EXPECT_EQ(RoleName(common::v1::ROLE_COUNTY_HR), "county_hr");
  EXPECT_EQ(RoleName(common::v1::ROLE_TRAINING_CENTER), "training_center");
  for (const char* name : {"teacher", "school_admin", "county_hr", "city_hr", "province_hr",
                           "training_center", "admin", "service"}) {
    absl::StatusOr<common::v1::Role> role = RoleFromName(name);
    ASSERT_TRUE(role.ok()) << name;
    EXPECT_EQ(RoleName(*role), name);
  }
  EXPECT_EQ(RoleFromName("unspecified").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RoleFromName("County_HR").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ActorOf(CountyHr()), "county_hr:alice");
}

TEST(RegionCoversTest, ProvinceCityCounty) {
  EXPECT_TRUE(RegionCovers("130000", "130104"));  // province covers its counties
  EXPECT_TRUE(RegionCovers("130100", "130104"));  // city covers its counties
  EXPECT_TRUE(RegionCovers("130104", "130104"));  // a county covers itself
  EXPECT_FALSE(RegionCovers("130104", "130105"));
  EXPECT_FALSE(RegionCovers("130100", "130204"));
  EXPECT_FALSE(RegionCovers("140000", "130104"));
  EXPECT_FALSE(RegionCovers("13000", "130104"));
  EXPECT_FALSE(RegionCovers("130000", "13010x"));
  EXPECT_FALSE(RegionCovers("000000", "000104"));
  EXPECT_FALSE(RegionCovers("", ""));
}

}  // namespace
}  // namespace shidang

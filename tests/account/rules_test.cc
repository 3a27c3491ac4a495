// The account rules (services/account/rules.h) at their boundaries: username and password limits,
// each role's scope (and scopes that do not match the role), who may manage whom, the scope a
// token carries, and the lockout: the 4th, 5th and 6th wrong password, the lock's end to the
// second.

#include "services/account/rules.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/scope.h"

namespace shidang::account {
namespace {

using common::v1::Principal;
using common::v1::Role;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kCounty[] = "330723";
constexpr char kOtherCounty[] = "330781";
constexpr char kCity[] = "330700";
constexpr char kProvince[] = "330000";

// The field and rule of a problem, "" when there is none.
std::string FieldAndRule(const std::optional<FieldProblem>& problem) {
  return problem.has_value() ? absl::StrCat(problem->field, "/", problem->rule) : "";
}

Principal Who(Role role, const std::string& region = "") {
  Principal p;
  p.set_role(role);
  p.set_subject("someone");
  p.set_region(region);
  return p;
}

v1::Account Account(Role role) {
  v1::Account a;
  a.set_username("user.a");
  a.set_role(role);
  return a;
}

v1::Account SchoolAdmin(const std::string& school_id, const std::string& county_id) {
  v1::Account a = Account(common::v1::ROLE_SCHOOL_ADMIN);
  a.set_school_id(school_id);
  a.set_county_id(county_id);
  return a;
}

v1::Account Hr(Role role, const std::string& region) {
  v1::Account a = Account(role);
  a.set_region(region);
  a.set_county_id(region);
  return a;
}

v1::Account TeacherIn(const std::string& county_id) {
  v1::Account a = Account(common::v1::ROLE_TEACHER);
  a.set_teacher_id("T0123456789abcdef");
  a.set_school_id(absl::StrCat("S", county_id, "-0a1b2c3d4e"));
  a.set_county_id(county_id);
  return a;
}

// ---- usernames

TEST(UsernameTest, ThreeToSixtyFourOfLowerCaseLettersDigitsAndDotUnderscoreDash) {
  EXPECT_FALSE(IsValidUsername("ab"));
  EXPECT_TRUE(IsValidUsername("abc"));
  EXPECT_TRUE(IsValidUsername(std::string(64, 'a')));
  EXPECT_FALSE(IsValidUsername(std::string(65, 'a')));
  EXPECT_TRUE(IsValidUsername("9.head_of-school"));
  EXPECT_FALSE(IsValidUsername(".abc"));
  EXPECT_FALSE(IsValidUsername("-abc"));
  EXPECT_FALSE(IsValidUsername("_abc"));
  EXPECT_FALSE(IsValidUsername("Alice"));
  EXPECT_FALSE(IsValidUsername("al ice"));
  EXPECT_FALSE(IsValidUsername("al@ice"));
  EXPECT_FALSE(IsValidUsername("王老师"));
  EXPECT_FALSE(IsValidUsername(""));
}

TEST(UsernameTest, AProblemNamesTheFieldAndWhatIsAllowed) {
  EXPECT_EQ(UsernameProblem("account.username", "abc"), std::nullopt);
  const std::optional<FieldProblem> problem = UsernameProblem("account.username", "ab");
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->field, "account.username");
  EXPECT_EQ(problem->rule, "format");
  EXPECT_EQ(problem->message, "must be 3 to 64 of [a-z0-9._-], starting with a letter or digit");
}

TEST(UsernameTest, RosterUsernamesAreTheTeacherIdLowerCased) {
  EXPECT_EQ(RosterUsername("T0A1B"), "tt0a1b");
  EXPECT_TRUE(IsValidUsername(RosterUsername("T0123456789ABCDEF")));
  EXPECT_FALSE(IsValidUsername(RosterUsername(std::string(64, 'a'))));
}

TEST(UsernameTest, ARefreshTokenNamesItsUsernameBeforeSixtyFourHex) {
  const std::string hex(64, 'f');
  EXPECT_EQ(UsernameOfRefreshToken(absl::StrCat("head.a.", hex)), "head.a");
  EXPECT_EQ(UsernameOfRefreshToken(absl::StrCat("head.a.", hex.substr(1))), std::nullopt);
  EXPECT_EQ(UsernameOfRefreshToken(absl::StrCat("head.a.", hex, "f")), std::nullopt);
  EXPECT_EQ(UsernameOfRefreshToken(absl::StrCat("Head.a.", hex)), std::nullopt);
  EXPECT_EQ(UsernameOfRefreshToken(hex), std::nullopt);
  EXPECT_EQ(UsernameOfRefreshToken(""), std::nullopt);
}

// ---- passwords

TEST(NewPasswordTest, TenToOneHundredTwentyEightBytes) {
  EXPECT_EQ(FieldAndRule(NewPasswordProblem("new_password", std::string(9, 'x'), "head.a")),
            "new_password/length");
  EXPECT_EQ(NewPasswordProblem("new_password", std::string(10, 'x'), "head.a"), std::nullopt);
  EXPECT_EQ(NewPasswordProblem("new_password", std::string(128, 'x'), "head.a"), std::nullopt);
  EXPECT_EQ(FieldAndRule(NewPasswordProblem("new_password", std::string(129, 'x'), "head.a")),
            "new_password/length");
  // Bytes, not characters: four Chinese characters are 12 bytes.
  EXPECT_EQ(NewPasswordProblem("new_password", "密码密码", "head.a"), std::nullopt);
}

TEST(NewPasswordTest, NotTheUsernameAndNoNul) {
  EXPECT_EQ(FieldAndRule(NewPasswordProblem("new_password", "head.school", "head.school")),
            "new_password/not_username");
  EXPECT_EQ(FieldAndRule(NewPasswordProblem("new_password", std::string("long\0password", 13),
                                            "head.school")),
            "new_password/characters");
}

TEST(NewPasswordTest, TheMessageNeverRepeatsThePassword) {
  for (const std::string& password :
       {std::string("short-pw"), std::string(200, 'q'), std::string("head.school.x")}) {
    const std::optional<FieldProblem> problem =
        NewPasswordProblem("new_password", password, "head.school.x");
    ASSERT_TRUE(problem.has_value()) << password;
    EXPECT_THAT(problem->message, Not(HasSubstr(password)));
  }
  const std::optional<FieldProblem> problem = NewPasswordProblem("f", "short-pw", "u");
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->message, "must be 10 to 128 bytes long (this one is 8)");
}

// ---- regions and schools

TEST(RegionTest, CountyCityAndProvinceCodes) {
  EXPECT_TRUE(IsRegionCode(kCounty));
  EXPECT_TRUE(IsRegionCode(kCity));
  EXPECT_TRUE(IsRegionCode(kProvince));
  EXPECT_FALSE(IsRegionCode("003307"));
  EXPECT_FALSE(IsRegionCode("33072"));
  EXPECT_FALSE(IsRegionCode("3307230"));
  EXPECT_FALSE(IsRegionCode("33072x"));
  EXPECT_TRUE(IsCountyCode(kCounty));
  EXPECT_FALSE(IsCountyCode(kCity));
  EXPECT_FALSE(IsCountyCode(kProvince));
  EXPECT_EQ(CountyIdProblem("county_id", kCounty), std::nullopt);
  EXPECT_EQ(FieldAndRule(CountyIdProblem("county_id", kCity)), "county_id/county_code");
  EXPECT_EQ(RegionFilterProblem("region", ""), std::nullopt);
  EXPECT_EQ(RegionFilterProblem("region", kProvince), std::nullopt);
  EXPECT_EQ(FieldAndRule(RegionFilterProblem("region", "33")), "region/region_code");
}

TEST(RegionTest, ASchoolIdNamesItsCounty) {
  EXPECT_TRUE(IsSchoolOfCounty("S330723-0a1b2c3d4e", kCounty));
  EXPECT_TRUE(IsSchoolOfCounty("S330723-1", kCounty));
  EXPECT_FALSE(IsSchoolOfCounty("S330781-0a1b2c3d4e", kCounty));
  EXPECT_FALSE(IsSchoolOfCounty("S330723-", kCounty));
  EXPECT_FALSE(IsSchoolOfCounty("S3307230a1b", kCounty));
  EXPECT_FALSE(IsSchoolOfCounty("330723-0a1b", kCounty));
  EXPECT_FALSE(IsSchoolOfCounty("demo-school", kCounty));
  // A city has no schools of its own.
  EXPECT_FALSE(IsSchoolOfCounty("S330700-0a1b2c3d4e", kCity));
}

// ---- scopes of each role

TEST(ScopeTest, EachRoleNeedsItsOwnScopeField) {
  EXPECT_EQ(FieldAndRule(ScopeProblem(Account(common::v1::ROLE_TEACHER))),
            "account.teacher_id/required");
  EXPECT_EQ(ScopeProblem(TeacherIn(kCounty)), std::nullopt);
  EXPECT_EQ(FieldAndRule(ScopeProblem(Account(common::v1::ROLE_TRAINING_CENTER))),
            "account.provider_id/required");
  v1::Account centre = Account(common::v1::ROLE_TRAINING_CENTER);
  centre.set_provider_id("P330723-TDC");
  EXPECT_EQ(ScopeProblem(centre), std::nullopt);
  EXPECT_EQ(ScopeProblem(Account(common::v1::ROLE_ADMIN)), std::nullopt);
  const std::optional<FieldProblem> teacher = ScopeProblem(Account(common::v1::ROLE_TEACHER));
  ASSERT_TRUE(teacher.has_value());
  EXPECT_EQ(teacher->message, "is required for teacher");
}

TEST(ScopeTest, ASchoolAdminsSchoolIsOfTheirCounty) {
  EXPECT_EQ(ScopeProblem(SchoolAdmin("S330723-1", kCounty)), std::nullopt);
  EXPECT_EQ(FieldAndRule(ScopeProblem(SchoolAdmin("", kCounty))), "account.school_id/required");
  EXPECT_EQ(FieldAndRule(ScopeProblem(SchoolAdmin("S330723-1", ""))),
            "account.county_id/county_code");
  // A city's or a province's code is no school's county.
  EXPECT_EQ(FieldAndRule(ScopeProblem(SchoolAdmin("S330700-1", kCity))),
            "account.county_id/county_code");
  EXPECT_EQ(FieldAndRule(ScopeProblem(SchoolAdmin("S330000-1", kProvince))),
            "account.county_id/county_code");
  // A school of another county under this county's code.
  const std::optional<FieldProblem> elsewhere = ScopeProblem(SchoolAdmin("S330781-1", kCounty));
  EXPECT_EQ(FieldAndRule(elsewhere), "account.school_id/school_of_county");
  ASSERT_TRUE(elsewhere.has_value());
  EXPECT_THAT(elsewhere->message, HasSubstr("S330723-"));
  EXPECT_EQ(FieldAndRule(ScopeProblem(SchoolAdmin("demo-school", kCounty))),
            "account.school_id/school_of_county");
}

TEST(ScopeTest, AnHrRegionIsOfItsRolesLevel) {
  const Role county = common::v1::ROLE_COUNTY_HR, city = common::v1::ROLE_CITY_HR,
             province = common::v1::ROLE_PROVINCE_HR;
  EXPECT_EQ(ScopeProblem(Hr(county, kCounty)), std::nullopt);
  EXPECT_EQ(ScopeProblem(Hr(city, kCity)), std::nullopt);
  EXPECT_EQ(ScopeProblem(Hr(province, kProvince)), std::nullopt);
  for (const auto& [role, region] :
       {std::pair{county, kCity}, std::pair{county, kProvince}, std::pair{city, kCounty},
        std::pair{city, kProvince}, std::pair{province, kCounty}, std::pair{province, kCity},
        std::pair{county, ""}, std::pair{city, "0000"}, std::pair{province, "003300"}}) {
    EXPECT_EQ(FieldAndRule(ScopeProblem(Hr(role, region))), "account.region/region_code")
        << RoleName(role) << " " << region;
  }
  const std::optional<FieldProblem> problem = ScopeProblem(Hr(city, kCounty));
  ASSERT_TRUE(problem.has_value());
  EXPECT_EQ(problem->message, "must be the 6-digit code of a city (XXYY00) for city_hr");
}

TEST(ScopeTest, ARoleNoAccountHasIsRefused) {
  for (Role role :
       {common::v1::ROLE_UNSPECIFIED, common::v1::ROLE_SERVICE, static_cast<Role>(99)}) {
    const std::optional<FieldProblem> problem = ScopeProblem(Account(role));
    EXPECT_EQ(FieldAndRule(problem), "account.role/role") << role;
    ASSERT_TRUE(problem.has_value());
    EXPECT_THAT(problem->message, HasSubstr("ROLE_TEACHER"));
    EXPECT_THAT(problem->message, Not(HasSubstr("ROLE_SERVICE")));
  }
}

TEST(ScopeTest, OnlyTheRolesScopeFieldsAreKept) {
  v1::Account hr = Hr(common::v1::ROLE_CITY_HR, kCity);
  hr.set_teacher_id("T1");
  hr.set_school_id("S330723-1");
  hr.set_provider_id("P1");
  hr.set_county_id(kCounty);
  KeepScopeOfRole(hr);
  EXPECT_EQ(hr.region(), kCity);
  EXPECT_EQ(hr.county_id(), kCity);  // what HR's reach over it compares
  EXPECT_TRUE(hr.teacher_id().empty() && hr.school_id().empty() && hr.provider_id().empty());

  v1::Account admin = SchoolAdmin("S330723-1", kCounty);
  admin.set_teacher_id("T1");
  admin.set_region(kCity);
  admin.set_provider_id("P1");
  KeepScopeOfRole(admin);
  EXPECT_EQ(admin.school_id(), "S330723-1");
  EXPECT_EQ(admin.county_id(), kCounty);
  EXPECT_TRUE(admin.teacher_id().empty() && admin.region().empty() && admin.provider_id().empty());

  v1::Account centre = Account(common::v1::ROLE_TRAINING_CENTER);
  centre.set_provider_id("P1");
  centre.set_county_id(kCounty);
  centre.set_region(kCounty);
  KeepScopeOfRole(centre);
  EXPECT_EQ(centre.provider_id(), "P1");
  EXPECT_TRUE(centre.county_id().empty() && centre.region().empty());

  v1::Account root = TeacherIn(kCounty);
  root.set_role(common::v1::ROLE_ADMIN);
  KeepScopeOfRole(root);
  EXPECT_TRUE(root.teacher_id().empty() && root.school_id().empty() && root.county_id().empty());
}

TEST(ScopeTest, ATokenCarriesTheScopeOfItsRole) {
  const Principal teacher = PrincipalOf(TeacherIn(kCounty));
  EXPECT_EQ(teacher.role(), common::v1::ROLE_TEACHER);
  EXPECT_EQ(teacher.subject(), "T0123456789abcdef");  // the teacher id, not the username
  EXPECT_EQ(teacher.school_id(), "S330723-0a1b2c3d4e");
  EXPECT_TRUE(teacher.region().empty());

  const Principal school = PrincipalOf(SchoolAdmin("S330723-1", kCounty));
  EXPECT_EQ(school.subject(), "user.a");
  EXPECT_EQ(school.school_id(), "S330723-1");
  EXPECT_TRUE(school.region().empty());

  const Principal hr = PrincipalOf(Hr(common::v1::ROLE_CITY_HR, kCity));
  EXPECT_EQ(hr.subject(), "user.a");
  EXPECT_EQ(hr.region(), kCity);
  EXPECT_TRUE(hr.school_id().empty());

  v1::Account centre = Account(common::v1::ROLE_TRAINING_CENTER);
  centre.set_provider_id("P1");
  centre.set_region(kCounty);  // not its role's: not carried
  const Principal provider = PrincipalOf(centre);
  EXPECT_EQ(provider.provider_id(), "P1");
  EXPECT_TRUE(provider.region().empty());
}

// ---- who may manage whom

TEST(ManageTest, OnlyAdminsMakeAdminsAndTrainingCentres) {
  for (Role caller : {common::v1::ROLE_COUNTY_HR, common::v1::ROLE_CITY_HR,
                      common::v1::ROLE_PROVINCE_HR, common::v1::ROLE_SCHOOL_ADMIN}) {
    EXPECT_FALSE(MayCreateRole(Who(caller, kProvince), common::v1::ROLE_ADMIN));
    EXPECT_FALSE(MayCreateRole(Who(caller, kProvince), common::v1::ROLE_TRAINING_CENTER));
    EXPECT_TRUE(MayCreateRole(Who(caller, kProvince), common::v1::ROLE_TEACHER));
  }
  EXPECT_TRUE(MayCreateRole(Who(common::v1::ROLE_ADMIN), common::v1::ROLE_ADMIN));
  EXPECT_TRUE(MayCreateRole(Who(common::v1::ROLE_ADMIN), common::v1::ROLE_TRAINING_CENTER));
}

TEST(ManageTest, HrReachTheTeachersAndSchoolAdminsOfTheirRegion) {
  const Principal county_hr = Who(common::v1::ROLE_COUNTY_HR, kCounty);
  const Principal city_hr = Who(common::v1::ROLE_CITY_HR, kCity);
  const Principal other_city_hr = Who(common::v1::ROLE_CITY_HR, "330100");
  EXPECT_TRUE(CanManage(county_hr, TeacherIn(kCounty)));
  EXPECT_FALSE(CanManage(county_hr, TeacherIn(kOtherCounty)));
  EXPECT_TRUE(CanManage(county_hr, SchoolAdmin("S330723-1", kCounty)));
  EXPECT_FALSE(CanManage(county_hr, SchoolAdmin("S330781-1", kOtherCounty)));
  EXPECT_TRUE(CanManage(city_hr, TeacherIn(kOtherCounty)));
  EXPECT_FALSE(CanManage(other_city_hr, TeacherIn(kCounty)));
  EXPECT_TRUE(CanManage(Who(common::v1::ROLE_PROVINCE_HR, kProvince), TeacherIn(kCounty)));
  // An HR principal with no region reaches nothing.
  EXPECT_FALSE(CanManage(Who(common::v1::ROLE_COUNTY_HR, ""), TeacherIn(kCounty)));
}

TEST(ManageTest, HrReachHrOfRegionsStrictlyInsideTheirs) {
  const Principal county_hr = Who(common::v1::ROLE_COUNTY_HR, kCounty);
  const Principal city_hr = Who(common::v1::ROLE_CITY_HR, kCity);
  const Principal province_hr = Who(common::v1::ROLE_PROVINCE_HR, kProvince);
  EXPECT_FALSE(CanManage(county_hr, Hr(common::v1::ROLE_COUNTY_HR, kCounty)));  // a peer
  EXPECT_FALSE(CanManage(county_hr, Hr(common::v1::ROLE_CITY_HR, kCity)));      // above
  EXPECT_TRUE(CanManage(city_hr, Hr(common::v1::ROLE_COUNTY_HR, kCounty)));
  EXPECT_FALSE(CanManage(city_hr, Hr(common::v1::ROLE_CITY_HR, kCity)));
  EXPECT_FALSE(CanManage(city_hr, Hr(common::v1::ROLE_COUNTY_HR, "330106")));  // another city's
  EXPECT_TRUE(CanManage(province_hr, Hr(common::v1::ROLE_CITY_HR, kCity)));
  EXPECT_FALSE(CanManage(province_hr, Hr(common::v1::ROLE_PROVINCE_HR, kProvince)));
}

TEST(ManageTest, AdminsManageEverythingOthersNothingElse) {
  const Principal admin = Who(common::v1::ROLE_ADMIN);
  v1::Account centre = Account(common::v1::ROLE_TRAINING_CENTER);
  centre.set_provider_id("P1");
  for (const v1::Account& account :
       {TeacherIn(kCounty), SchoolAdmin("S330723-1", kCounty),
        Hr(common::v1::ROLE_PROVINCE_HR, kProvince), centre, Account(common::v1::ROLE_ADMIN)}) {
    EXPECT_TRUE(CanManage(admin, account)) << account.ShortDebugString();
    EXPECT_FALSE(CanManage(Who(common::v1::ROLE_SCHOOL_ADMIN), account));
    EXPECT_FALSE(CanManage(Who(common::v1::ROLE_TEACHER), account));
    EXPECT_FALSE(CanManage(Who(common::v1::ROLE_TRAINING_CENTER), account));
  }
  // HR: never a training centre's or an admin's account, whatever their region.
  EXPECT_FALSE(CanManage(Who(common::v1::ROLE_PROVINCE_HR, kProvince), centre));
  EXPECT_FALSE(
      CanManage(Who(common::v1::ROLE_PROVINCE_HR, kProvince), Account(common::v1::ROLE_ADMIN)));
}

TEST(ManageTest, OnlyTrustedCallersLearnThatSomethingDoesNotExist) {
  EXPECT_TRUE(MayLearnAbsence(Who(common::v1::ROLE_ADMIN)));
  EXPECT_TRUE(MayLearnAbsence(Who(common::v1::ROLE_SERVICE)));
  EXPECT_FALSE(MayLearnAbsence(Who(common::v1::ROLE_PROVINCE_HR, kProvince)));
  EXPECT_FALSE(MayLearnAbsence(Who(common::v1::ROLE_COUNTY_HR, kCounty)));
  EXPECT_FALSE(MayLearnAbsence(Who(common::v1::ROLE_SCHOOL_ADMIN)));
}

// ---- lockout

absl::Time T0() { return absl::FromUnixSeconds(1772409600); }  // 2026-03-02T08:00:00+08:00

TEST(LockoutTest, TheFifthWrongPasswordInARowLocksForFifteenMinutes) {
  EXPECT_EQ(kLockout.max_wrong_passwords, 5);
  EXPECT_EQ(kLockout.lock, absl::Minutes(15));
  LockoutState state;
  for (int i = 1; i <= 4; ++i) {
    const LockoutState next = AfterWrongPassword(state, T0() + absl::Seconds(i), kLockout);
    EXPECT_EQ(next.wrong_in_a_row, i);
    EXPECT_EQ(next.locked_until, absl::UnixEpoch()) << "wrong password " << i;
    EXPECT_FALSE(LockedByThisFailure(state, next, T0() + absl::Seconds(i)));
    state = next;
  }
  // The 5th locks from its own second and starts the count again.
  const absl::Time fifth = T0() + absl::Seconds(5);
  const LockoutState locked = AfterWrongPassword(state, fifth, kLockout);
  EXPECT_EQ(locked.wrong_in_a_row, 0);
  EXPECT_EQ(locked.locked_until, fifth + absl::Minutes(15));
  EXPECT_TRUE(LockedByThisFailure(state, locked, fifth));
  // The 6th, while locked, changes nothing: neither the count nor the lock's end.
  const absl::Time sixth = fifth + absl::Minutes(10);
  EXPECT_EQ(AfterWrongPassword(locked, sixth, kLockout), locked);
  EXPECT_FALSE(LockedByThisFailure(locked, locked, sixth));
}

TEST(LockoutTest, TheLockEndsAtExactlyFifteenMinutes) {
  const absl::Time until = LockEnd(T0(), kLockout);
  EXPECT_EQ(until, T0() + absl::Minutes(15));
  EXPECT_TRUE(IsLocked(until, T0()));
  EXPECT_TRUE(IsLocked(until, T0() + absl::Minutes(15) - absl::Seconds(1)));
  EXPECT_TRUE(IsLocked(until, T0() + absl::Minutes(15) - absl::Milliseconds(1)));
  EXPECT_FALSE(IsLocked(until, T0() + absl::Minutes(15)));
  EXPECT_FALSE(IsLocked(until, T0() + absl::Minutes(16)));
  EXPECT_FALSE(IsLocked(absl::UnixEpoch(), T0()));  // never locked
  // The store keeps whole seconds: a lock started within a second ends with that second's.
  EXPECT_EQ(LockEnd(T0() + absl::Milliseconds(999), kLockout), until);
}

TEST(LockoutTest, AfterTheLockFiveMoreWrongPasswordsAreNeeded) {
  LockoutState state{0, LockEnd(T0(), kLockout)};
  const absl::Time open = T0() + absl::Minutes(15);
  for (int i = 0; i < 4; ++i) state = AfterWrongPassword(state, open + absl::Seconds(i), kLockout);
  EXPECT_EQ(state.wrong_in_a_row, 4);
  EXPECT_FALSE(IsLocked(state.locked_until, open + absl::Seconds(4)));
  state = AfterWrongPassword(state, open + absl::Seconds(4), kLockout);
  EXPECT_EQ(state.locked_until, open + absl::Seconds(4) + absl::Minutes(15));
}

TEST(LockoutTest, TheFiguresComeFromThePolicy) {
  const LockoutPolicy strict{3, absl::Hours(1)};
  LockoutState state;
  state = AfterWrongPassword(state, T0(), strict);
  state = AfterWrongPassword(state, T0(), strict);
  EXPECT_FALSE(IsLocked(state.locked_until, T0()));
  state = AfterWrongPassword(state, T0(), strict);
  EXPECT_EQ(state.locked_until, T0() + absl::Hours(1));
}

TEST(SignInTest, OnlyAnExistingEnabledUnlockedAccountWithItsPassword) {
  SignInFacts good{true, true, false, absl::UnixEpoch()};
  EXPECT_TRUE(MaySignIn(good, T0()));
  SignInFacts unknown = good;
  unknown.account_exists = false;
  SignInFacts wrong = good;
  wrong.password_matches = false;
  SignInFacts disabled = good;
  disabled.disabled = true;
  SignInFacts locked = good;
  locked.locked_until = T0() + absl::Seconds(1);
  for (const SignInFacts& refused : {unknown, wrong, disabled, locked}) {
    EXPECT_FALSE(MaySignIn(refused, T0()));
  }
  // The lock's last second refuses; its end admits.
  EXPECT_FALSE(MaySignIn(locked, T0() + absl::Milliseconds(999)));
  EXPECT_TRUE(MaySignIn(locked, T0() + absl::Seconds(1)));
}

}  // namespace
}  // namespace shidang::account

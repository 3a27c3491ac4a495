#pragma once

// The account service's rules as pure functions over plain values: no Redis, no gRPC, no clock
// (the time is passed in). What a username, a new password and each role's scope must be (every
// refusal a FieldProblem: which field, which rule, what is allowed), who may manage which account,
// the scope an account's tokens carry, and the lockout after wrong passwords. The store's
// record_failure.lua keeps only the atomic counting, with the figures given here
// (AfterWrongPassword says what it does; tests/account/store_test.cc checks the two agree).
// Pinned down by tests/account/rules_test.cc.

#include <cstddef>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "shidang/account/v1/account.pb.h"
#include "shidang/common/v1/principal.pb.h"

namespace shidang::account {

// ---------------------------------------------------------------------------------------------
// Field problems. The edge answers one as INVALID_ARGUMENT with its field violation (context.h's
// ProblemStatus), never by parsing a message.

struct FieldProblem {
  std::string field;    // e.g. "account.region"
  std::string rule;     // e.g. "region_code"
  std::string message;  // what is allowed, for a person; never the value of a password
};

// ---------------------------------------------------------------------------------------------
// Usernames.

inline constexpr size_t kMinUsernameLength = 3;
inline constexpr size_t kMaxUsernameLength = 64;

// 3 to 64 of [a-z0-9._-], starting with a letter or a digit.
bool IsValidUsername(absl::string_view username);

// Rule "format" on `field` unless IsValidUsername.
std::optional<FieldProblem> UsernameProblem(absl::string_view field, absl::string_view username);

// The username CreateAccountsFromRoster gives a teacher: "t" and the teacher id, lower-cased
// (not always a valid username: UsernameProblem decides).
std::string RosterUsername(absl::string_view teacher_id);

// The username a refresh token names ("<username>.<64 hex>"), or nullopt when it is not shaped
// like one this service makes.
std::optional<std::string> UsernameOfRefreshToken(absl::string_view token);

// ---------------------------------------------------------------------------------------------
// Passwords.

inline constexpr size_t kMinPasswordBytes = 10;
inline constexpr size_t kMaxPasswordBytes = 128;

// A new password on `field`: rule "length" (10 to 128 bytes), "not_username" (equals the
// username), "characters" (a NUL), checked in that order; nullopt when it may be used. The
// message never repeats the password.
std::optional<FieldProblem> NewPasswordProblem(absl::string_view field, absl::string_view password,
                                               absl::string_view username);

// ---------------------------------------------------------------------------------------------
// Regions, schools, roles and scopes.

// A 6-digit GB/T 2260 code not starting with 00 (a county's, city's or province's).
bool IsRegionCode(absl::string_view code);
// A county's code: a region code ending in neither 00 (a city's) nor 0000 (a province's).
bool IsCountyCode(absl::string_view code);
// A school id of that county, as the profile service makes them: "S<county_id>-<suffix>".
bool IsSchoolOfCounty(absl::string_view school_id, absl::string_view county_id);

// Rule "county_code" on `field` unless IsCountyCode.
std::optional<FieldProblem> CountyIdProblem(absl::string_view field, absl::string_view county_id);
// Rule "region_code" on `field` for a non-empty value that is not a region code.
std::optional<FieldProblem> RegionFilterProblem(absl::string_view field, absl::string_view region);

// The first problem with the role and scope fields of an account to be created, under
// "account.<name>": the role (rule "role": one of the seven roles); a teacher's teacher_id; a
// school admin's school_id (required), county_id (rule "county_code") and the school being of
// that county (rule "school_of_county"); an HR account's region, of the role's level (rule
// "region_code": a county's code for county HR, XXYY00 for city HR, XX0000 for province HR); a
// training centre's provider_id. "required" for an empty required field. A teacher's school and
// county are not checked here: they come from the profile service.
std::optional<FieldProblem> ScopeProblem(const v1::Account& account);

// Keeps only the scope fields of the account's role, clearing the others; an HR account's
// county_id becomes its region (what HR's reach compares). A teacher's school_id and county_id
// are left for the caller to fill from the profile service.
void KeepScopeOfRole(v1::Account& account);

// The principal an account's tokens carry: role, subject (the teacher id for a teacher, else the
// username) and the scope fields of its role.
common::v1::Principal PrincipalOf(const v1::Account& account);

// ---------------------------------------------------------------------------------------------
// Who may manage an account.

// Only admins (trusted roles) create and manage admins' and training centres' accounts; this
// needs only the role asked for, so it is decided before anything is read.
bool MayCreateRole(const common::v1::Principal& principal, common::v1::Role role);

// An admin every account; HR the teachers' and school admins' accounts of the counties in their
// region, and HR accounts of regions strictly inside theirs (a city's HR its counties' HR, not a
// peer of their own region). Training centres' and admins' accounts: admins only.
bool CanManage(const common::v1::Principal& principal, const v1::Account& account);

// Whether the caller may learn that an account or a teacher does not exist: trusted roles only.
// Anyone else is answered as for one that exists out of their reach (issue 13), so HR cannot
// probe another county's usernames or teacher ids.
bool MayLearnAbsence(const common::v1::Principal& principal);

// ---------------------------------------------------------------------------------------------
// Lockout (issue 17): five wrong passwords in a row lock an account for 15 minutes.

struct LockoutPolicy {
  int max_wrong_passwords = 0;
  absl::Duration lock = absl::ZeroDuration();
};
inline constexpr LockoutPolicy kLockout = {5, absl::Minutes(15)};

// The lockout as stored: wrong passwords in a row since the last success or lock, and the end of
// the lock (the epoch when never locked). Times are whole seconds as the store keeps them.
struct LockoutState {
  int wrong_in_a_row = 0;
  absl::Time locked_until = absl::UnixEpoch();

  friend bool operator==(const LockoutState& a, const LockoutState& b) {
    return a.wrong_in_a_row == b.wrong_in_a_row && a.locked_until == b.locked_until;
  }
};

// Locked at `now` until `locked_until`, that instant excluded: a lock of 15 minutes from 08:00:00
// refuses at 08:14:59 and admits at 08:15:00.
bool IsLocked(absl::Time locked_until, absl::Time now);

// The end of a lock that starts at `now`: now + policy.lock, in whole seconds (now's fraction
// dropped, as the store keeps it).
absl::Time LockEnd(absl::Time now, const LockoutPolicy& policy);

// What one more wrong password at `now` does. Nothing while the account is locked (a locked
// account's wrong passwords are not counted); otherwise one more in a row, and the
// policy.max_wrong_passwords-th locks the account until LockEnd(now) and starts the count again.
LockoutState AfterWrongPassword(const LockoutState& before, absl::Time now,
                                const LockoutPolicy& policy);

// True when AfterWrongPassword(before, now) locked an account that was not locked at `now`.
bool LockedByThisFailure(const LockoutState& before, const LockoutState& after, absl::Time now);

// What signing in compares, read from the store.
struct SignInFacts {
  bool account_exists = false;
  bool password_matches = false;
  bool disabled = false;
  absl::Time locked_until = absl::UnixEpoch();
};

// A sign-in (or a change of one's password) goes on only for an existing account whose password
// matches, not disabled, not locked at `now`. Every other case is refused alike (sessions.h).
bool MaySignIn(const SignInFacts& facts, absl::Time now);

}  // namespace shidang::account

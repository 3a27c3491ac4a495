#pragma once

// Between the stored and wire forms (mentorship.proto) and the rules' plain values (rules.h,
// progress.h): teachers, pairings, roles, activity kinds, refusal reasons.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "services/mentorship/progress.h"
#include "services/mentorship/rules.h"
#include "shidang/mentorship/v1/mentorship.pb.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::mentorship {

using Schools = std::map<std::string, profile::v1::School>;

// The rules' facts of a stored copy, with the location of its school when `schools` has it.
TeacherFacts ToTeacherFacts(const v1::TeacherCopy& copy, const Schools& schools);
// The same with its school's location given (a county's copy looks every school up in one map).
TeacherFacts ToTeacherFacts(const v1::TeacherCopy& copy,
                            profile::v1::SchoolLocation school_location);
// The rules' pairing; nullopt for dates that do not parse (never written by this service).
std::optional<Pairing> ToRulesPairing(const v1::Pairing& pairing);
std::vector<Pairing> ToRulesPairings(const std::vector<v1::Pairing>& pairings);

// The rules' role of a kind and role (URBAN_RURAL ignores the role).
Role RoleOf(v1::PairingKind kind, v1::PairingRole role);
v1::PairingRole ToProtoRole(Role role);

v1::RefusalReason ToProtoRefusal(Refusal reason);
// The reason a refused write's status names (its violation's rule, e.g. "CAPACITY"), else OTHER;
// UNKNOWN_TEACHER for NOT_FOUND.
v1::RefusalReason RefusalOfStatus(const absl::Status& status);
// FAILED_PRECONDITION with the problem's message and a violation of its field whose rule is the
// reason's short name ("MENTEE_NOT_NEW").
absl::Status ProblemStatus(const Problem& problem);

ActivityKind ToRulesKind(v1::ActivityKind kind);
v1::ActivityKind ToProtoKind(ActivityKind kind);
v1::StageGoal ToProtoStage(Stage stage);

}  // namespace shidang::mentorship

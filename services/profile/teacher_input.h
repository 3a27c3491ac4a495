#pragma once

// Checks of a teacher's input fields, shared by CreateTeacher, UpdateTeacher and ImportRoster, and
// the ids the service makes. Pure: no I/O.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::profile {

struct InputProblem {
  std::string field;  // e.g. "birth_date"
  std::string rule;
  std::string description;
};

// Every problem with the input fields of a teacher (not the school, which needs the store):
// name 1..50 characters, sex, real dates, birth before hire (at 16 or older), hire and joined dates
// not after `today`, joined not before hire, a valid ID card consistent with birth date and sex,
// stage, 1..10 subjects (each 1..20 characters), post status, contact shapes, and derived
// (read-only) fields empty. Lengths are in characters (code points), as the messages say. The ids
// (teacher_id, county_id, school_id) are not checked here: CreateTeacher refuses a teacher_id, and
// an update carries the teacher's own.
std::vector<InputProblem> CheckTeacherInput(const v1::Teacher& teacher, absl::CivilDay today);

// INVALID_ARGUMENT with every problem as a field violation, fields prefixed (e.g. "teacher.").
absl::Status ProblemsToStatus(const std::vector<InputProblem>& problems, absl::string_view prefix);

// Ids the platform makes. With a request id they are derived from it, so a retry that never saw
// its answer makes the same id (and the same routing index) again; without, they are random.
std::string MakeTeacherId(absl::string_view seed);
std::string MakeSchoolId(absl::string_view county_id, absl::string_view seed);
std::string MakeEntryId(absl::string_view seed);
// A seed for the ids of one request: "" when the request has no request_id (ids are random).
std::string IdSeed(absl::string_view actor, absl::string_view method, absl::string_view request_id,
                   absl::string_view part);

}  // namespace shidang::profile

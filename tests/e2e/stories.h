#pragma once

// The county every user story starts from, set up over gRPC through the gateway as HR would:
// an admin creates the county, its HR imports the schools and then the teachers (CSV), and the
// training service learns the teachers from the profile service's events.

#include <map>
#include <string>
#include <vector>

#include "tests/e2e/platform.h"

namespace shidang::e2e {

struct County {
  std::string county_id;
  // By school code (<county>0001, ...).
  std::map<std::string, std::string> school_ids;
  // By national teacher id (N<county>-<i>).
  std::map<std::string, std::string> teacher_ids;
  std::vector<RosterSchool> schools;
  std::vector<RosterTeacher> teachers;
};

// Two schools (<county>0001 城区, <county>0002 乡村) and three teachers: -1 and -2 at the first,
// -3 at the second (or `teachers` when given). Fails the test (ASSERT) when a step fails.
void ImportCounty(Platform& platform, const std::string& county_id, County* county,
                  std::vector<RosterTeacher> teachers = {});

// The county of the mentorship story: two experienced 一级 teachers (-1 at the urban school, -2
// at the rural one) and three new teachers hired 2024-09-01 (-3 and -4 at the urban school, -5
// at the rural one).
std::vector<RosterTeacher> MentorshipTeachers(const std::string& county_id);

// Waits until the training service answers for every teacher of the county (it learns them from
// the profile service's events, asynchronously).
bool AwaitTrainingKnows(Platform& platform, const County& county);

}  // namespace shidang::e2e

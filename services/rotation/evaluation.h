#pragma once

// One county judged for one school year: every teacher's eligibility on the first day, every
// rotation of the year with its counting reason, and the quota of the county and of each sending
// school. Pure (over a county snapshot, county_cache.h); shared by eligibility listings, the
// compliance report and the candidate list.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "services/rotation/county_cache.h"
#include "services/rotation/rules.h"
#include "services/rotation/store.h"

namespace shidang::rotation {

struct JudgedTeacher {
  const v1::TeacherCopy* copy = nullptr;
  const TeacherFacts* facts = nullptr;
  Eligibility eligibility;
};

struct JudgedRotation {
  const v1::Rotation* rotation = nullptr;
  // Its state as of the report's day (from its history).
  v1::RotationState state = v1::ROTATION_STATE_UNSPECIFIED;
  v1::CountingReason reason = v1::COUNTING_REASON_UNSPECIFIED;
  // The teacher was backbone on the rotation's start date.
  bool backbone = false;
};

struct CountyEvaluation {
  SchoolYear year;
  // The snapshot's schools (which outlives this evaluation).
  const std::map<std::string, SchoolFacts>* schools = nullptr;
  // Teachers at a school of this county on the first day (StintOnFirstDay), by id.
  std::map<std::string, JudgedTeacher> teachers;
  // Rotations starting in the school year and proposed by `as_of`, by rotation id.
  std::vector<JudgedRotation> rotations;
  Quota county;
  // Per public compulsory-education school of the county, and any other school with an
  // eligible teacher or a rotation sending from it.
  std::map<std::string, Quota> by_school;
  // Teachers with a rotation of the year still occupying them or counting.
  std::set<std::string> rotating;
};

// Judges `county` for `year`, rotations by their state as of `as_of`. The evaluation points into
// `county`, which must outlive it.
CountyEvaluation EvaluateCounty(const CountySnapshot& county, const RotationPolicy& policy,
                                const SchoolYear& year, absl::CivilDay as_of);

}  // namespace shidang::rotation

#pragma once

// The service's own copy of the profile service's teachers and schools: kept from the profile
// service's events, and turned into the rules' plain facts.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "services/rotation/context.h"
#include "services/rotation/rules.h"
#include "shidang/common/v1/event.pb.h"
#include "shidang/profile/v1/profile.pb.h"
#include "shidang/rotation/v1/rotation.pb.h"

namespace shidang::rotation {

// Applies one profile event to the copy. Follows "profile.school_created" (School),
// "profile.teacher_created" and "profile.teacher_updated" (Teacher: an update changes the facts
// UpdateTeacher may change, e.g. leadership posts, staffing, birth date), and the TimelineEntry
// events "profile.moved_school", "profile.transferred_county", "profile.post_status_changed",
// "profile.backbone_designated" and "profile.correction" (a correction, or any entry that
// supersedes another, takes back the superseded move or post status change); others are
// ignored. Idempotent: a re-delivered event leaves the copy as it was.
absl::Status ApplyProfileEvent(Deps& deps, const common::v1::Event& event);

// The rules' facts of a stored copy (dates that do not parse are left out).
TeacherFacts ToTeacherFacts(const v1::TeacherCopy& copy);
SchoolFacts ToSchoolFacts(const profile::v1::School& school);
std::vector<DeferralSpan> DeferralsOf(const std::vector<v1::Deferral>& deferrals,
                                      const std::string& teacher_id);

}  // namespace shidang::rotation

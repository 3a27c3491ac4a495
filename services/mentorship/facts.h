#pragma once

// The service's own copy of the profile service's teachers and schools, kept from the profile
// service's events and following every change that the pairing rules read: school, subjects,
// hire date, ethics findings (kind and date), and title, backbone tier and post status each with
// its dated history (the rules judge a pairing's start day by it, rules.h TitleOn and others).

#include "absl/status/status.h"
#include "services/mentorship/context.h"
#include "shidang/common/v1/event.pb.h"
#include "shidang/mentorship/v1/mentorship.pb.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::mentorship {

// Applies one profile event to the copy. Follows "profile.school_created" (School),
// "profile.teacher_created" and "profile.teacher_updated" (Teacher), and the TimelineEntry events
// "profile.moved_school", "profile.transferred_county", "profile.post_status_changed",
// "profile.backbone_designated", "profile.title_changed", "profile.ethics_finding" and
// "profile.correction" (an entry that supersedes a title, ethics finding, backbone designation or
// post status change retracts it, for good); others are ignored. A teacher_updated event changes
// name, school, subjects and hire date only: it carries title, backbone tier and post status as
// stored when the teacher was created, and their own events keep them. Idempotent: a
// re-delivered event leaves the copy as it was.
absl::Status ApplyProfileEvent(Deps& deps, const common::v1::Event& event);

// The copy a teacher_created event starts from (exposed for tests).
v1::TeacherCopy CopyOfTeacher(const profile::v1::Teacher& teacher, const common::v1::Event& event);

}  // namespace shidang::mentorship

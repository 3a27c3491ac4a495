#pragma once

// The load the training overload tests and bench_burst send: courses registered by centre P1 of
// county 330723, one call each.

#include <string>

#include "shidang/common/v1/principal.pb.h"
#include "shidang/training/v1/training.pb.h"

namespace shidang::training {

// Training centre P1 (subject c1), who registers the courses.
inline common::v1::Principal Centre() {
  common::v1::Principal p;
  p.set_role(common::v1::ROLE_TRAINING_CENTER);
  p.set_subject("c1");
  p.set_provider_id("P1");
  return p;
}

// RegisterCourse of an 8-hour county course of P1 (2025-12-01 to 05, 10 seats, open to 330723)
// titled `title`, with `request_id`.
inline v1::RegisterCourseRequest NewCourse(const std::string& request_id,
                                           const std::string& title) {
  v1::RegisterCourseRequest req;
  req.set_request_id(request_id);
  v1::Course* c = req.mutable_course();
  c->set_provider_id("P1");
  c->set_title(title);
  c->set_level(common::v1::TRAINING_LEVEL_COUNTY);
  c->set_mode(common::v1::TRAINING_MODE_FACE_TO_FACE);
  c->set_hours(8);
  c->set_start_date("2025-12-01");
  c->set_end_date("2025-12-05");
  c->set_capacity(10);
  c->add_open_regions("330723");
  return req;
}

}  // namespace shidang::training

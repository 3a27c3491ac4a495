#include "services/training/shared.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/dates.h"
#include "services/common/digest.h"
#include "services/common/principal.h"
#include "services/common/status.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::training {
namespace {

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;
constexpr size_t kMaxPageOffset = size_t{1} << 30;

}  // namespace

std::string EventIdSource::Next() {
  absl::MutexLock lock(&mu_);
  if (next_ == sizeof(block_)) {
    if (RAND_bytes(block_, sizeof(block_)) != 1) {
      std::fprintf(stderr, "training: RAND_bytes failed\n");
      std::abort();
    }
    next_ = 0;
  }
  std::string id = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(block_ + next_), kIdBytes));
  next_ += kIdBytes;
  return id;
}

common::v1::Event EventMaker::Make(absl::string_view type, absl::string_view teacher_id,
                                   absl::string_view county_id, absl::string_view occurred_on,
                                   absl::string_view actor, absl::string_view request_id,
                                   absl::string_view summary,
                                   const google::protobuf::Message& payload) {
  common::v1::Event e;
  e.set_id(ids_.Next());
  e.set_type(std::string(type));
  e.set_source(kServiceName);
  e.set_recorded_at_ms(absl::ToUnixMillis(clock_.Now()));
  e.set_teacher_id(std::string(teacher_id));
  e.set_county_id(std::string(county_id));
  e.set_occurred_on(std::string(occurred_on));
  e.set_actor(std::string(actor));
  e.set_request_id(std::string(request_id));
  e.set_summary(std::string(summary));
  e.mutable_payload()->PackFrom(payload);
  return e;
}

WriteContext WriteOf(const CallContext& call, absl::string_view method,
                     const google::protobuf::Message& request) {
  return WriteContext{call.actor, std::string(method), &request};
}

absl::StatusOr<absl::CivilDay> AsOf(const Clock& clock, absl::string_view as_of) {
  if (as_of.empty()) return clock.Today();
  return dates::ParseDate(as_of, "as_of");
}

absl::Status TeacherNotFound(absl::string_view teacher_id) {
  return absl::NotFoundError(absl::StrCat("teacher ", teacher_id, " not found"));
}

absl::StatusOr<Located> Locate(TrainingStore& store, absl::string_view teacher_id,
                               bool with_ledger) {
  if (teacher_id.empty()) return InvalidField("teacher_id", "required", "required");
  SHIDANG_ASSIGN_OR_RETURN(std::string county, store.HomeCounty(teacher_id));
  SHIDANG_ASSIGN_OR_RETURN(std::vector<TeacherState> states,
                           store.GetTeachers(county, {std::string(teacher_id)}, with_ledger));
  if (!states[0].facts.has_value()) return TeacherNotFound(teacher_id);
  return Located{county, std::move(states[0])};
}

bool Departed(const TeacherFactsRecord& f) {
  return f.post_status == profile::v1::POST_STATUS_RETIRED ||
         f.post_status == profile::v1::POST_STATUS_LEFT;
}

bool CourseOpenTo(const v1::Course& course, absl::string_view county) {
  for (const std::string& region : course.open_regions()) {
    if (region == county || RegionCovers(region, county)) return true;
  }
  return false;
}

std::string IdSeed(absl::string_view actor, absl::string_view method, absl::string_view request_id,
                   absl::string_view part) {
  if (request_id.empty()) return "";
  return absl::StrCat(actor, "\x1f", method, "\x1f", request_id, "\x1f", part);
}

std::string CourseEntryId(absl::string_view course_id, absl::string_view teacher_id) {
  return absl::StrCat("E", HexId(absl::StrCat("course\x1f", course_id, "\x1f", teacher_id), 16));
}

std::string RecordEntryId(absl::string_view record_id) {
  return absl::StrCat("E", HexId(absl::StrCat("record\x1f", record_id), 16));
}

std::string ReversalId(absl::string_view entry_id) {
  return absl::StrCat("X", HexId(absl::StrCat("reverse\x1f", entry_id), 16));
}

std::string HoursText(double hours) {
  std::string s = absl::StrFormat("%.2f", hours);
  while (absl::EndsWith(s, "0")) s.pop_back();
  if (absl::EndsWith(s, ".")) s.pop_back();
  return s;
}

std::string HalfHoursText(HalfHours half_hours) {
  const bool negative = half_hours < 0;
  const HalfHours magnitude = negative ? -half_hours : half_hours;
  return absl::StrCat(negative ? "-" : "", magnitude / 2, magnitude % 2 != 0 ? ".5" : "");
}

absl::Status ProblemsStatus(const FieldProblems& problems) {
  absl::Status status;
  for (const FieldProblem& p : problems) AddFieldViolation(&status, p.field, p.rule, p.message);
  return status;
}

common::v1::FieldViolation ViolationOf(const FieldProblem& problem) {
  common::v1::FieldViolation v;
  v.set_field(problem.field);
  v.set_rule(problem.rule);
  v.set_description(problem.message);
  return v;
}

absl::StatusOr<int> PageSize(const common::v1::PageRequest& page) {
  if (page.page_size() < 0 || page.page_size() > kMaxPageSize) {
    return InvalidField(
        "page.page_size", "range",
        absl::StrCat("must be 0 (default ", kDefaultPageSize, ") to ", kMaxPageSize));
  }
  return page.page_size() == 0 ? kDefaultPageSize : page.page_size();
}

absl::StatusOr<size_t> PageOffset(const common::v1::PageRequest& page) {
  if (page.page_token().empty()) return 0;
  size_t offset = 0;
  // Tokens are offsets below any listing's size; a larger one would wrap offset + page size.
  if (!absl::SimpleAtoi(page.page_token(), &offset) || offset > kMaxPageOffset) {
    return InvalidField("page.page_token", "page_token", "not a token this listing gave");
  }
  return offset;
}

absl::StatusOr<DateFilter> ParseDateFilter(absl::string_view from_date, absl::string_view to_date) {
  DateFilter filter;
  if (!from_date.empty()) {
    SHIDANG_ASSIGN_OR_RETURN(filter.from, dates::ParseDate(from_date, "from_date"));
  }
  if (!to_date.empty()) {
    SHIDANG_ASSIGN_OR_RETURN(filter.to, dates::ParseDate(to_date, "to_date"));
  }
  return filter;
}

}  // namespace shidang::training

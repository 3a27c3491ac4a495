#pragma once

// What the training service's use cases share: the events they publish (ids drawn from a block
// source), where a teacher lives, the ids a write derives from its request, paging and date
// filters, and the step from rules' FieldProblems to a status that carries them as field
// violations.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/message.h"
#include "services/common/clock.h"
#include "services/common/server.h"
#include "services/training/rules.h"
#include "services/training/store.h"
#include "shidang/common/v1/error.pb.h"
#include "shidang/common/v1/event.pb.h"
#include "shidang/common/v1/paging.pb.h"
#include "shidang/training/v1/training.pb.h"

namespace shidang::training {

// Random 128-bit event ids drawn from the CSPRNG a block at a time. NewEvent draws once per
// event, which a 2,000-row completion batch (two events a row) felt; the ids are as random either
// way. Aborts when the CSPRNG fails (as NewEvent): no process can carry on with ids that may
// repeat.
class EventIdSource {
 public:
  std::string Next();

 private:
  static constexpr size_t kIdBytes = 16;
  absl::Mutex mu_;
  unsigned char block_[kIdBytes * 256] ABSL_GUARDED_BY(mu_);
  size_t next_ ABSL_GUARDED_BY(mu_) = sizeof(block_);
};

// The training service's events: NewEvent's envelope, with an id from the block source.
class EventMaker {
 public:
  explicit EventMaker(const Clock& clock) : clock_(clock) {}
  common::v1::Event Make(absl::string_view type, absl::string_view teacher_id,
                         absl::string_view county_id, absl::string_view occurred_on,
                         absl::string_view actor, absl::string_view request_id,
                         absl::string_view summary, const google::protobuf::Message& payload);

 private:
  const Clock& clock_;
  EventIdSource ids_;
};

// A write of `method` on behalf of the call, idempotent per `request`'s request_id.
WriteContext WriteOf(const CallContext& call, absl::string_view method,
                     const google::protobuf::Message& request);

// "as_of" of a request: today when empty, else the date (INVALID_ARGUMENT naming "as_of").
absl::StatusOr<absl::CivilDay> AsOf(const Clock& clock, absl::string_view as_of);

// A teacher found in their home county, with their whole state there.
struct Located {
  std::string county_id;
  TeacherState state;
  const TeacherFactsRecord& facts() const { return *state.facts; }
};
// INVALID_ARGUMENT for an empty id; NOT_FOUND ("teacher <id> not found") for an unknown one.
absl::StatusOr<Located> Locate(TrainingStore& store, absl::string_view teacher_id,
                               bool with_ledger = true);
// The NOT_FOUND every lookup of an unknown (or hidden, see access.h) teacher answers.
absl::Status TeacherNotFound(absl::string_view teacher_id);

bool Departed(const TeacherFactsRecord& facts);
bool CourseOpenTo(const v1::Course& course, absl::string_view county_id);

// Ids made from the request id are the same on a retry that never saw its answer; without a
// request id they are random.
std::string IdSeed(absl::string_view actor, absl::string_view method, absl::string_view request_id,
                   absl::string_view part);
// A teacher is credited once per course, so the credit's id is derived from the pair.
std::string CourseEntryId(absl::string_view course_id, absl::string_view teacher_id);
std::string RecordEntryId(absl::string_view record_id);
std::string ReversalId(absl::string_view entry_id);

// "24", "24.5", "12.25".
std::string HoursText(double hours);
// "24", "24.5", "-0.5": half hours as hours, exactly (no float formatting).
std::string HalfHoursText(HalfHours half_hours);

// Every problem as one INVALID_ARGUMENT with a field violation each (OK when none).
absl::Status ProblemsStatus(const FieldProblems& problems);
// One problem as the wire's field violation.
common::v1::FieldViolation ViolationOf(const FieldProblem& problem);

// Offset paging: the page size (INVALID_ARGUMENT naming "page.page_size" out of range) and the
// offset a page token carries.
absl::StatusOr<int> PageSize(const common::v1::PageRequest& page);
absl::StatusOr<size_t> PageOffset(const common::v1::PageRequest& page);

// A listing's filter by date: from_date and to_date, each absent when empty (INVALID_ARGUMENT
// naming the field when it is not a date).
struct DateFilter {
  std::optional<absl::CivilDay> from, to;
};
absl::StatusOr<DateFilter> ParseDateFilter(absl::string_view from_date, absl::string_view to_date);

template <typename T, typename Add>
void Paginate(const std::vector<T>& items, size_t offset, int page_size, common::v1::PageInfo* info,
              Add add) {
  for (size_t i = offset; i < items.size() && i < offset + page_size; ++i) add(items[i]);
  if (offset + page_size < items.size()) {
    info->set_next_page_token(std::to_string(offset + page_size));
  }
  info->set_total_size(static_cast<int64_t>(items.size()));
}

}  // namespace shidang::training

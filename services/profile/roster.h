#pragma once

// Reading a roster CSV (ImportRoster): decoding (UTF-8 with or without BOM, or GB18030), Chinese or
// English headers (roster_columns.h), and every cell checked. Returns INVALID_ARGUMENT with every
// bad row (row, column, what is wrong) in the details, or the rows. Pure: the school references and
// duplicates against stored teachers are checked by the service, which has the store.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "services/common/csv.h"
#include "shidang/common/v1/error.pb.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::profile {

// At most this many data rows in one import (10,000 teachers of a county, with room to spare).
inline constexpr size_t kMaxRosterRows = 20000;

struct RosterSchool {
  int64_t row = 0;
  v1::School school;
};

struct RosterTeacher {
  int64_t row = 0;
  v1::Teacher teacher;
  // The 学校 cell: a school code, name or id, resolved by the service.
  std::string school_ref;
  common::v1::ProfessionalTitle title = common::v1::PROFESSIONAL_TITLE_UNSPECIFIED;
  std::string title_conferred_on;
  common::v1::BackboneTier backbone_tier = common::v1::BACKBONE_TIER_UNSPECIFIED;
  std::string backbone_designated_on;
};

// The rows of a roster and the problems found in their cells. A file that cannot be read at all
// (encoding, header, size) is an error instead; a row with problems is still returned, so the
// service can add what it finds (unknown schools, duplicates) and report every bad row at once.
template <typename Row>
struct Roster {
  std::vector<Row> rows;
  std::vector<common::v1::RowViolation> problems;
  // Which column of the file holds each key, and under which header (for the service's
  // problems, which name the column as the file did).
  csv::HeaderMap columns;
};

absl::StatusOr<Roster<RosterSchool>> ParseSchoolRoster(absl::string_view bytes);
absl::StatusOr<Roster<RosterTeacher>> ParseTeacherRoster(absl::string_view bytes,
                                                         absl::CivilDay today);

// Problems past this many are counted in the message but left out of the details: details travel in
// gRPC trailers, which clients cap (the gateway accepts up to 1 MiB of them).
inline constexpr size_t kMaxReportedRowProblems = 1000;

// INVALID_ARGUMENT "roster rejected: ..." carrying the row problems (at most
// kMaxReportedRowProblems of them; the gRPC edge lists the first that fit its bounds and counts
// the rest) and naming CheckRoster, which gives them all.
absl::Status RosterRejected(const std::vector<common::v1::RowViolation>& problems, size_t rows);

// One problem of a row; `column` as ColumnAsNamed gives it.
common::v1::RowViolation RowProblem(int64_t row, absl::string_view column, absl::string_view rule,
                                    absl::string_view description);

// The column of `key` as the file named it and, when that differs, as we do:
// "全国教师编号 (national_teacher_id)", so the person finds it in their file and a program by key.
// Just the key when the file has no such column.
std::string ColumnAsNamed(const csv::HeaderMap& columns, absl::string_view key);

// A cell as a list of problems may show it: an ID-card number masked (in its own column, or
// wherever one was typed), anything else cut to kMaxViolationTextBytes.
std::string ShownValue(absl::string_view key, absl::string_view cell);

// Every problem of the roster file `bytes` (of ROSTER_KIND_SCHOOLS or _TEACHERS) as a CSV file:
// UTF-8 with a BOM, Chinese headers 行号, 列, 值, 问题, one line per problem in the order given;
// 值 is the problem's cell read again from the file (ShownValue), empty for a problem of no one
// cell. An error when the file cannot be read (it would have been refused before).
absl::StatusOr<std::string> RosterProblemsCsv(
    absl::string_view bytes, v1::RosterKind kind,
    const std::vector<common::v1::RowViolation>& problems);

}  // namespace shidang::profile

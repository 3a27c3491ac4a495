#include "services/profile/roster.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/common/csv.h"
#include "services/common/dates.h"
#include "services/common/parallel.h"
#include "services/common/status.h"
#include "services/profile/background_release.h"
#include "services/profile/roster_columns.h"
#include "services/profile/rules.h"
#include "services/profile/teacher_input.h"

namespace shidang::profile {
namespace {

using csv::CsvRow;
using csv::HeaderMap;

// 17 digits and a check character: an ID-card number's shape, whether or not its digits check.
bool LooksLikeIdCard(absl::string_view cell) {
  if (cell.size() != 18) return false;
  for (size_t i = 0; i < 17; ++i) {
    if (!absl::ascii_isdigit(cell[i])) return false;
  }
  return absl::ascii_isdigit(cell[17]) || cell[17] == 'X' || cell[17] == 'x';
}

absl::StatusOr<std::pair<csv::CsvTable, HeaderMap>> ReadTable(
    absl::string_view bytes, const std::vector<csv::Column>& columns) {
  SHIDANG_RETURN_IF_ERROR(roster::RegisterRosterEnumLabels());
  SHIDANG_ASSIGN_OR_RETURN(std::string utf8, csv::DecodeToUtf8(bytes));
  SHIDANG_ASSIGN_OR_RETURN(csv::CsvTable table, csv::ParseCsv(utf8));
  if (table.rows.size() > kMaxRosterRows) {
    return absl::InvalidArgumentError(absl::StrCat(
        "csv: ", table.rows.size(), " data rows; at most ", kMaxRosterRows, " per import"));
  }
  SHIDANG_ASSIGN_OR_RETURN(HeaderMap map, csv::MapHeaders(table, columns));
  return std::make_pair(std::move(table), std::move(map));
}

// Reads the cells of one row, collecting every problem.
class RowReader {
 public:
  RowReader(const HeaderMap& map, const CsvRow& row, std::vector<common::v1::RowViolation>* out)
      : map_(map), row_(row), out_(out) {}

  std::string Text(absl::string_view key) {
    return std::string(absl::StripAsciiWhitespace(map_.Cell(row_, key)));
  }
  template <typename E>
  E Enum(absl::string_view key, bool required) {
    std::string text = Text(key);
    if (text.empty()) {
      if (required) Problem(key, "required", "required");
      return static_cast<E>(0);
    }
    absl::StatusOr<E> value = csv::EnumFromLabel<E>(text, key);
    if (!value.ok()) {
      Problem(key, "enum", std::string(value.status().message()));
      return static_cast<E>(0);
    }
    return *value;
  }
  bool Bool(absl::string_view key, bool fallback) {
    std::string text = absl::AsciiStrToLower(Text(key));
    if (text.empty()) return fallback;
    if (text == roster::kYes || text == "true" || text == "yes" || text == "1") return true;
    if (text == roster::kNo || text == "false" || text == "no" || text == "0") return false;
    Problem(key, "boolean", "want 是/否 (or true/false)");
    return fallback;
  }
  std::string Date(absl::string_view key, bool required) {
    std::string text = Text(key);
    if (text.empty()) {
      if (required) Problem(key, "required", "required: a date YYYY-MM-DD");
      return "";
    }
    // Excel often saves dates as 2021/9/1; accept that spelling too.
    if (text.find('/') != std::string::npos) {
      std::vector<std::string> parts = absl::StrSplit(text, '/');
      int y = 0, m = 0, d = 0;
      if (parts.size() == 3 && absl::SimpleAtoi(parts[0], &y) && absl::SimpleAtoi(parts[1], &m) &&
          absl::SimpleAtoi(parts[2], &d)) {
        absl::CivilDay day(y, m, d);
        if (day.year() == y && day.month() == m && day.day() == d) text = dates::FormatDate(day);
      }
    }
    if (!dates::ParseDate(text, key).ok()) {
      Problem(key, "date_format", "want a date YYYY-MM-DD");
      return "";
    }
    return text;
  }
  // A date of something that happened (a title conferred): not after `today`.
  std::string PastDate(absl::string_view key, bool required, absl::CivilDay today) {
    std::string text = Date(key, required);
    if (!text.empty() && text > dates::FormatDate(today)) {
      Problem(
          key, "not_future",
          absl::StrCat(text, " is after today; on or before today, ", dates::FormatDate(today)));
      return "";
    }
    return text;
  }
  // Names the column as the file named it (ColumnAsNamed).
  void Problem(absl::string_view key, absl::string_view rule, absl::string_view description) {
    out_->push_back(RowProblem(row_.number, ColumnAsNamed(map_, key), rule, description));
  }

 private:
  const HeaderMap& map_;
  const CsvRow& row_;
  std::vector<common::v1::RowViolation>* out_;
};

// One teacher row; its problems are appended to `problems`.
RosterTeacher ReadTeacherRow(const HeaderMap& map, const CsvRow& row, absl::CivilDay today,
                             std::vector<common::v1::RowViolation>& problems) {
  size_t problems_before = problems.size();
  RowReader r(map, row, &problems);
  RosterTeacher t;
  t.row = row.number;
  v1::Teacher& teacher = t.teacher;
  teacher.set_national_teacher_id(r.Text(roster::kNationalTeacherId));
  teacher.set_name(r.Text(roster::kTeacherName));
  teacher.set_sex(r.Enum<common::v1::Sex>(roster::kSex, true));
  teacher.set_birth_date(r.Date(roster::kBirthDate, true));
  teacher.set_id_card_number(absl::AsciiStrToUpper(r.Text(roster::kIdCardNumber)));
  teacher.set_hire_date(r.Date(roster::kHireDate, true));
  t.school_ref = r.Text(roster::kSchool);
  if (t.school_ref.empty())
    r.Problem(roster::kSchool, "required", "required: a school code or name");
  teacher.set_school_joined_on(r.Date(roster::kSchoolJoinedOn, true));
  teacher.set_stage(r.Enum<common::v1::Stage>(roster::kTeacherStage, true));
  // Separators people type: 、 (the export's), ; and , in full or half width. ByAnyChar works
  // on bytes, so the multi-byte ones are turned into ';' first.
  std::string subjects = absl::StrReplaceAll(
      r.Text(roster::kSubjects), {{roster::kSubjectSeparator, ";"}, {"；", ";"}, {"，", ";"}});
  for (absl::string_view subject :
       absl::StrSplit(subjects, absl::ByAnyChar(";,"), absl::SkipWhitespace())) {
    teacher.add_subjects(std::string(absl::StripAsciiWhitespace(subject)));
  }
  teacher.set_staffed(r.Bool(roster::kStaffed, true));
  teacher.set_post_status(r.Enum<v1::PostStatus>(roster::kPostStatus, true));
  teacher.set_education(r.Enum<v1::Education>(roster::kEducation, false));
  t.title = r.Enum<common::v1::ProfessionalTitle>(roster::kTitle, false);
  t.title_conferred_on = r.PastDate(roster::kTitleConferredOn, t.title != 0, today);
  t.backbone_tier = r.Enum<common::v1::BackboneTier>(roster::kBackboneTier, false);
  t.backbone_designated_on = r.PastDate(roster::kBackboneDesignatedOn, t.backbone_tier != 0, today);
  teacher.set_phone(r.Text(roster::kPhone));
  teacher.set_email(r.Text(roster::kEmail));
  // The checks CreateTeacher makes, for the cells that parsed (a cell already reported is not
  // reported twice).
  if (problems.size() == problems_before) {
    for (const InputProblem& p : CheckTeacherInput(teacher, today)) {
      r.Problem(p.field, p.rule, p.description);
    }
  }
  return t;
}

}  // namespace

absl::Status RosterRejected(const std::vector<common::v1::RowViolation>& problems, size_t rows) {
  std::vector<common::v1::RowViolation> reported(
      problems.begin(), problems.begin() + std::min(problems.size(), kMaxReportedRowProblems));
  // ToGrpcStatus lists the first that fit its bounds and counts the rest; CheckRoster has all.
  return WithRowViolations(
      absl::InvalidArgumentError(absl::StrCat(
          "roster rejected: ", problems.size(), " problems in ", rows,
          " rows; nothing was imported. CheckRoster (POST /v1/rosters:check, Accept: text/csv) "
          "lists every problem")),
      reported);
}

common::v1::RowViolation RowProblem(int64_t row, absl::string_view column, absl::string_view rule,
                                    absl::string_view description) {
  common::v1::RowViolation v;
  v.set_row(row);
  v.set_column(std::string(column));
  v.set_rule(std::string(rule));
  v.set_description(std::string(description));
  return v;
}

std::string ColumnAsNamed(const HeaderMap& columns, absl::string_view key) {
  const absl::string_view header = columns.Has(key) ? columns.HeaderName(key) : key;
  return header == key ? std::string(key) : absl::StrCat(header, " (", key, ")");
}

std::string ShownValue(absl::string_view key, absl::string_view cell) {
  cell = absl::StripAsciiWhitespace(cell);
  if (cell.empty()) return "";
  // Masked in its own column, and wherever else one was typed by mistake (a shifted column).
  if (key == roster::kIdCardNumber || LooksLikeIdCard(cell)) return MaskIdCard(cell);
  return BoundedText(cell, kMaxViolationTextBytes);
}

absl::StatusOr<std::string> RosterProblemsCsv(
    absl::string_view bytes, v1::RosterKind kind,
    const std::vector<common::v1::RowViolation>& problems) {
  const std::vector<csv::Column>& columns =
      kind == v1::ROSTER_KIND_SCHOOLS ? roster::SchoolColumns() : roster::TeacherColumns();
  SHIDANG_ASSIGN_OR_RETURN(auto table_and_map, ReadTable(bytes, columns));
  const auto& [table, map] = table_and_map;
  // A problem names its column as ColumnAsNamed does: back to the key, for the cell.
  absl::flat_hash_map<std::string, std::string> key_of_column;
  for (const csv::Column& column : columns) {
    key_of_column.emplace(ColumnAsNamed(map, column.key), column.key);
  }
  absl::flat_hash_map<int64_t, const CsvRow*> row_of_number;
  for (const CsvRow& row : table.rows) row_of_number.emplace(row.number, &row);
  std::vector<std::vector<std::string>> lines;
  lines.reserve(problems.size());
  for (const common::v1::RowViolation& p : problems) {
    std::string value;
    auto key = key_of_column.find(p.column());
    auto row = row_of_number.find(p.row());
    if (key != key_of_column.end() && row != row_of_number.end()) {
      value = ShownValue(key->second, map.Cell(*row->second, key->second));
    }
    lines.push_back({absl::StrCat(p.row()), BoundedText(p.column(), kMaxViolationTextBytes),
                     std::move(value), BoundedText(p.description(), kMaxViolationTextBytes)});
  }
  return csv::WriteCsv({"行号", "列", "值", "问题"}, lines);
}

absl::StatusOr<Roster<RosterSchool>> ParseSchoolRoster(absl::string_view bytes) {
  SHIDANG_ASSIGN_OR_RETURN(auto table_and_map, ReadTable(bytes, roster::SchoolColumns()));
  const auto& [table, map] = table_and_map;
  std::vector<common::v1::RowViolation> problems;
  std::vector<RosterSchool> out;
  for (const CsvRow& row : table.rows) {
    RowReader r(map, row, &problems);
    RosterSchool s;
    s.row = row.number;
    v1::School& school = s.school;
    school.set_school_code(r.Text(roster::kSchoolCode));
    school.set_name(r.Text(roster::kSchoolName));
    if (!IsSchoolNameLength(school.name())) {
      r.Problem(roster::kSchoolName, "length",
                absl::StrCat("required: 1 to ", kMaxSchoolNameChars, " characters"));
    }
    school.set_stage(r.Enum<common::v1::Stage>(roster::kSchoolStage, true));
    school.set_ownership(r.Enum<v1::SchoolOwnership>(roster::kOwnership, true));
    school.set_location(r.Enum<v1::SchoolLocation>(roster::kLocation, true));
    school.set_quality(r.Enum<v1::SchoolQuality>(roster::kQuality, true));
    school.set_kind(r.Enum<v1::SchoolKind>(roster::kKind, true));
    school.set_compulsory_education(r.Bool(roster::kCompulsoryEducation, true));
    out.push_back(std::move(s));
  }
  return {{std::move(out), std::move(problems), map}};
}

absl::StatusOr<Roster<RosterTeacher>> ParseTeacherRoster(absl::string_view bytes,
                                                         absl::CivilDay today) {
  SHIDANG_ASSIGN_OR_RETURN(auto table_and_map, ReadTable(bytes, roster::TeacherColumns()));
  // Plain references, not a structured binding: the slices' lambda below uses both, and C++17
  // does not let a lambda capture a structured binding.
  const csv::CsvTable& table = table_and_map.first;
  const HeaderMap& map = table_and_map.second;
  // Rows are independent: a 10,000-row import reads them on every core, each slice with its own
  // problems, joined in row order so the report reads as if one pass made it.
  constexpr size_t kMinRowsPerThread = 1000;
  const size_t n = table.rows.size();
  std::vector<RosterTeacher> out(n);
  std::vector<std::vector<common::v1::RowViolation>> slice_problems(
      SliceCount(n, kMinRowsPerThread));
  ForEachSlice(n, kMinRowsPerThread, [&](size_t slice, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      out[i] = ReadTeacherRow(map, table.rows[i], today, slice_problems[slice]);
    }
  });
  std::vector<common::v1::RowViolation> problems = std::move(slice_problems[0]);
  for (size_t slice = 1; slice < slice_problems.size(); ++slice) {
    for (common::v1::RowViolation& p : slice_problems[slice]) problems.push_back(std::move(p));
  }
  csv::HeaderMap columns = map;
  // The decoded cells (~20 strings a row) are dead now: freed off the import's path.
  ReleaseInBackground(std::move(table_and_map));
  return {{std::move(out), std::move(problems), std::move(columns)}};
}

}  // namespace shidang::profile

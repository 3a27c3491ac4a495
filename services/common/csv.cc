#include "services/common/csv.h"

#include <csv.h>
#include <unicode/ucnv.h>
#include <unicode/ustring.h>
#include <unicode/utypes.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "services/common/violations.h"
#include "shidang/common/v1/policy.pb.h"
#include "shidang/common/v1/types.pb.h"

namespace shidang::csv {
namespace {

using ::shidang::common::v1::RowViolation;

constexpr absl::string_view kUtf8Bom = "\xEF\xBB\xBF";

// ---------------------------------------------------------------------------------------------
// Encodings

// Offset of the first byte that does not start a well-formed UTF-8 sequence (Unicode Table 3-7:
// no overlong forms, no surrogates, nothing above U+10FFFF), or npos when all of `s` is UTF-8.
size_t FirstInvalidUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  auto cont = [&](size_t at, unsigned char lo, unsigned char hi) {
    return at < n && p[at] >= lo && p[at] <= hi;
  };
  while (i < n) {
    const unsigned char b = p[i];
    if (b < 0x80) {
      ++i;
    } else if (b >= 0xC2 && b <= 0xDF) {
      if (!cont(i + 1, 0x80, 0xBF)) return i;
      i += 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      const unsigned char lo = b == 0xE0 ? 0xA0 : 0x80;
      const unsigned char hi = b == 0xED ? 0x9F : 0xBF;
      if (!cont(i + 1, lo, hi) || !cont(i + 2, 0x80, 0xBF)) return i;
      i += 3;
    } else if (b >= 0xF0 && b <= 0xF4) {
      const unsigned char lo = b == 0xF0 ? 0x90 : 0x80;
      const unsigned char hi = b == 0xF4 ? 0x8F : 0xBF;
      if (!cont(i + 1, lo, hi) || !cont(i + 2, 0x80, 0xBF) || !cont(i + 3, 0x80, 0xBF)) return i;
      i += 4;
    } else {
      return i;
    }
  }
  return absl::string_view::npos;
}

struct ConverterCloser {
  void operator()(UConverter* c) const { ucnv_close(c); }
};

// GB18030 -> UTF-8 with ICU, stopping at the first byte sequence GB18030 does not define.
// On such bytes sets *bad_offset and returns nullopt; other failures are INTERNAL.
absl::StatusOr<std::optional<std::string>> Gb18030ToUtf8(absl::string_view bytes,
                                                         size_t* bad_offset) {
  UErrorCode err = U_ZERO_ERROR;
  std::unique_ptr<UConverter, ConverterCloser> conv(ucnv_open("GB18030", &err));
  if (U_FAILURE(err)) {
    return absl::InternalError(absl::StrCat("ICU cannot open GB18030: ", u_errorName(err)));
  }
  ucnv_setToUCallBack(conv.get(), UCNV_TO_U_CALLBACK_STOP, nullptr, nullptr, nullptr, &err);
  if (U_FAILURE(err)) {
    return absl::InternalError(absl::StrCat("ICU callback: ", u_errorName(err)));
  }
  // Every GB18030 sequence (1, 2 or 4 bytes) gives at most as many UTF-16 units as it has bytes.
  std::u16string utf16(bytes.size() + 1, u'\0');
  UChar* target = reinterpret_cast<UChar*>(utf16.data());
  UChar* const target_begin = target;
  const char* source = bytes.data();
  ucnv_toUnicode(conv.get(), &target, target + utf16.size(), &source, bytes.data() + bytes.size(),
                 /*offsets=*/nullptr, /*flush=*/true, &err);
  if (err == U_ILLEGAL_CHAR_FOUND || err == U_INVALID_CHAR_FOUND || err == U_TRUNCATED_CHAR_FOUND) {
    // The converter has consumed the bad sequence; step back over it to where it starts.
    char invalid[32];
    int8_t invalid_len = sizeof(invalid);
    UErrorCode err2 = U_ZERO_ERROR;
    ucnv_getInvalidChars(conv.get(), invalid, &invalid_len, &err2);
    const size_t consumed = static_cast<size_t>(source - bytes.data());
    const size_t back = U_SUCCESS(err2) ? static_cast<size_t>(invalid_len) : 0;
    *bad_offset = consumed >= back ? consumed - back : 0;
    return std::optional<std::string>();
  }
  if (U_FAILURE(err)) {
    return absl::InternalError(absl::StrCat("ICU GB18030 conversion: ", u_errorName(err)));
  }
  const int32_t units = static_cast<int32_t>(target - target_begin);

  int32_t utf8_len = 0;
  err = U_ZERO_ERROR;
  u_strToUTF8(nullptr, 0, &utf8_len, target_begin, units, &err);
  if (err != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(err)) {
    return absl::InternalError(absl::StrCat("ICU UTF-8 conversion: ", u_errorName(err)));
  }
  std::string out(static_cast<size_t>(utf8_len), '\0');
  err = U_ZERO_ERROR;
  u_strToUTF8(out.data(), utf8_len, &utf8_len, target_begin, units, &err);
  if (U_FAILURE(err)) {
    return absl::InternalError(absl::StrCat("ICU UTF-8 conversion: ", u_errorName(err)));
  }
  return std::optional<std::string>(std::move(out));
}

// ---------------------------------------------------------------------------------------------
// Parsing

bool IsFormulaStart(char c) {
  return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

// The header compare key: ASCII lower case, with ' ' and '-' read as '_', trimmed.
std::string NormalizeName(absl::string_view name) {
  std::string out(absl::StripAsciiWhitespace(name));
  for (char& c : out) {
    if (c == ' ' || c == '-') c = '_';
    c = absl::ascii_tolower(static_cast<unsigned char>(c));
  }
  return out;
}

// Collects libcsv callbacks into records, numbering records as a spreadsheet shows rows.
struct ParseState {
  std::vector<std::string> fields;
  bool row_has_fields = false;
  int last_terminator = 0;  // the character that ended the previous record
  int64_t records_done = 0;
  std::vector<std::pair<int64_t, std::vector<std::string>>> records;  // (number, cells)
};

// The first cell over kMaxCsvCellBytes, if any, as INVALID_ARGUMENT naming its row and column.
// Checked before libcsv reads the text: libcsv grows a cell's buffer 128 bytes at a time, each
// time copying it, so an 8 MiB line kept a service's core busy for minutes (long enough for its
// health checks to time out). Quotes as RFC 4180 has them (a doubled quote toggles twice); rows
// end at CR, LF or CRLF outside quotes.
absl::Status CheckCellLengths(absl::string_view utf8) {
  int64_t row = 1;
  size_t column = 1, cell = 0;
  bool quoted = false;
  for (size_t i = 0; i < utf8.size(); ++i) {
    const char c = utf8[i];
    if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && (c == ',' || c == '\n' || c == '\r')) {
      cell = 0;
      if (c == ',') {
        ++column;
      } else if (c == '\n' || i + 1 == utf8.size() || utf8[i + 1] != '\n') {
        ++row;  // a CR followed by LF ends the row at the LF
        column = 1;
      }
      continue;
    }
    if (++cell > kMaxCsvCellBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("CSV row ", row, ", column ", column, ": a cell of more than ",
                       kMaxCsvCellBytes, " bytes; at most ", kMaxCsvCellBytes,
                       " bytes per cell (is the file a CSV with line ends?)"));
    }
  }
  return absl::OkStatus();
}

void OnField(void* data, size_t len, void* state_ptr) {
  auto* state = static_cast<ParseState*>(state_ptr);
  state->fields.emplace_back(data == nullptr ? "" : static_cast<const char*>(data), len);
  state->row_has_fields = true;
}

// libcsv (with CSV_REPALL_NL) reports every unquoted CR and LF; a CRLF pair is one line end.
void OnRowEnd(int terminator, void* state_ptr) {
  auto* state = static_cast<ParseState*>(state_ptr);
  if (terminator == '\n' && state->last_terminator == '\r' && !state->row_has_fields) {
    state->last_terminator = '\n';
    return;
  }
  state->last_terminator = terminator;
  ++state->records_done;
  if (state->row_has_fields) {
    state->records.emplace_back(state->records_done, std::move(state->fields));
  }
  state->fields.clear();
  state->row_has_fields = false;
}

struct ParserCloser {
  void operator()(csv_parser* p) const {
    csv_free(p);
    delete p;
  }
};

bool AllEmpty(const std::vector<std::string>& cells) {
  for (const std::string& c : cells) {
    if (!c.empty()) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Writing

void AppendCell(absl::string_view cell, std::string* out) {
  std::string value;
  if (!cell.empty() && IsFormulaStart(cell.front())) {
    value = absl::StrCat("'", cell);
  } else {
    value = std::string(cell);
  }
  const bool needs_quotes = value.find_first_of(",\"\r\n") != std::string::npos ||
                            (!value.empty() && (value.front() == ' ' || value.front() == '\t' ||
                                                value.back() == ' ' || value.back() == '\t'));
  if (!needs_quotes) {
    out->append(value);
    return;
  }
  out->push_back('"');
  for (char c : value) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendRow(const std::vector<std::string>& cells, std::string* out) {
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendCell(cells[i], out);
  }
  out->append("\r\n");
}

// ---------------------------------------------------------------------------------------------
// Enum labels

class LabelRegistry {
 public:
  static LabelRegistry& Get() {
    static LabelRegistry* registry = new LabelRegistry();
    return *registry;
  }

  absl::Status Register(absl::string_view full_enum_name,
                        const std::vector<std::pair<int, std::string>>& labels) {
    const google::protobuf::EnumDescriptor* descriptor =
        google::protobuf::DescriptorPool::generated_pool()->FindEnumTypeByName(
            std::string(full_enum_name));
    if (descriptor == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("enum labels: no enum named ", full_enum_name, " is linked in"));
    }
    absl::MutexLock lock(&mu_);
    absl::flat_hash_map<int, std::string> merged;
    if (auto it = labels_.find(descriptor->full_name()); it != labels_.end()) merged = it->second;
    for (const auto& [number, label] : labels) {
      const auto* value = descriptor->FindValueByNumber(number);
      if (value == nullptr || number == 0) {
        return absl::InvalidArgumentError(absl::StrCat("enum labels: ", full_enum_name,
                                                       " has no labelled value numbered ", number));
      }
      if (absl::StripAsciiWhitespace(label).empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("enum labels: empty label for ", value->name()));
      }
      merged[number] = std::string(absl::StripAsciiWhitespace(label));
    }
    absl::flat_hash_map<std::string, int> seen;
    for (const auto& [number, label] : merged) {
      auto [it, inserted] = seen.emplace(label, number);
      if (!inserted) {
        return absl::InvalidArgumentError(
            absl::StrCat("enum labels: ", full_enum_name, " label '", label, "' would name both ",
                         descriptor->FindValueByNumber(it->second)->name(), " and ",
                         descriptor->FindValueByNumber(number)->name()));
      }
    }
    labels_[descriptor->full_name()] = std::move(merged);
    return absl::OkStatus();
  }

  std::optional<std::string> Label(const google::protobuf::EnumDescriptor* descriptor, int number) {
    absl::MutexLock lock(&mu_);
    auto it = labels_.find(descriptor->full_name());
    if (it == labels_.end()) return std::nullopt;
    auto label = it->second.find(number);
    if (label == it->second.end()) return std::nullopt;
    return label->second;
  }

  std::optional<int> NumberOf(const google::protobuf::EnumDescriptor* descriptor,
                              absl::string_view label) {
    absl::MutexLock lock(&mu_);
    auto it = labels_.find(descriptor->full_name());
    if (it == labels_.end()) return std::nullopt;
    for (const auto& [number, text] : it->second) {
      if (text == label) return number;
    }
    return std::nullopt;
  }

 private:
  LabelRegistry() {
    // The labels in the comments of types.proto and policy.proto.
    using namespace ::shidang::common::v1;  // NOLINT: a table of its enum values
    auto add = [this](const google::protobuf::EnumDescriptor* d,
                      const std::vector<std::pair<int, std::string>>& labels) {
      absl::Status status = Register(d->full_name(), labels);
      if (!status.ok()) {
        std::fprintf(stderr, "csv: bad built-in enum labels: %s\n", status.ToString().c_str());
        std::abort();
      }
    };
    add(Sex_descriptor(), {{SEX_MALE, "男"}, {SEX_FEMALE, "女"}});
    add(Stage_descriptor(), {{STAGE_PRESCHOOL, "学前"},
                             {STAGE_PRIMARY, "小学"},
                             {STAGE_JUNIOR_SECONDARY, "初中"},
                             {STAGE_SENIOR_SECONDARY, "高中"},
                             {STAGE_NINE_YEAR, "九年一贯"}});
    add(ProfessionalTitle_descriptor(), {{PROFESSIONAL_TITLE_THIRD_GRADE, "三级"},
                                         {PROFESSIONAL_TITLE_SECOND_GRADE, "二级"},
                                         {PROFESSIONAL_TITLE_FIRST_GRADE, "一级"},
                                         {PROFESSIONAL_TITLE_SENIOR, "高级"},
                                         {PROFESSIONAL_TITLE_FULL_SENIOR, "正高级"}});
    add(BackboneTier_descriptor(), {{BACKBONE_TIER_COUNTY, "县级"},
                                    {BACKBONE_TIER_CITY, "市级"},
                                    {BACKBONE_TIER_PROVINCE, "省级"}});
    add(TrainingLevel_descriptor(), {{TRAINING_LEVEL_NATIONAL, "国家级"},
                                     {TRAINING_LEVEL_PROVINCE, "省级"},
                                     {TRAINING_LEVEL_CITY, "市级"},
                                     {TRAINING_LEVEL_COUNTY, "县级"},
                                     {TRAINING_LEVEL_SCHOOL, "校本"}});
    add(TrainingMode_descriptor(), {{TRAINING_MODE_FACE_TO_FACE, "集中"},
                                    {TRAINING_MODE_ONLINE, "网络"},
                                    {TRAINING_MODE_BLENDED, "混合"},
                                    {TRAINING_MODE_SCHOOL_BASED, "校本研修"}});
    add(EthicsSeverity_descriptor(), {{ETHICS_SEVERITY_WARNING, "警告"},
                                      {ETHICS_SEVERITY_DEMERIT, "记过"},
                                      {ETHICS_SEVERITY_DEMOTION, "降低岗位等级"},
                                      {ETHICS_SEVERITY_DISMISSAL, "撤职"}});
    add(PolicyLevel_descriptor(), {{POLICY_LEVEL_NATIONAL, "国家"},
                                   {POLICY_LEVEL_PROVINCE, "省"},
                                   {POLICY_LEVEL_CITY, "市"},
                                   {POLICY_LEVEL_COUNTY, "县"}});
    add(CycleKind_descriptor(),
        {{CYCLE_KIND_FIXED, "统一周期"}, {CYCLE_KIND_PER_TEACHER, "个人周期"}});
  }

  absl::Mutex mu_;
  // Enum full name -> number -> label.
  absl::flat_hash_map<std::string, absl::flat_hash_map<int, std::string>> labels_
      ABSL_GUARDED_BY(mu_);
};

// The prefix every value name of `descriptor` carries ("PROFESSIONAL_TITLE_"), taken from its
// *_UNSPECIFIED value; empty when the enum has none.
std::string ValuePrefix(const google::protobuf::EnumDescriptor* descriptor) {
  const google::protobuf::EnumValueDescriptor* zero = descriptor->FindValueByNumber(0);
  constexpr absl::string_view kUnspecified = "UNSPECIFIED";
  if (zero == nullptr || !absl::EndsWith(zero->name(), kUnspecified)) return "";
  return zero->name().substr(0, zero->name().size() - kUnspecified.size());
}

}  // namespace

// ---------------------------------------------------------------------------------------------

absl::StatusOr<std::string> DecodeToUtf8(absl::string_view bytes) {
  if (absl::StartsWith(bytes, "\xFF\xFE") || absl::StartsWith(bytes, "\xFE\xFF")) {
    return absl::InvalidArgumentError(
        "file is UTF-16, which is not accepted; save it as CSV (UTF-8) or CSV (GB18030/GBK)");
  }
  const size_t utf8_bad = FirstInvalidUtf8(bytes);
  if (utf8_bad == absl::string_view::npos) {
    if (absl::StartsWith(bytes, kUtf8Bom)) bytes.remove_prefix(kUtf8Bom.size());
    return std::string(bytes);
  }
  size_t gb_bad = 0;
  absl::StatusOr<std::optional<std::string>> gb = Gb18030ToUtf8(bytes, &gb_bad);
  if (!gb.ok()) return gb.status();
  if (!gb->has_value()) {
    auto byte_at = [&](size_t at) {
      return at < bytes.size()
                 ? absl::StrFormat("byte 0x%02X", static_cast<unsigned char>(bytes[at]))
                 : std::string("the end of the file");
    };
    return absl::InvalidArgumentError(
        absl::StrCat("file is neither UTF-8 nor GB18030: as UTF-8 it breaks at byte offset ",
                     utf8_bad, " (", byte_at(utf8_bad), "), as GB18030 at byte offset ", gb_bad,
                     " (", byte_at(gb_bad), "); save it as CSV (UTF-8) or CSV (GB18030/GBK)"));
  }
  std::string out = std::move(**gb);
  // GB18030 has a BOM of its own (84 31 95 33), which decodes to U+FEFF.
  if (absl::StartsWith(out, kUtf8Bom)) out.erase(0, kUtf8Bom.size());
  return out;
}

absl::StatusOr<CsvTable> ParseCsv(absl::string_view utf8) {
  if (absl::StartsWith(utf8, kUtf8Bom)) utf8.remove_prefix(kUtf8Bom.size());
  if (absl::Status cells = CheckCellLengths(utf8); !cells.ok()) return cells;

  std::unique_ptr<csv_parser, ParserCloser> parser(new csv_parser);
  if (csv_init(parser.get(), CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL | CSV_APPEND_NULL) != 0) {
    return absl::InternalError("libcsv: cannot initialise a parser");
  }
  ParseState state;
  const size_t parsed =
      csv_parse(parser.get(), utf8.data(), utf8.size(), OnField, OnRowEnd, &state);
  if (parsed != utf8.size()) {
    const int error = csv_error(parser.get());
    if (error == CSV_EPARSE) {
      return absl::InvalidArgumentError(absl::StrCat(
          "CSV row ", state.records_done + 1, ": malformed quoting at byte offset ", parsed,
          " (a quote inside an unquoted cell, or text after a closing quote); put the whole cell "
          "in double quotes and double any quote inside it"));
    }
    return absl::InternalError(absl::StrCat("libcsv: ", csv_strerror(error)));
  }
  if (csv_fini(parser.get(), OnField, OnRowEnd, &state) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CSV row ", state.records_done + 1,
        ": a quoted cell is never closed (a double quote is missing before the end of the file)"));
  }

  CsvTable table;
  size_t next = 0;
  // The header is the first row with any non-empty cell.
  while (next < state.records.size() && AllEmpty(state.records[next].second)) ++next;
  if (next == state.records.size()) {
    return absl::InvalidArgumentError("CSV file is empty: it needs a header row and data rows");
  }
  table.header_row = state.records[next].first;
  table.header = std::move(state.records[next].second);
  ++next;
  // Excel leaves trailing empty header cells behind formatted but empty columns.
  while (!table.header.empty() && absl::StripAsciiWhitespace(table.header.back()).empty()) {
    table.header.pop_back();
  }
  absl::flat_hash_map<std::string, size_t> seen;
  for (size_t i = 0; i < table.header.size(); ++i) {
    std::string& name = table.header[i];
    if (absl::StartsWith(name, "'") && name.size() > 1 && IsFormulaStart(name[1])) {
      name.erase(0, 1);
    }
    name = std::string(absl::StripAsciiWhitespace(name));
    if (name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("CSV header (row ", table.header_row, "): column ", i + 1, " has no name"));
    }
    auto [it, inserted] = seen.emplace(NormalizeName(name), i);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat(
          "CSV header (row ", table.header_row, "): duplicate column '", name, "' (columns ",
          it->second + 1, " and ", i + 1, "); each column may appear once"));
    }
  }

  const size_t width = table.header.size();
  for (; next < state.records.size(); ++next) {
    auto& [number, cells] = state.records[next];
    if (AllEmpty(cells)) continue;
    while (cells.size() > width && cells.back().empty()) cells.pop_back();
    if (cells.size() > width) {
      return absl::InvalidArgumentError(absl::StrCat("CSV row ", number, ": has ", cells.size(),
                                                     " cells but the header has ", width,
                                                     " columns; quote cells that contain commas"));
    }
    cells.resize(width);
    for (std::string& cell : cells) {
      if (cell.size() > 1 && cell[0] == '\'' && IsFormulaStart(cell[1])) cell.erase(0, 1);
    }
    table.rows.push_back(CsvRow{number, std::move(cells)});
  }
  return table;
}

std::optional<size_t> HeaderMap::Index(absl::string_view key) const {
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

absl::string_view HeaderMap::Cell(const CsvRow& row, absl::string_view key) const {
  auto it = index_.find(key);
  if (it == index_.end() || it->second >= row.cells.size()) return "";
  return row.cells[it->second];
}

absl::string_view HeaderMap::HeaderName(absl::string_view key) const {
  auto it = header_names_.find(key);
  if (it == header_names_.end()) return "";
  return it->second;
}

absl::StatusOr<HeaderMap> MapHeaders(const CsvTable& table, const std::vector<Column>& columns) {
  absl::flat_hash_map<std::string, const Column*> by_name;
  for (const Column& column : columns) {
    for (const std::string& name : column.names) by_name.emplace(NormalizeName(name), &column);
  }
  auto display = [](const Column& column) { return absl::StrJoin(column.names, "/"); };

  HeaderMap map;
  std::vector<RowViolation> violations;
  std::vector<std::string> unknown, duplicate, missing;
  for (size_t i = 0; i < table.header.size(); ++i) {
    const std::string& header = table.header[i];
    auto it = by_name.find(NormalizeName(header));
    if (it == by_name.end()) {
      RowViolation& v = violations.emplace_back();
      v.set_row(table.header_row);
      v.set_column(header);
      v.set_rule("unknown_column");
      std::vector<std::string> allowed;
      allowed.reserve(columns.size());
      for (const Column& column : columns) allowed.push_back(display(column));
      v.set_description(absl::StrCat("unknown column '", header, "'; the columns allowed are ",
                                     absl::StrJoin(allowed, ", ")));
      unknown.push_back(absl::StrCat("'", header, "'"));
      continue;
    }
    const Column& column = *it->second;
    auto [at, inserted] = map.index_.emplace(column.key, i);
    if (!inserted) {
      RowViolation& v = violations.emplace_back();
      v.set_row(table.header_row);
      v.set_column(header);
      v.set_rule("duplicate_column");
      v.set_description(absl::StrCat("column '", header, "' repeats column '",
                                     table.header[at->second], "' (both are ", display(column),
                                     "); keep one"));
      duplicate.push_back(absl::StrCat("'", header, "'"));
      continue;
    }
    map.header_names_.emplace(column.key, header);
  }
  for (const Column& column : columns) {
    if (!column.required || map.index_.contains(column.key)) continue;
    RowViolation& v = violations.emplace_back();
    v.set_row(table.header_row);
    v.set_column(display(column));
    v.set_rule("missing_column");
    v.set_description(absl::StrCat("required column ", display(column), " is missing"));
    missing.push_back(display(column));
  }
  if (violations.empty()) return map;

  std::vector<std::string> parts;
  if (!missing.empty()) {
    parts.push_back(absl::StrCat("missing required columns ", absl::StrJoin(missing, ", ")));
  }
  if (!unknown.empty()) {
    parts.push_back(absl::StrCat("unknown columns ", absl::StrJoin(unknown, ", ")));
  }
  if (!duplicate.empty()) {
    parts.push_back(absl::StrCat("columns given twice ", absl::StrJoin(duplicate, ", ")));
  }
  return WithRowViolations(
      absl::InvalidArgumentError(
          absl::StrCat("CSV header (row ", table.header_row, "): ", absl::StrJoin(parts, "; "))),
      violations);
}

std::string WriteCsv(const std::vector<std::string>& header,
                     const std::vector<std::vector<std::string>>& rows) {
  std::string out(kUtf8Bom);
  AppendRow(header, &out);
  for (const auto& row : rows) AppendRow(row, &out);
  return out;
}

absl::StatusOr<int> EnumFromLabel(const google::protobuf::EnumDescriptor* descriptor,
                                  absl::string_view label, absl::string_view field) {
  const absl::string_view text = absl::StripAsciiWhitespace(label);
  LabelRegistry& registry = LabelRegistry::Get();
  if (std::optional<int> number = registry.NumberOf(descriptor, text); number.has_value()) {
    return *number;
  }
  const std::string prefix = ValuePrefix(descriptor);
  const std::string upper = absl::AsciiStrToUpper(text);
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* value = descriptor->value(i);
    if (value->number() == 0) continue;
    const absl::string_view name = value->name();
    if (upper == name || (!prefix.empty() && absl::StartsWith(name, prefix) &&
                          upper == name.substr(prefix.size()))) {
      return value->number();
    }
  }
  std::vector<std::string> labels, names;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const google::protobuf::EnumValueDescriptor* value = descriptor->value(i);
    if (value->number() == 0) continue;
    if (std::optional<std::string> l = registry.Label(descriptor, value->number())) {
      labels.push_back(*l);
    }
    names.push_back(prefix.empty() ? value->name() : value->name().substr(prefix.size()));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      field.empty() ? "" : absl::StrCat(field, ": "), "'", text, "' is not a ", descriptor->name(),
      "; allowed: ",
      labels.empty() ? "" : absl::StrCat(absl::StrJoin(labels, ", "), " (or the names "),
      absl::StrJoin(names, ", "), labels.empty() ? "" : ")"));
}

std::string EnumLabel(const google::protobuf::EnumDescriptor* descriptor, int value) {
  if (value == 0) return "";
  const google::protobuf::EnumValueDescriptor* v = descriptor->FindValueByNumber(value);
  if (v == nullptr) return "";
  std::optional<std::string> label = LabelRegistry::Get().Label(descriptor, value);
  return label.has_value() ? *label : v->name();
}

absl::Status RegisterEnumLabels(absl::string_view full_enum_name,
                                const std::vector<std::pair<int, std::string>>& labels) {
  return LabelRegistry::Get().Register(full_enum_name, labels);
}

}  // namespace shidang::csv

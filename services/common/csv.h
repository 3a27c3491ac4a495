#pragma once

// CSV in and out for every Shidang service (DESIGN "CSV in", "Enums", "Downloads").
//
// In: the bytes of an upload are decoded to UTF-8 (UTF-8 with or without a BOM, or GB18030, which
// is what Excel in China saves), parsed (RFC 4180 via libcsv), and the header is mapped to the
// columns an importer knows, by Chinese or English name. Problems with the header or with rows are
// INVALID_ARGUMENT carrying a shidang.common.v1.BadRequest payload (status.h's WithRowViolations;
// read it back with BadRequestOf), so the gRPC edge puts every bad row in the error details at
// once. Importers attach their own row problems the same way.
//
// Out: UTF-8 with a BOM and CRLF line ends, so Excel opens it; cells that a spreadsheet would run
// as a formula are defused.
//
// Enums are written as their Chinese labels and read from the label or the value name.

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/generated_enum_reflection.h"

namespace shidang::csv {

// What a download's bytes are, for the response's content type.
inline constexpr char kCsvContentType[] = "text/csv; charset=utf-8";

// The longest cell ParseCsv takes: no field of ours comes near it (the longest hold 4,000
// characters), and a file whose one line is megabytes long (a binary or a file without line
// ends) is refused saying where and what the limit is, not echoed into its errors.
inline constexpr size_t kMaxCsvCellBytes = size_t{64} * 1024;

// DecodeToUtf8()
//
// Returns `bytes` as UTF-8 without a BOM. Strict UTF-8 (no overlong forms, no surrogates, nothing
// above U+10FFFF) is taken as is after dropping a leading BOM; anything else is decoded as GB18030
// (a superset of GBK and GB2312) with ICU. Bytes that are neither are INVALID_ARGUMENT naming the
// byte offsets where each reading fails. UTF-16 (what Excel's "Unicode text" saves) is refused
// with a message that says so.
absl::StatusOr<std::string> DecodeToUtf8(absl::string_view bytes);

// One data row of a CSV file. `number` is its 1-based row number as a spreadsheet shows it (the
// header is row 1; blank rows count); `cells` has exactly one cell per header column.
struct CsvRow {
  int64_t number = 0;
  std::vector<std::string> cells;
};

struct CsvTable {
  std::vector<std::string> header;
  int64_t header_row = 1;
  std::vector<CsvRow> rows;
};

// ParseCsv()
//
// Parses UTF-8 CSV text (RFC 4180: quotes, doubled quotes, commas and line breaks inside quoted
// cells, CRLF or LF line ends). The first non-blank row is the header. Spaces around unquoted
// cells are trimmed; nothing inside quotes is. Rows with only empty cells are skipped but keep
// their place in the numbering. Short rows are padded with empty cells; trailing empty cells past
// the header are dropped. A cell written by WriteCsv's formula guard ('=..., '+..., '-..., '@...)
// gets its leading apostrophe back off. A leading BOM is ignored.
//
// INVALID_ARGUMENT for: an empty file (or one of blank rows only), a duplicate or empty header
// name (names compare case-insensitively), a row with more non-empty cells than the header has
// columns, malformed quoting, and a cell over kMaxCsvCellBytes; each message names the row (and
// the byte offset or column where useful).
absl::StatusOr<CsvTable> ParseCsv(absl::string_view utf8);

// A column an importer knows: its key (the field it fills), the header names it may appear under
// (Chinese and English; names[0] is what WriteCsv-based exports use), and whether a file must
// have it.
struct Column {
  std::string key;
  std::vector<std::string> names;
  bool required = false;
};

// Which column of a parsed file holds which key.
class HeaderMap {
 public:
  HeaderMap() = default;

  bool Has(absl::string_view key) const { return index_.contains(key); }
  // Position of `key`'s column in the file, if the file has it.
  std::optional<size_t> Index(absl::string_view key) const;
  // The cell of `key` in `row`, or "" when the file has no such column.
  absl::string_view Cell(const CsvRow& row, absl::string_view key) const;
  // The header as the file wrote it for `key` (for messages), or "" when absent.
  absl::string_view HeaderName(absl::string_view key) const;

 private:
  friend absl::StatusOr<HeaderMap> MapHeaders(const CsvTable& table,
                                              const std::vector<Column>& columns);
  absl::flat_hash_map<std::string, size_t> index_;
  absl::flat_hash_map<std::string, std::string> header_names_;
};

// MapHeaders()
//
// Maps each header of `table` to one of `columns` by name: Chinese names exactly, English names
// case-insensitively with ' ' and '-' read as '_' ("Birth Date" matches "birth_date"); spaces
// around a header are ignored. Every missing required column, every unknown column and every
// column given twice (e.g. both 姓名 and name) is reported at once: INVALID_ARGUMENT with a
// BadRequest payload holding one RowViolation per problem (row = the header row, column = the
// header as written, or "中文名/english" for a missing one; rule "missing_column",
// "unknown_column" or "duplicate_column").
absl::StatusOr<HeaderMap> MapHeaders(const CsvTable& table, const std::vector<Column>& columns);

// WriteCsv()
//
// A CSV file Excel opens correctly: a UTF-8 BOM, CRLF line ends, and cells quoted when they hold a
// comma, quote, line break or leading/trailing white space (quotes doubled).
//
// Formula injection: a cell beginning with = + - @ (or a tab or carriage return) would be run as a
// formula by a spreadsheet, so it is written with a leading apostrophe ('=1+1), which spreadsheets
// show as text. ParseCsv removes that apostrophe again, so an export re-imports unchanged. The
// cost: a negative number is written as text ('-3).
std::string WriteCsv(const std::vector<std::string>& header,
                     const std::vector<std::vector<std::string>>& rows);

// Enum labels.
//
// Each enum of shidang.common.v1 types.proto and policy.proto has a Chinese label per value (the
// ones in the proto comments); services register labels for their own enums with
// RegisterEnumLabels.

// EnumFromLabel()
//
// The value of `descriptor` named by `label`: its Chinese label ("高级"), its full value name
// ("PROFESSIONAL_TITLE_SENIOR") or the name without the enum's prefix ("SENIOR"); names are
// case-insensitive. The *_UNSPECIFIED value is never accepted. Otherwise INVALID_ARGUMENT naming
// `field` (when given) and listing what is allowed.
absl::StatusOr<int> EnumFromLabel(const google::protobuf::EnumDescriptor* descriptor,
                                  absl::string_view label, absl::string_view field = "");

// The Chinese label of `value`; the value name when no label is registered for it; "" for the
// *_UNSPECIFIED value (0) and for numbers the enum does not define.
std::string EnumLabel(const google::protobuf::EnumDescriptor* descriptor, int value);

// RegisterEnumLabels()
//
// Adds (or replaces) the Chinese labels of values of the enum named `full_enum_name` (e.g.
// "shidang.profile.v1.PostStatus"), which must be in the generated pool (its .pb.cc linked in).
// Safe to call from any thread, any number of times. INVALID_ARGUMENT for an unknown enum, a
// number it does not define, the *_UNSPECIFIED value, an empty label, or a label that another value
// of the same enum already has (a label must name one value).
//
//   RETURN_IF_ERROR(csv::RegisterEnumLabels("shidang.profile.v1.PostStatus",
//                                           {{POST_STATUS_ON_DUTY, "在岗"}, ...}));
absl::Status RegisterEnumLabels(absl::string_view full_enum_name,
                                const std::vector<std::pair<int, std::string>>& labels);

// Typed conveniences: csv::EnumFromLabel<common::v1::Stage>("小学", "stage"),
// csv::EnumLabel(common::v1::STAGE_PRIMARY).
template <typename E, typename = std::enable_if_t<std::is_enum_v<E>>>
absl::StatusOr<E> EnumFromLabel(absl::string_view label, absl::string_view field = "") {
  absl::StatusOr<int> value = EnumFromLabel(google::protobuf::GetEnumDescriptor<E>(), label, field);
  if (!value.ok()) return value.status();
  return static_cast<E>(*value);
}

template <typename E, typename = std::enable_if_t<std::is_enum_v<E>>>
std::string EnumLabel(E value) {
  return EnumLabel(google::protobuf::GetEnumDescriptor<E>(), static_cast<int>(value));
}

}  // namespace shidang::csv

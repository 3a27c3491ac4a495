// The CSV reader over arbitrary bytes: decoding (UTF-8, BOM, GB18030), parsing and header
// mapping must refuse or accept, never crash, hang or read out of bounds.

#include <cstddef>
#include <cstdint>
#include <string>

#include "services/common/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::string> utf8 = shidang::csv::DecodeToUtf8(bytes);
  if (!utf8.ok()) return 0;
  absl::StatusOr<shidang::csv::CsvTable> table = shidang::csv::ParseCsv(*utf8);
  if (!table.ok()) return 0;
  static const std::vector<shidang::csv::Column> columns = {
      {"name", {"姓名", "name"}, true},
      {"national_teacher_id", {"全国教师编号", "national_teacher_id"}, false},
      {"birth_date", {"出生日期", "birth_date"}, false}};
  absl::StatusOr<shidang::csv::HeaderMap> headers = shidang::csv::MapHeaders(*table, columns);
  if (!headers.ok()) return 0;
  for (const shidang::csv::CsvRow& row : table->rows) {
    (void)headers->Cell(row, "name");
  }
  return 0;
}

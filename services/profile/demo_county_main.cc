// shidang-demo-county: writes the roster CSVs of a synthetic county (schools.csv, teachers.csv,
// UTF-8 with a BOM) for the run command's demo data and the benchmarks.
//
//   shidang-demo-county --schools=40 --teachers=1500 --seed=1 --today=2025-09-01 --out_dir=demo

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/dates.h"
#include "services/profile/demo_county.h"

ABSL_FLAG(int32_t, schools, 40, "Number of schools (1..10000).");
ABSL_FLAG(int32_t, teachers, 1500, "Number of teachers (at least one per school).");
ABSL_FLAG(uint64_t, seed, 1, "Seed: the same seed gives the same county.");
ABSL_FLAG(std::string, today, "",
          "The day the county is as of, YYYY-MM-DD (default: today in Asia/Shanghai).");
ABSL_FLAG(std::string, out_dir, ".",
          "Existing directory to write schools.csv and teachers.csv to.");

namespace {

bool WriteFile(const std::string& path, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    std::fprintf(stderr, "shidang-demo-county: cannot open %s: %s\n", path.c_str(),
                 std::strerror(errno));
    return false;
  }
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  if (std::fclose(f) != 0 || !ok) {
    std::fprintf(stderr, "shidang-demo-county: cannot write %s\n", path.c_str());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Writes schools.csv and teachers.csv of a synthetic county for ImportRoster.");
  absl::ParseCommandLine(argc, argv);

  shidang::profile::DemoCountyOptions options;
  options.schools = absl::GetFlag(FLAGS_schools);
  options.teachers = absl::GetFlag(FLAGS_teachers);
  options.seed = absl::GetFlag(FLAGS_seed);
  const std::string today = absl::GetFlag(FLAGS_today);
  if (today.empty()) {
    // China keeps UTC+8 all year, so a fixed zone gives the Asia/Shanghai date without tzdata.
    options.today = absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(8 * 60 * 60));
  } else {
    auto day = shidang::dates::ParseDate(today, "--today");
    if (!day.ok()) {
      std::fprintf(stderr, "shidang-demo-county: %s\n", day.status().ToString().c_str());
      return 2;
    }
    options.today = *day;
  }

  auto county = shidang::profile::GenerateDemoCounty(options);
  if (!county.ok()) {
    std::fprintf(stderr, "shidang-demo-county: %s\n", county.status().ToString().c_str());
    return 2;
  }
  const std::string dir = absl::GetFlag(FLAGS_out_dir);
  const std::string schools_path = absl::StrCat(dir, "/schools.csv");
  const std::string teachers_path = absl::StrCat(dir, "/teachers.csv");
  if (!WriteFile(schools_path, shidang::profile::SchoolsCsv(*county)) ||
      !WriteFile(teachers_path, shidang::profile::TeachersCsv(*county))) {
    return 1;
  }
  std::printf("%s %s: %zu schools in %s, %zu teachers in %s\n", county->county_id.c_str(),
              county->county_name.c_str(), county->schools.size(), schools_path.c_str(),
              county->teachers.size(), teachers_path.c_str());
  return 0;
}

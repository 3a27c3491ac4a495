// shidang-demo-load: loads a synthetic demo county (demo_county.h) into a running profile service:
// the county, its schools and its teachers, through the service's own RPCs. Safe to run twice: the
// requests carry fixed request ids and an existing county is left as it is.

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "services/common/dates.h"
#include "services/common/demo_load.h"
#include "services/common/principal.h"
#include "services/profile/demo_county.h"
#include "shidang/profile/v1/profile.grpc.pb.h"

ABSL_FLAG(std::string, profile, "127.0.0.1:7101", "Address of the profile service.");
ABSL_FLAG(std::string, principal_key_file, "", "Key the services verify principals with.");
ABSL_FLAG(int, schools, 40, "Schools in the demo county.");
ABSL_FLAG(int, teachers, 1500, "Teachers in the demo county.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the generator.");
ABSL_FLAG(std::string, today, "",
          "The day the county is generated for (YYYY-MM-DD); default today.");
ABSL_FLAG(
    std::string, ids_file, "",
    "Where to write a demo teacher's id and school id (teacher_id=... / school_id=... lines), "
    "so demo tokens can be scoped to records that exist.");

namespace shidang::profile {
namespace {

constexpr absl::string_view kProgram = "shidang-demo-load";

int Fail(absl::string_view what, const grpc::Status& status) {
  return demo::FailedCall(kProgram, what, status);
}

// The demo county's generator options from the flags, for `today`.
DemoCountyOptions OptionsFromFlags(absl::CivilDay today) {
  DemoCountyOptions options;
  options.schools = absl::GetFlag(FLAGS_schools);
  options.teachers = absl::GetFlag(FLAGS_teachers);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.today = today;
  return options;
}

// Calls the profile service as the demo loader (an admin).
class Loader {
 public:
  explicit Loader(const PrincipalSigner& signer) : signer_(signer) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_MAX_METADATA_SIZE, 1 << 20);
    args.SetMaxSendMessageSize(16 << 20);
    stub_ = v1::ProfileService::NewStub(grpc::CreateCustomChannel(
        absl::GetFlag(FLAGS_profile), grpc::InsecureChannelCredentials(), args));
    principal_.set_role(common::v1::ROLE_ADMIN);
    principal_.set_subject("demo-loader");
  }

  // Calls `method` with a deadline and the loader's principal.
  template <typename Req, typename Resp>
  grpc::Status Call(grpc::Status (v1::ProfileService::Stub::*method)(grpc::ClientContext*,
                                                                     const Req&, Resp*),
                    const Req& req, Resp* resp) {
    grpc::ClientContext ctx;
    demo::Sign(&ctx, signer_, principal_);
    return (stub_.get()->*method)(&ctx, req, resp);
  }

 private:
  const PrincipalSigner& signer_;
  common::v1::Principal principal_;
  std::unique_ptr<v1::ProfileService::Stub> stub_;
};

// The county (left as it is when it exists), then its schools and teachers.
int LoadCounty(Loader& loader, const DemoCounty& county) {
  v1::CreateCountyRequest create;
  create.set_county_id(county.county_id);
  create.set_name(county.county_name);
  create.set_city_code(county.city_id);
  create.set_city_name(county.city_name);
  create.set_province_code(county.province_id);
  create.set_province_name(county.province_name);
  create.set_request_id("demo-county");
  v1::CreateCountyResponse created;
  grpc::Status s = loader.Call(&v1::ProfileService::Stub::CreateCounty, create, &created);
  if (!s.ok() && s.error_code() != grpc::StatusCode::ALREADY_EXISTS) return Fail("CreateCounty", s);

  for (auto [kind, csv, id] :
       {std::make_tuple(v1::ROSTER_KIND_SCHOOLS, SchoolsCsv(county), "demo-schools"),
        std::make_tuple(v1::ROSTER_KIND_TEACHERS, TeachersCsv(county), "demo-teachers")}) {
    v1::ImportRosterRequest import;
    import.set_county_id(county.county_id);
    import.set_kind(kind);
    import.set_csv(csv);
    import.set_request_id(id);
    v1::ImportRosterResponse imported;
    s = loader.Call(&v1::ProfileService::Stub::ImportRoster, import, &imported);
    if (!s.ok()) return Fail("ImportRoster", s);
    std::printf("%s: %lld rows, %lld created, %lld already there\n",
                kind == v1::ROSTER_KIND_SCHOOLS ? "schools" : "teachers",
                static_cast<long long>(imported.rows()), static_cast<long long>(imported.created()),
                static_cast<long long>(imported.unchanged()));
  }
  std::printf("demo county %s %s loaded\n", county.county_id.c_str(), county.county_name.c_str());
  return 0;
}

// Whether a teacher makes every demo view mean something: at a public compulsory-education
// school that sends teachers to rotate (城区/镇区: its school admin's rotation quota applies),
// teaching six years or more and titled 一级 or above or a backbone teacher (so they may rotate
// and mentor new teachers).
bool FitsTheDemo(const v1::Teacher& t, const v1::School& school, absl::string_view six_years_ago) {
  const bool sends = school.location() == v1::SCHOOL_LOCATION_URBAN ||
                     school.location() == v1::SCHOOL_LOCATION_TOWN;
  const bool senior = t.title() >= common::v1::PROFESSIONAL_TITLE_FIRST_GRADE ||
                      t.backbone_tier() != common::v1::BACKBONE_TIER_UNSPECIFIED;
  return school.compulsory_education() && sends && senior &&
         t.post_status() == v1::POST_STATUS_ON_DUTY && !t.hire_date().empty() &&
         t.hire_date() <= six_years_ago;
}

// A teacher of the county and their school, for demo tokens and accounts scoped to records that
// exist: the first of the first page who fits the demo (FitsTheDemo), else the first.
int WriteIdsFile(Loader& loader, const DemoCounty& county, const std::string& path) {
  v1::ListSchoolsRequest schools_req;
  schools_req.set_county_id(county.county_id);
  schools_req.mutable_page()->set_page_size(500);
  v1::ListSchoolsResponse schools;
  grpc::Status s = loader.Call(&v1::ProfileService::Stub::ListSchools, schools_req, &schools);
  if (!s.ok()) return Fail("ListSchools", s);
  v1::ListTeachersRequest list;
  list.set_county_id(county.county_id);
  list.mutable_page()->set_page_size(500);
  v1::ListTeachersResponse listed;
  s = loader.Call(&v1::ProfileService::Stub::ListTeachers, list, &listed);
  if (!s.ok()) return Fail("ListTeachers", s);
  if (listed.teachers_size() == 0) return 0;
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::FixedTimeZone(8 * 3600));
  const std::string six_years_ago =
      dates::FormatDate(absl::CivilDay(today.year() - 6, today.month(), today.day()));
  const v1::Teacher* chosen = &listed.teachers(0);
  for (const v1::Teacher& t : listed.teachers()) {
    auto school = std::find_if(schools.schools().begin(), schools.schools().end(),
                               [&](const v1::School& x) { return x.school_id() == t.school_id(); });
    if (school != schools.schools().end() && FitsTheDemo(t, *school, six_years_ago)) {
      chosen = &t;
      break;
    }
  }
  std::ofstream out(path);
  out << "teacher_id=" << chosen->teacher_id() << "\n"
      << "school_id=" << chosen->school_id() << "\n";
  return 0;
}

int Run(const PrincipalSigner& signer, absl::CivilDay today) {
  absl::StatusOr<DemoCounty> county = GenerateDemoCounty(OptionsFromFlags(today));
  if (!county.ok()) {
    std::fprintf(stderr, "%s: %s\n", std::string(kProgram).c_str(),
                 county.status().ToString().c_str());
    return 2;
  }
  Loader loader(signer);
  if (int failed = LoadCounty(loader, *county); failed != 0) return failed;
  if (absl::GetFlag(FLAGS_ids_file).empty()) return 0;
  return WriteIdsFile(loader, *county, absl::GetFlag(FLAGS_ids_file));
}

}  // namespace
}  // namespace shidang::profile

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return shidang::demo::RunLoader(
      shidang::profile::kProgram, absl::GetFlag(FLAGS_principal_key_file),
      absl::GetFlag(FLAGS_today), [](shidang::PrincipalSigner signer, absl::CivilDay today) {
        return shidang::profile::Run(signer, today);
      });
}

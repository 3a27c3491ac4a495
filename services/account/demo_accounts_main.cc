// shidang-demo-accounts: one demo account per role in a running account service (deploy/run.sh),
// scoped like the demo tokens: the demo county, a teacher and a school the demo loader made. Writes
// "<role> <username> <password>" lines to --out (mode 0600), which the run command prints. An
// account that exists already gets a new password (ResetPassword), since an initial password is
// shown only once.

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "services/account/rules.h"
#include "services/common/principal.h"
#include "shidang/account/v1/account.grpc.pb.h"

ABSL_FLAG(std::string, account, "127.0.0.1:7105", "Address of the account service.");
ABSL_FLAG(std::string, principal_key_file, "", "Key the services verify principals with.");
ABSL_FLAG(std::string, region, "330723", "The demo county's code.");
ABSL_FLAG(std::string, teacher_id, "", "The demo teacher (empty: no teacher account).");
ABSL_FLAG(std::string, school_id, "demo-school",
          "The demo school (a school id of --region, else no school admin account).");
ABSL_FLAG(std::string, out, "", "File for the usernames and passwords (required).");

namespace shidang::account {
namespace {

using common::v1::Role;

// The demo account's name as the page shows it beside the role ("演示·县教育局人事").
std::string DemoName(Role role) {
  switch (role) {
    case common::v1::ROLE_SCHOOL_ADMIN:
      return "演示·学校管理员";
    case common::v1::ROLE_COUNTY_HR:
      return "演示·县教育局人事";
    case common::v1::ROLE_CITY_HR:
      return "演示·市教育局人事";
    case common::v1::ROLE_PROVINCE_HR:
      return "演示·省教育厅人事";
    case common::v1::ROLE_TRAINING_CENTER:
      return "演示·培训机构";
    default:
      return "演示·管理员";
  }
}

std::vector<v1::Account> DemoAccounts() {
  const std::string region = absl::GetFlag(FLAGS_region);
  std::vector<v1::Account> accounts;
  auto add = [&](Role role, const std::string& username) -> v1::Account& {
    v1::Account& a = accounts.emplace_back();
    a.set_role(role);
    a.set_username(username);
    // A teacher's account takes the teacher's name from the roster (CreateAccount).
    if (role != common::v1::ROLE_TEACHER) a.set_display_name(DemoName(role));
    return a;
  };
  if (!absl::GetFlag(FLAGS_teacher_id).empty()) {
    add(common::v1::ROLE_TEACHER, "demo.teacher").set_teacher_id(absl::GetFlag(FLAGS_teacher_id));
  }
  // A school admin's school must be of their county (rules.h): none without the loader's school.
  if (IsSchoolOfCounty(absl::GetFlag(FLAGS_school_id), region)) {
    v1::Account& school_admin = add(common::v1::ROLE_SCHOOL_ADMIN, "demo.school_admin");
    school_admin.set_school_id(absl::GetFlag(FLAGS_school_id));
    school_admin.set_county_id(region);
  } else {
    std::fprintf(stderr, "shidang-demo-accounts: no school admin account: %s is no school of %s\n",
                 absl::GetFlag(FLAGS_school_id).c_str(), region.c_str());
  }
  add(common::v1::ROLE_COUNTY_HR, "demo.county_hr").set_region(region);
  add(common::v1::ROLE_CITY_HR, "demo.city_hr").set_region(region.substr(0, 4) + "00");
  add(common::v1::ROLE_PROVINCE_HR, "demo.province_hr").set_region(region.substr(0, 2) + "0000");
  // The demo county's teacher development centre: the provider the training demo loader
  // registers its courses under (services/training/demo_load_main.cc --provider_id).
  add(common::v1::ROLE_TRAINING_CENTER, "demo.training_center")
      .set_provider_id(absl::StrCat("P", region, "-TDC"));
  add(common::v1::ROLE_ADMIN, "demo.admin");
  return accounts;
}

int Run() {
  const std::string out = absl::GetFlag(FLAGS_out);
  if (out.empty()) {
    std::fprintf(stderr, "shidang-demo-accounts: --out is required\n");
    return 2;
  }
  absl::StatusOr<PrincipalSigner> signer =
      PrincipalSigner::FromKeyFile(absl::GetFlag(FLAGS_principal_key_file));
  if (!signer.ok()) {
    std::fprintf(stderr, "shidang-demo-accounts: %s\n", signer.status().ToString().c_str());
    return 2;
  }
  auto stub = v1::AccountService::NewStub(
      grpc::CreateChannel(absl::GetFlag(FLAGS_account), grpc::InsecureChannelCredentials()));
  common::v1::Principal me;
  me.set_role(common::v1::ROLE_ADMIN);
  me.set_subject("demo-accounts");
  std::string lines;
  int failures = 0;
  for (const v1::Account& account : DemoAccounts()) {
    auto context = [&] {
      auto ctx = std::make_unique<grpc::ClientContext>();
      ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      signer->Attach(ctx.get(), me);
      return ctx;
    };
    v1::CreateAccountRequest create;
    *create.mutable_account() = account;
    v1::CreateAccountResponse created;
    grpc::Status status = stub->CreateAccount(context().get(), create, &created);
    std::string password = created.initial_password();
    if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS) {
      v1::ResetPasswordRequest reset;
      reset.set_username(account.username());
      v1::ResetPasswordResponse done;
      status = stub->ResetPassword(context().get(), reset, &done);
      password = done.initial_password();
    }
    if (!status.ok()) {
      std::fprintf(stderr, "shidang-demo-accounts: %s: %s\n", account.username().c_str(),
                   status.error_message().c_str());
      ++failures;
      continue;
    }
    absl::StrAppend(&lines, RoleName(account.role()), " ", account.username(), " ", password, "\n");
  }
  const mode_t old_mask = umask(077);
  std::ofstream(out, std::ios::trunc) << lines;
  umask(old_mask);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace shidang::account

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return shidang::account::Run();
}

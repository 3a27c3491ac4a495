#include "services/account/profile_client.h"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace shidang::account {
namespace {

constexpr int kRosterPageSize = 500;

void Prepare(grpc::ClientContext* ctx, const PrincipalSigner& signer) {
  common::v1::Principal me;
  me.set_role(common::v1::ROLE_SERVICE);
  me.set_subject("account");
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  signer.Attach(ctx, me);
}

absl::Status Named(const absl::Status& status, absl::string_view what) {
  return absl::Status(status.code(),
                      absl::StrCat(what, " in the profile service: ", status.message()));
}

}  // namespace

ProfileReader ReaderOverGrpc(std::shared_ptr<profile::v1::ProfileService::StubInterface> stub,
                             const PrincipalSigner& signer) {
  ProfileReader reader;
  reader.teacher =
      [stub, &signer](const std::string& teacher_id) -> absl::StatusOr<profile::v1::Teacher> {
    grpc::ClientContext ctx;
    Prepare(&ctx, signer);
    profile::v1::GetTeacherRequest req;
    req.set_teacher_id(teacher_id);
    profile::v1::GetTeacherResponse resp;
    absl::Status status = FromGrpcStatus(stub->GetTeacher(&ctx, req, &resp));
    if (!status.ok()) return Named(status, "reading the teacher");
    profile::v1::Teacher teacher = std::move(*resp.mutable_teacher());
    teacher.clear_id_card_number();  // never kept, never passed on
    return teacher;
  };
  reader.roster =
      [stub = std::move(stub), &signer](
          const std::string& county_id,
          const std::string& school_id) -> absl::StatusOr<std::vector<profile::v1::Teacher>> {
    std::vector<profile::v1::Teacher> teachers;
    std::string token;
    do {
      grpc::ClientContext ctx;
      Prepare(&ctx, signer);
      profile::v1::ListTeachersRequest req;
      req.set_county_id(county_id);
      req.set_school_id(school_id);
      req.mutable_page()->set_page_size(kRosterPageSize);
      req.mutable_page()->set_page_token(token);
      profile::v1::ListTeachersResponse resp;
      absl::Status status = FromGrpcStatus(stub->ListTeachers(&ctx, req, &resp));
      if (!status.ok()) return Named(status, "reading the roster");
      for (profile::v1::Teacher& t : *resp.mutable_teachers()) {
        t.clear_id_card_number();
        teachers.push_back(std::move(t));
      }
      token = resp.page().next_page_token();
    } while (!token.empty());
    return teachers;
  };
  return reader;
}

}  // namespace shidang::account

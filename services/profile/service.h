#pragma once

// The gRPC edge of the profile service (一师一档案): each method verifies the principal, hands the
// request to its use case and converts the status once (server.h's HandleCall). The use cases
// live in files of their own: schools_and_counties, teachers, moves_and_transfers, timeline,
// growth_file, roster_import, external_events, id_card_reads; who may do what is in access.h.

#include <memory>
#include <string>

#include "services/common/clock.h"
#include "services/common/principal.h"
#include "services/common/redis.h"
#include "services/profile/id_card_vault.h"
#include "services/profile/service_deps.h"
#include "shidang/common/v1/event.pb.h"
#include "shidang/profile/v1/profile.grpc.pb.h"

namespace shidang::profile {

class ProfileServiceImpl final : public v1::ProfileService::Service {
 public:
  ProfileServiceImpl(redis::Pool& pool, const PrincipalSigner& signer, const Clock& clock,
                     const IdCardVault& vault, ProfileOptions options = {});
  ~ProfileServiceImpl() override;

  grpc::Status CreateCounty(grpc::ServerContext*, const v1::CreateCountyRequest*,
                            v1::CreateCountyResponse*) override;
  grpc::Status GetCounty(grpc::ServerContext*, const v1::GetCountyRequest*,
                         v1::GetCountyResponse*) override;
  grpc::Status CreateSchool(grpc::ServerContext*, const v1::CreateSchoolRequest*,
                            v1::CreateSchoolResponse*) override;
  grpc::Status GetSchool(grpc::ServerContext*, const v1::GetSchoolRequest*,
                         v1::GetSchoolResponse*) override;
  grpc::Status ListSchools(grpc::ServerContext*, const v1::ListSchoolsRequest*,
                           v1::ListSchoolsResponse*) override;
  grpc::Status CreateTeacher(grpc::ServerContext*, const v1::CreateTeacherRequest*,
                             v1::CreateTeacherResponse*) override;
  grpc::Status GetTeacher(grpc::ServerContext*, const v1::GetTeacherRequest*,
                          v1::GetTeacherResponse*) override;
  grpc::Status UpdateTeacher(grpc::ServerContext*, const v1::UpdateTeacherRequest*,
                             v1::UpdateTeacherResponse*) override;
  grpc::Status ListTeachers(grpc::ServerContext*, const v1::ListTeachersRequest*,
                            v1::ListTeachersResponse*) override;
  grpc::Status AddTimelineEntry(grpc::ServerContext*, const v1::AddTimelineEntryRequest*,
                                v1::AddTimelineEntryResponse*) override;
  grpc::Status ListTimeline(grpc::ServerContext*, const v1::ListTimelineRequest*,
                            v1::ListTimelineResponse*) override;
  grpc::Status MoveTeacher(grpc::ServerContext*, const v1::MoveTeacherRequest*,
                           v1::MoveTeacherResponse*) override;
  grpc::Status TransferTeacher(grpc::ServerContext*, const v1::TransferTeacherRequest*,
                               v1::TransferTeacherResponse*) override;
  grpc::Status GetGrowthFile(grpc::ServerContext*, const v1::GetGrowthFileRequest*,
                             v1::GetGrowthFileResponse*) override;
  grpc::Status ImportRoster(grpc::ServerContext*, const v1::ImportRosterRequest*,
                            v1::ImportRosterResponse*) override;
  grpc::Status CheckRoster(grpc::ServerContext*, const v1::CheckRosterRequest*,
                           v1::CheckRosterResponse*) override;
  grpc::Status ListIdCardReads(grpc::ServerContext*, const v1::ListIdCardReadsRequest*,
                               v1::ListIdCardReadsResponse*) override;

  // Files another service's event into the teacher's timeline (or, for "<source>.summary" events,
  // into the growth file's summaries). Idempotent per event id. Used by the event consumer.
  absl::Status FileExternalEvent(const common::v1::Event& event);

 private:
  class UseCases;
  const PrincipalSigner& signer_;
  std::unique_ptr<UseCases> use_cases_;
};

}  // namespace shidang::profile

#include "services/profile/service.h"

#include "services/common/server.h"
#include "services/profile/external_events.h"
#include "services/profile/growth_file.h"
#include "services/profile/id_card_reads.h"
#include "services/profile/moves_and_transfers.h"
#include "services/profile/roster_import.h"
#include "services/profile/schools_and_counties.h"
#include "services/profile/service_deps.h"
#include "services/profile/teachers.h"
#include "services/profile/timeline.h"

namespace shidang::profile {

// The use cases, each over the same dependencies.
class ProfileServiceImpl::UseCases {
 public:
  UseCases(redis::Pool& pool, const Clock& clock, const IdCardVault& vault, ProfileOptions options)
      : answers(pool, SealedAnswers(vault)),
        deps(pool, clock, vault, options),
        places(deps),
        teachers(deps),
        moves(deps),
        timeline(deps),
        growth_files(deps),
        rosters(deps),
        id_card_reads(deps) {}

  // Answers are stored sealed: an HR's CreateTeacher answer holds the unmasked ID-card number.
  static AnswerStoreOptions SealedAnswers(const IdCardVault& vault) {
    AnswerStoreOptions options;
    options.seal.seal = [&vault](absl::string_view bytes) { return vault.Seal(bytes); };
    options.seal.open = [&vault](absl::string_view bytes) { return vault.Open(bytes); };
    return options;
  }

  AnswerStore answers;
  ServiceDeps deps;
  SchoolsAndCounties places;
  Teachers teachers;
  MovesAndTransfers moves;
  Timeline timeline;
  GrowthFiles growth_files;
  RosterImport rosters;
  IdCardReads id_card_reads;
};

ProfileServiceImpl::ProfileServiceImpl(redis::Pool& pool, const PrincipalSigner& signer,
                                       const Clock& clock, const IdCardVault& vault,
                                       ProfileOptions options)
    : signer_(signer), use_cases_(std::make_unique<UseCases>(pool, clock, vault, options)) {}

ProfileServiceImpl::~ProfileServiceImpl() = default;

absl::Status ProfileServiceImpl::FileExternalEvent(const common::v1::Event& event) {
  return profile::FileExternalEvent(use_cases_->deps, event);
}

// Each method: HandleCall verifies the principal, runs the use case (which validates the request,
// decides what the principal alone can decide, then reads and writes) and maps its status once.
#define SHIDANG_PROFILE_METHOD(Name, use_case)                                                  \
  grpc::Status ProfileServiceImpl::Name(grpc::ServerContext* ctx, const v1::Name##Request* req, \
                                        v1::Name##Response* resp) {                             \
    return HandleCall(ctx, "shidang.profile.v1.ProfileService/" #Name, signer_,                 \
                      use_cases_->answers, *req, resp, [&](const CallContext& call) {           \
                        return RunOnFreshReads(*req, resp, [&] {                                \
                          return use_cases_->use_case.Name(call, *req, resp);                   \
                        });                                                                     \
                      });                                                                       \
  }

SHIDANG_PROFILE_METHOD(CreateCounty, places)
SHIDANG_PROFILE_METHOD(GetCounty, places)
SHIDANG_PROFILE_METHOD(CreateSchool, places)
SHIDANG_PROFILE_METHOD(GetSchool, places)
SHIDANG_PROFILE_METHOD(ListSchools, places)
SHIDANG_PROFILE_METHOD(CreateTeacher, teachers)
SHIDANG_PROFILE_METHOD(GetTeacher, teachers)
SHIDANG_PROFILE_METHOD(UpdateTeacher, teachers)
SHIDANG_PROFILE_METHOD(ListTeachers, teachers)
SHIDANG_PROFILE_METHOD(AddTimelineEntry, timeline)
SHIDANG_PROFILE_METHOD(ListTimeline, timeline)
SHIDANG_PROFILE_METHOD(MoveTeacher, moves)
SHIDANG_PROFILE_METHOD(TransferTeacher, moves)
SHIDANG_PROFILE_METHOD(GetGrowthFile, growth_files)
SHIDANG_PROFILE_METHOD(ImportRoster, rosters)
SHIDANG_PROFILE_METHOD(CheckRoster, rosters)
SHIDANG_PROFILE_METHOD(ListIdCardReads, id_card_reads)

#undef SHIDANG_PROFILE_METHOD

}  // namespace shidang::profile

#pragma once

// Importing a county's roster (ImportRoster): schools or teachers from a CSV, all or nothing.
// Every bad row is reported at once (roster.h reads the cells; here the rows are checked against
// each other and against the county's records); a good file is written in one script with one
// event per new school or teacher, and a file imported again changes nothing.

#include <cstdint>
#include <functional>
#include <future>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "services/common/server.h"
#include "services/profile/service_deps.h"
#include "shidang/profile/v1/profile.pb.h"

namespace shidang::profile {

class RosterImport {
 public:
  explicit RosterImport(ServiceDeps& deps) : deps_(deps) {}

  absl::Status ImportRoster(const CallContext& call, const v1::ImportRosterRequest& req,
                            v1::ImportRosterResponse* resp);
  // Every problem ImportRoster would refuse the file for, as a CSV, writing nothing (its
  // refusal lists only the first rows: errors are bounded to reach the caller).
  absl::Status CheckRoster(const CallContext& call, const v1::CheckRosterRequest& req,
                           v1::CheckRosterResponse* resp);

 private:
  struct TeacherImport;  // a teacher roster's working state, step by step

  absl::Status ImportSchools(const CallContext& call, const v1::ImportRosterRequest& req,
                             v1::ImportRosterResponse* resp);
  absl::Status ImportTeachers(const CallContext& call, const v1::ImportRosterRequest& req,
                              v1::ImportRosterResponse* resp);
  // The steps of ImportTeachers, in order: the problems (reading, checking against each other,
  // finding on file), then the writes.
  absl::Status FindTeacherProblems(const std::string& county, absl::string_view csv,
                                   TeacherImport& work);
  absl::Status CheckTeacherRows(const std::string& county, TeacherImport& work);
  void FindTeachersOnFile(TeacherImport& work);
  // `teacher_id_of(row)`: the id the row's new teacher gets, whose own claim is not another's.
  void ListNationalClaims(const std::function<std::string(int64_t row)>& teacher_id_of,
                          TeacherImport& work);
  absl::Status FindNumbersTakenElsewhere(
      const std::function<std::string(int64_t row)>& teacher_id_of, TeacherImport& work);
  absl::Status BuildTeacherImport(const CallContext& call, const v1::ImportRosterRequest& req,
                                  TeacherImport& work);
  absl::Status BuildTeacherWrites(const CallContext& call, const v1::ImportRosterRequest& req,
                                  TeacherImport& work);
  absl::Status WriteTeacherImport(const CallContext& call, const v1::ImportRosterRequest& req,
                                  TeacherImport& work, std::future<absl::Status> claimed,
                                  v1::ImportRosterResponse* resp);
  // The national claims of the new rows' numbers (id_card_owners.h), then their homes, on a
  // thread of their own while the writes are built; the county's script waits for them. Not OK:
  // no claim of the file is held.
  std::future<absl::Status> ClaimInBackground(const TeacherImport& work, const std::string& county);
  // INVALID_ARGUMENT naming each row (`rows`, in the claims' order) whose number another teacher
  // took meanwhile, whose claim this call then released with the file's others.
  absl::Status ClaimNumbers(const std::vector<IdCardOwnerClaim>& claims,
                            const std::vector<int64_t>& rows, const std::string& card_column,
                            size_t total_rows);
  void ReleaseClaimsOrLog(const std::vector<IdCardOwnerClaim>& claims);
  // Each new teacher's home county (the routing index), by the teachers its claims are for.
  absl::Status WriteHomes(const std::vector<IdCardOwnerClaim>& new_teachers,
                          const std::string& county);

  ServiceDeps& deps_;
};

}  // namespace shidang::profile

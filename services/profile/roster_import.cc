#include "services/profile/roster_import.h"

#include <algorithm>
#include <functional>
#include <future>
#include <map>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "services/common/call_budget.h"
#include "services/common/dates.h"
#include "services/common/log.h"
#include "services/common/parallel.h"
#include "services/common/redis.h"
#include "services/common/status.h"
#include "services/profile/access.h"
#include "services/profile/background_release.h"
#include "services/profile/entries_and_events.h"
#include "services/profile/id_card_owners.h"
#include "services/profile/new_teacher.h"
#include "services/profile/request_checks.h"
#include "services/profile/roster.h"
#include "services/profile/roster_columns.h"
#include "services/profile/rules.h"
#include "services/profile/teacher_input.h"

namespace shidang::profile {
namespace {

// Redis time a teachers file's rows add to its call's budget: a millisecond a row, room for a
// loaded machine (a 10,000-row file's claim reads, claim scripts and checks ran past the 1 s of a
// plain call with 10-16 processes runnable on 2 cores). A few rows add nothing.
absl::Duration RosterRedisTime(size_t rows) {
  constexpr size_t kRowsInAPlainBudget = 100;
  if (rows <= kRowsInAPlainBudget) return absl::ZeroDuration();
  return absl::Milliseconds(static_cast<int64_t>(rows));
}

// Runs work(i) for i in [0, n) on every core (ForEachSlice); returns the first error of each
// slice. For the per-row work of a roster import, which shares nothing between rows.
std::vector<absl::Status> InParallel(size_t n, const std::function<absl::Status(size_t)>& work) {
  constexpr size_t kMinRowsPerThread = 500;
  std::vector<absl::Status> failures(SliceCount(n, kMinRowsPerThread));
  ForEachSlice(n, kMinRowsPerThread, [&](size_t slice, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      absl::Status s = work(i);
      if (!s.ok()) {
        failures[slice] = std::move(s);
        return;
      }
    }
  });
  return failures;
}

absl::StatusOr<std::map<std::string, v1::School>> SchoolsOf(ProfileStore& store,
                                                            absl::string_view county_id) {
  SHIDANG_ASSIGN_OR_RETURN(std::vector<v1::School> schools, store.ListSchools(county_id));
  std::map<std::string, v1::School> by_id;
  for (v1::School& s : schools) by_id[s.school_id()] = std::move(s);
  return by_id;
}

// Problems in row order (each row's in the order they were found).
void SortByRow(std::vector<common::v1::RowViolation>& problems) {
  std::stable_sort(problems.begin(), problems.end(),
                   [](const auto& a, const auto& b) { return a.row() < b.row(); });
}

// INVALID_ARGUMENT with every problem, in row order.
absl::Status RejectRows(std::vector<common::v1::RowViolation>& problems, size_t rows) {
  SortByRow(problems);
  return RosterRejected(problems, rows);
}

// Who may import into the county, and whether the request names what to import.
absl::Status CheckRosterTarget(ProfileStore& store, const CallContext& call,
                               const std::string& county_id, v1::RosterKind kind) {
  SHIDANG_RETURN_IF_ERROR(CheckCountyId(county_id, "county_id"));
  if (kind == v1::ROSTER_KIND_UNSPECIFIED) {
    return InvalidField("kind", "required", "ROSTER_KIND_SCHOOLS or ROSTER_KIND_TEACHERS");
  }
  SHIDANG_RETURN_IF_ERROR(RequireCountyWrite(call.principal, county_id));
  return store.GetCounty(county_id).status();
}

// The problem with a school row against the county's schools and the rows before it, if any;
// sets `unchanged` when the same school is already on file.
struct SchoolRowChecker {
  std::map<std::string, const v1::School*> by_name, by_code;
  std::map<std::string, int64_t> seen_names, seen_codes;

  const csv::HeaderMap& columns;

  SchoolRowChecker(const std::map<std::string, v1::School>& existing,
                   const csv::HeaderMap& file_columns)
      : columns(file_columns) {
    for (const auto& [id, s] : existing) {
      by_name[s.name()] = &s;
      if (!s.school_code().empty()) by_code[s.school_code()] = &s;
    }
  }

  // Adds the row's problems; true when the row is a new school to create.
  bool Check(const RosterSchool& row, bool* unchanged,
             std::vector<common::v1::RowViolation>* problems) {
    const v1::School& s = row.school;
    const std::string name_column = ColumnAsNamed(columns, roster::kSchoolName);
    const std::string code_column = ColumnAsNamed(columns, roster::kSchoolCode);
    if (auto [it, fresh] = seen_names.emplace(s.name(), row.row); !fresh) {
      problems->push_back(RowProblem(row.row, name_column, "duplicate",
                                     absl::StrCat("same name as row ", it->second)));
    }
    if (!s.school_code().empty()) {
      if (auto [it, fresh] = seen_codes.emplace(s.school_code(), row.row); !fresh) {
        problems->push_back(RowProblem(row.row, code_column, "duplicate",
                                       absl::StrCat("same code as row ", it->second)));
      }
    }
    auto found = by_name.find(s.name());
    if (found != by_name.end()) {
      // Already there: the same school again is fine, a different one under its name is not.
      v1::School same = s;
      same.set_school_id(found->second->school_id());
      if (same.SerializeAsString() == found->second->SerializeAsString()) {
        *unchanged = true;
        return false;
      }
      problems->push_back(RowProblem(row.row, name_column, "exists_different",
                                     absl::StrCat("school ", found->second->school_id(),
                                                  " already has this name with other details; "
                                                  "change it with CreateSchool's successor")));
      return false;
    }
    if (!s.school_code().empty() && by_code.count(s.school_code())) {
      problems->push_back(
          RowProblem(row.row, code_column, "exists",
                     absl::StrCat("code used by school ", by_code[s.school_code()]->school_id())));
      return false;
    }
    return true;
  }
};

// The id a new row's teacher gets: the same on every try of one request.
std::string RowTeacherId(const CallContext& call, const v1::ImportRosterRequest& req, int64_t row) {
  return MakeTeacherId(IdSeed(call.actor, "ImportRoster", req.request_id(),
                              absl::StrCat(req.county_id(), "/", row)));
}

// The "profile.teacher_created" event of an imported row's new teacher, whose stored profile is
// `stored`. One event per new teacher keeps a 10,000-row import one script of reasonable size, so
// the initial title and backbone tier travel on it with their days (no title or designation event
// of their own, as CreateTeacher sends): the rotation service counts backbone rotations from the
// tier, and the mentorship service judges mentors by the title held on a pairing's start day (a
// title without its day would count as held since before any change). Both days are required
// with their values (roster.cc), as CreateTeacher requires them. The event carries the profile
// without phone and email: those and the derived fields are set aside while it is serialised
// instead of copying the whole profile, and `stored` is left as it was.
common::v1::Event ImportedTeacherCreated(const Clock& clock, const CallContext& call,
                                         const std::string& request_id, const RosterTeacher& row,
                                         v1::Teacher& stored) {
  v1::Teacher& payload = stored;
  std::string phone, email, title_on, tier_on;
  payload.mutable_phone()->swap(phone);
  payload.mutable_email()->swap(email);
  const common::v1::ProfessionalTitle stored_title = payload.title();
  const common::v1::BackboneTier stored_tier = payload.backbone_tier();
  payload.mutable_title_conferred_on()->swap(title_on);
  payload.mutable_backbone_designated_on()->swap(tier_on);
  if (row.title != common::v1::PROFESSIONAL_TITLE_UNSPECIFIED) {
    payload.set_title(row.title);
    payload.set_title_conferred_on(row.title_conferred_on);
  }
  payload.set_backbone_tier(row.backbone_tier);
  payload.set_backbone_designated_on(row.backbone_designated_on);
  common::v1::Event created =
      ProfileEvent(clock, "profile.teacher_created",
                   {payload.teacher_id(), payload.county_id(), payload.school_joined_on(),
                    request_id, absl::StrCat("建立档案：", payload.name())},
                   call, payload);
  payload.set_title(stored_title);
  payload.set_backbone_tier(stored_tier);
  payload.mutable_title_conferred_on()->swap(title_on);
  payload.mutable_backbone_designated_on()->swap(tier_on);
  payload.mutable_phone()->swap(phone);
  payload.mutable_email()->swap(email);
  return created;
}

}  // namespace

struct RosterImport::TeacherImport {
  Roster<RosterTeacher> roster;
  // Per row: the normalised ID-card number and its blind index; two claim keys (ID card, national
  // id) and their holders on file.
  std::vector<std::string> numbers, blind_indexes, claim_keys, holders;
  std::vector<size_t> fresh_rows;                 // rows not on file yet
  std::vector<IdCardOwnerClaim> national_claims;  // per fresh row: its number's national claim
  int64_t unchanged = 0;
  std::vector<std::string> sealed;  // per fresh row
  std::vector<TeacherWrite> writes;
  std::vector<common::v1::Event> events;
};

absl::Status RosterImport::ImportRoster(const CallContext& call, const v1::ImportRosterRequest& req,
                                        v1::ImportRosterResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(CheckRosterTarget(deps_.store, call, req.county_id(), req.kind()));
  resp->set_kind(req.kind());
  if (req.kind() == v1::ROSTER_KIND_SCHOOLS) return ImportSchools(call, req, resp);
  return ImportTeachers(call, req, resp);
}

absl::Status RosterImport::CheckRoster(const CallContext& call, const v1::CheckRosterRequest& req,
                                       v1::CheckRosterResponse* resp) {
  const std::string& county = req.county_id();
  SHIDANG_RETURN_IF_ERROR(CheckRosterTarget(deps_.store, call, county, req.kind()));
  std::vector<common::v1::RowViolation> problems;
  size_t rows = 0;
  if (req.kind() == v1::ROSTER_KIND_SCHOOLS) {
    SHIDANG_ASSIGN_OR_RETURN(Roster<RosterSchool> roster, ParseSchoolRoster(req.csv()));
    SHIDANG_ASSIGN_OR_RETURN(auto existing, SchoolsOf(deps_.store, county));
    SchoolRowChecker checker(existing, roster.columns);
    for (RosterSchool& row : roster.rows) {
      row.school.set_county_id(county);  // as ImportSchools compares it
      bool same = false;
      checker.Check(row, &same, &roster.problems);
    }
    rows = roster.rows.size();
    problems = std::move(roster.problems);
  } else {
    TeacherImport work;
    SHIDANG_RETURN_IF_ERROR(FindTeacherProblems(county, req.csv(), work));
    // As ImportTeachers checks. A dry run has no request id, so its rows have no teacher ids:
    // every live claim on a row's number is another teacher's. (Only an import that crashed
    // between its claims and its script leaves claims the same import's retry would find its
    // own; they are reported here until that retry, or their repair, settles them.)
    SHIDANG_RETURN_IF_ERROR(FindNumbersTakenElsewhere([](int64_t) { return std::string(); }, work));
    rows = work.roster.rows.size();
    problems = std::move(work.roster.problems);
    ReleaseInBackground(std::move(work));
  }
  SortByRow(problems);
  resp->set_kind(req.kind());
  resp->set_rows(static_cast<int64_t>(rows));
  resp->set_problems(static_cast<int64_t>(problems.size()));
  SHIDANG_ASSIGN_OR_RETURN(std::string listed, RosterProblemsCsv(req.csv(), req.kind(), problems));
  v1::RosterDownload* download = resp->mutable_download();
  download->set_content(std::move(listed));
  download->set_content_type("text/csv; charset=utf-8");
  download->set_filename(absl::StrCat("roster-problems-", county, ".csv"));
  return absl::OkStatus();
}

absl::Status RosterImport::ImportSchools(const CallContext& call,
                                         const v1::ImportRosterRequest& req,
                                         v1::ImportRosterResponse* resp) {
  const std::string& county = req.county_id();
  SHIDANG_ASSIGN_OR_RETURN(Roster<RosterSchool> roster, ParseSchoolRoster(req.csv()));
  SHIDANG_ASSIGN_OR_RETURN(auto existing, SchoolsOf(deps_.store, county));
  SchoolRowChecker checker(existing, roster.columns);
  const std::string today = dates::FormatDate(deps_.clock.Today());
  std::vector<v1::School> creates;
  std::vector<common::v1::Event> events;
  int64_t unchanged = 0;
  for (RosterSchool& row : roster.rows) {
    v1::School& s = row.school;
    s.set_county_id(county);
    bool same = false;
    if (!checker.Check(row, &same, &roster.problems)) {
      unchanged += same;
      continue;
    }
    s.set_school_id(MakeSchoolId(county, IdSeed(call.actor, "ImportRoster", req.request_id(),
                                                absl::StrCat(county, "/", row.row))));
    const std::string summary = absl::StrCat("新建学校：", s.name());
    events.push_back(ProfileEvent(deps_.clock, "profile.school_created",
                                  {"", county, today, req.request_id(), summary}, call, s));
    creates.push_back(s);
  }
  if (!roster.problems.empty()) return RejectRows(roster.problems, roster.rows.size());
  resp->set_rows(static_cast<int64_t>(roster.rows.size()));
  resp->set_created(static_cast<int64_t>(creates.size()));
  resp->set_unchanged(unchanged);
  if (creates.empty() && req.request_id().empty()) return absl::OkStatus();
  SHIDANG_ASSIGN_OR_RETURN(
      MutationResult result,
      deps_.store.CreateSchools(county, creates, WriteOf(call, "ImportRoster", req),
                                std::move(events), resp->SerializeAsString()));
  if (!resp->ParseFromString(result.payload)) {
    return absl::DataLossError("stored answer unreadable");
  }
  return absl::OkStatus();
}

absl::Status RosterImport::ImportTeachers(const CallContext& call,
                                          const v1::ImportRosterRequest& req,
                                          v1::ImportRosterResponse* resp) {
  TeacherImport work;
  SHIDANG_RETURN_IF_ERROR(FindTeacherProblems(req.county_id(), req.csv(), work));
  auto teacher_id_of = [&](int64_t row) { return RowTeacherId(call, req, row); };
  if (!work.roster.problems.empty()) {
    // The answer lists every problem at once, numbers taken in other counties too.
    SHIDANG_RETURN_IF_ERROR(FindNumbersTakenElsewhere(teacher_id_of, work));
    return RejectRows(work.roster.problems, work.roster.rows.size());
  }
  // The file is valid: its numbers are claimed nationally (Redis's work) while the rows' writes
  // are sealed and built (the service's); the county's script waits for the claims. A number
  // another county holds is refused there, naming the same rows a read would have, and the
  // file's other claims are let go.
  ListNationalClaims(teacher_id_of, work);
  std::future<absl::Status> claimed = ClaimInBackground(work, req.county_id());
  absl::Status built = BuildTeacherImport(call, req, work);
  if (!built.ok()) {
    // Nothing of the county was written: the claims this file took go (step 3).
    if (claimed.get().ok()) ReleaseClaimsOrLog(work.national_claims);
    return built;
  }
  return WriteTeacherImport(call, req, work, std::move(claimed), resp);
}

// The new rows' ID-card numbers sealed in one batch (one keyed context, one draw of nonces), then
// each new row's write and event.
absl::Status RosterImport::BuildTeacherImport(const CallContext& call,
                                              const v1::ImportRosterRequest& req,
                                              TeacherImport& work) {
  std::vector<std::string> fresh_numbers;
  fresh_numbers.reserve(work.fresh_rows.size());
  for (size_t i : work.fresh_rows) fresh_numbers.push_back(std::move(work.numbers[i]));
  SHIDANG_ASSIGN_OR_RETURN(work.sealed, deps_.vault.SealAll(fresh_numbers));
  return BuildTeacherWrites(call, req, work);
}

// The file read and every row checked against the others and the county's records; what is
// wrong is in work.roster.problems.
absl::Status RosterImport::FindTeacherProblems(const std::string& county, absl::string_view csv,
                                               TeacherImport& work) {
  SHIDANG_ASSIGN_OR_RETURN(work.roster, ParseTeacherRoster(csv, deps_.clock.Today()));
  // A teachers file's Redis work grows with its rows (claim reads, one claim script per number,
  // the homes): its budget grows with them, as its write script's timeout does.
  redis::ExtendCallBudget(RosterRedisTime(work.roster.rows.size()));
  SHIDANG_RETURN_IF_ERROR(CheckTeacherRows(county, work));
  SHIDANG_ASSIGN_OR_RETURN(work.holders, deps_.store.ClaimHolders(work.claim_keys));
  FindTeachersOnFile(work);
  return absl::OkStatus();
}

// Each row's school resolved (by id, name or code), duplicates inside the file reported, and the
// claim keys to ask the county's records about.
absl::Status RosterImport::CheckTeacherRows(const std::string& county, TeacherImport& work) {
  std::vector<RosterTeacher>& rows = work.roster.rows;
  std::vector<common::v1::RowViolation>& problems = work.roster.problems;
  SHIDANG_ASSIGN_OR_RETURN(auto schools, SchoolsOf(deps_.store, county));
  std::map<std::string, std::string> school_by_ref;
  for (const auto& [id, s] : schools) {
    school_by_ref[id] = id;
    school_by_ref[s.name()] = id;
    if (!s.school_code().empty()) school_by_ref[s.school_code()] = id;
  }
  // Keyed hashes are independent per row: both cores.
  work.numbers.resize(rows.size());
  work.blind_indexes.resize(rows.size());
  InParallel(rows.size(), [&](size_t i) {
    work.numbers[i] = NormalizeIdCardNumber(rows[i].teacher.id_card_number());
    work.blind_indexes[i] = deps_.vault.BlindIndex(work.numbers[i]);
    return absl::OkStatus();
  });
  // Hashed, not ordered: 20,000 lookups of 16- to 64-byte keys per 10,000-row file.
  absl::flat_hash_map<absl::string_view, int64_t> seen_cards, seen_national;
  work.claim_keys.reserve(2 * rows.size());
  const std::string school_column = ColumnAsNamed(work.roster.columns, roster::kSchool);
  const std::string card_column = ColumnAsNamed(work.roster.columns, roster::kIdCardNumber);
  const std::string national_column =
      ColumnAsNamed(work.roster.columns, roster::kNationalTeacherId);
  for (size_t i = 0; i < rows.size(); ++i) {
    RosterTeacher& row = rows[i];
    auto school = school_by_ref.find(row.school_ref);
    if (school == school_by_ref.end()) {
      problems.push_back(
          RowProblem(row.row, school_column, "unknown_school",
                     absl::StrCat("no school with code, name or id '",
                                  BoundedText(row.school_ref, kMaxViolationTextBytes / 2),
                                  "' in county ", county)));
    } else {
      row.teacher.set_school_id(school->second);
    }
    const std::string& blind = work.blind_indexes[i];
    if (auto [it, fresh] = seen_cards.emplace(blind, row.row); !fresh) {
      problems.push_back(RowProblem(row.row, card_column, "duplicate",
                                    absl::StrCat("same ID-card number as row ", it->second)));
    }
    work.claim_keys.push_back(ProfileStore::IdCardIndexKey(county, blind));
    const std::string& national = row.teacher.national_teacher_id();
    if (!national.empty()) {
      if (auto [it, fresh] = seen_national.emplace(national, row.row); !fresh) {
        problems.push_back(RowProblem(row.row, national_column, "duplicate",
                                      absl::StrCat("same teacher number as row ", it->second)));
      }
    }
    work.claim_keys.push_back(ProfileStore::NationalIdKey(county, national));
  }
  return absl::OkStatus();
}

// The rows to create: every row not on file yet. The same person again (both claims held by one
// teacher) changes nothing; this import does not overwrite records (UpdateTeacher and timeline
// entries do, with their history), so a row whose number another teacher holds is a problem.
void RosterImport::FindTeachersOnFile(TeacherImport& work) {
  const std::vector<RosterTeacher>& rows = work.roster.rows;
  work.fresh_rows.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const RosterTeacher& row = rows[i];
    const std::string& card_holder = work.holders[2 * i];
    const std::string& national_holder =
        row.teacher.national_teacher_id().empty() ? std::string() : work.holders[2 * i + 1];
    if (national_holder.empty() && card_holder.empty()) {
      work.fresh_rows.push_back(i);
    } else if (!national_holder.empty() && !card_holder.empty() && national_holder == card_holder) {
      ++work.unchanged;
    } else {
      const char* key = card_holder.empty() ? roster::kNationalTeacherId : roster::kIdCardNumber;
      work.roster.problems.push_back(
          RowProblem(row.row, ColumnAsNamed(work.roster.columns, key), "exists",
                     absl::StrCat("already recorded for teacher ",
                                  card_holder.empty() ? national_holder : card_holder)));
    }
  }
}

// Per new row, the national claim of its number for the teacher it makes.
void RosterImport::ListNationalClaims(const std::function<std::string(int64_t row)>& teacher_id_of,
                                      TeacherImport& work) {
  work.national_claims.clear();
  work.national_claims.reserve(work.fresh_rows.size());
  for (size_t i : work.fresh_rows) {
    work.national_claims.push_back(
        {work.blind_indexes[i], teacher_id_of(work.roster.rows[i].row), ""});
  }
}

// The new rows whose number another county's teacher holds (id_card_owners.h), reported as the
// in-county case is (the column, rule "exists"), without saying who or where. Read only: a file
// with problems claims nothing.
absl::Status RosterImport::FindNumbersTakenElsewhere(
    const std::function<std::string(int64_t row)>& teacher_id_of, TeacherImport& work) {
  ListNationalClaims(teacher_id_of, work);
  SHIDANG_ASSIGN_OR_RETURN(std::vector<bool> taken, TakenByOthers(deps_, work.national_claims));
  const std::string card_column = ColumnAsNamed(work.roster.columns, roster::kIdCardNumber);
  for (size_t k = 0; k < taken.size(); ++k) {
    if (!taken[k]) continue;
    work.roster.problems.push_back(RowProblem(work.roster.rows[work.fresh_rows[k]].row, card_column,
                                              "exists", kNumberTakenElsewhere));
  }
  return absl::OkStatus();
}

// The claims, what their refusals name, and the thread they run on get copies: the rows' writes
// are built from `work` meanwhile. Once every claim is held, the new teachers' homes (the
// routing index: idempotent, ids derive from the request id when there is one) are written
// there too; a refused claim leaves none.
std::future<absl::Status> RosterImport::ClaimInBackground(const TeacherImport& work,
                                                          const std::string& county) {
  std::vector<int64_t> rows;
  rows.reserve(work.fresh_rows.size());
  for (size_t i : work.fresh_rows) rows.push_back(work.roster.rows[i].row);
  return std::async(
      std::launch::async, [this, claims = work.national_claims, rows = std::move(rows),
                           column = ColumnAsNamed(work.roster.columns, roster::kIdCardNumber),
                           total = work.roster.rows.size(), county] {
        // On a helper thread, where the call's budget is not open: one of its own, by the rows.
        redis::BeginCallBudget(absl::InfiniteFuture(), deps_.pool.config().command_timeout +
                                                           RosterRedisTime(claims.size()));
        absl::Status claimed = ClaimNumbers(claims, rows, column, total);
        if (claimed.ok()) {
          claimed = WriteHomes(claims, county);
          // No script runs after this: the claims go with it.
          if (!claimed.ok()) ReleaseClaimsOrLog(claims);
        }
        redis::EndCallBudget();
        return claimed;
      });
}

absl::Status RosterImport::ClaimNumbers(const std::vector<IdCardOwnerClaim>& claims,
                                        const std::vector<int64_t>& rows,
                                        const std::string& card_column, size_t total_rows) {
  SHIDANG_ASSIGN_OR_RETURN(std::vector<bool> refused, ClaimIdCards(deps_, claims));
  std::vector<common::v1::RowViolation> problems;
  std::vector<IdCardOwnerClaim> claimed;
  for (size_t k = 0; k < refused.size(); ++k) {
    if (!refused[k]) {
      claimed.push_back(claims[k]);
      continue;
    }
    problems.push_back(RowProblem(rows[k], card_column, "exists", kNumberTakenElsewhere));
  }
  if (problems.empty()) return absl::OkStatus();
  SHIDANG_RETURN_IF_ERROR(ReleaseIdCardClaims(deps_, claimed));
  return RejectRows(problems, total_rows);
}

void RosterImport::ReleaseClaimsOrLog(const std::vector<IdCardOwnerClaim>& claims) {
  absl::Status released = ReleaseIdCardClaims(deps_, claims);
  if (!released.ok()) LogWarning("id_card_owner release failed: ", released.ToString());
}

// Each new row's write and event, built on every core: ids, entries and events are hashes,
// random draws and serialisations, independent per row.
absl::Status RosterImport::BuildTeacherWrites(const CallContext& call,
                                              const v1::ImportRosterRequest& req,
                                              TeacherImport& work) {
  const std::string& county = req.county_id();
  work.writes.resize(work.fresh_rows.size());
  work.events.resize(work.fresh_rows.size());
  std::vector<absl::Status> failures = InParallel(work.fresh_rows.size(), [&](size_t k) {
    RosterTeacher& row = work.roster.rows[work.fresh_rows[k]];
    std::string seed =
        IdSeed(call.actor, "ImportRoster", req.request_id(), absl::StrCat(county, "/", row.row));
    row.teacher.set_county_id(county);
    row.teacher.set_teacher_id(MakeTeacherId(seed));  // RowTeacherId
    SealedIdCard card{std::move(work.sealed[k]), std::move(work.blind_indexes[work.fresh_rows[k]])};
    InitialRecords initial;
    initial.title = row.title;
    initial.title_conferred_on = row.title_conferred_on;
    initial.tier = row.backbone_tier;
    initial.tier_designated_on = row.backbone_designated_on;
    absl::StatusOr<TeacherWrite> w = NewTeacherWrite(deps_, call, std::move(row.teacher),
                                                     req.request_id(), seed, initial, &card);
    if (!w.ok()) return w.status();
    work.events[k] = ImportedTeacherCreated(deps_.clock, call, req.request_id(), row, *w->teacher);
    work.writes[k] = std::move(*w);
    return absl::OkStatus();
  });
  for (const absl::Status& failure : failures) SHIDANG_RETURN_IF_ERROR(failure);
  return absl::OkStatus();
}

// The script waits for the claims and homes (`claimed`, ClaimInBackground). The import's working
// state is dead once the script has answered: freed off the answer's path.
absl::Status RosterImport::WriteTeacherImport(const CallContext& call,
                                              const v1::ImportRosterRequest& req,
                                              TeacherImport& work,
                                              std::future<absl::Status> claimed,
                                              v1::ImportRosterResponse* resp) {
  const std::string& county = req.county_id();
  resp->set_rows(static_cast<int64_t>(work.roster.rows.size()));
  resp->set_created(static_cast<int64_t>(work.writes.size()));
  resp->set_unchanged(work.unchanged);
  std::vector<IdCardOwnerClaim> claims = std::move(work.national_claims);
  // A refused claim stops the script: its rows are the answer.
  absl::Status claims_status;
  auto claims_held = [&]() -> absl::Status {
    claims_status = claimed.get();
    return claims_status;
  };
  const bool nothing_to_write = work.writes.empty() && req.request_id().empty();
  absl::StatusOr<MutationResult> result = [&]() -> absl::StatusOr<MutationResult> {
    if (nothing_to_write) {
      SHIDANG_RETURN_IF_ERROR(claims_held());
      return MutationResult();
    }
    return deps_.store.WriteTeachers(county, work.writes, WriteOf(call, "ImportRoster", req),
                                     std::move(work.events), resp->SerializeAsString(),
                                     claims_held);
  }();
  // Whatever stopped before the script, the claims are settled before `work` goes.
  if (claimed.valid()) claims_status = claimed.get();
  ReleaseInBackground(std::move(work));
  if (!result.ok() && !absl::IsUnavailable(result.status()) && claims_status.ok()) {
    // Step 3 of id_card_owners.h: the county refused the file, so its claims go (a refused claim
    // released the file's others itself).
    ReleaseClaimsOrLog(claims);
  }
  SHIDANG_RETURN_IF_ERROR(result.status());
  if (nothing_to_write) return absl::OkStatus();
  ReleaseInBackground(std::move(result->stream_entry_ids));
  if (!resp->ParseFromString(result->payload)) {
    return absl::DataLossError("stored answer unreadable");
  }
  return absl::OkStatus();
}

// One SET per teacher, since each key has its teacher's own hash tag (an MSET would span slots on
// a cluster).
absl::Status RosterImport::WriteHomes(const std::vector<IdCardOwnerClaim>& new_teachers,
                                      const std::string& county) {
  std::vector<redis::Args> homes;
  homes.reserve(new_teachers.size());
  for (const IdCardOwnerClaim& t : new_teachers) {
    homes.push_back({"SET", ProfileStore::HomeKey(t.teacher_id), county});
  }
  if (homes.empty()) return absl::OkStatus();
  SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, deps_.pool.Pipeline(homes));
  for (const redis::Reply& r : replies) SHIDANG_RETURN_IF_ERROR(r.ToStatus());
  return absl::OkStatus();
}

}  // namespace shidang::profile

#include "services/profile/teachers.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/field_mask_util.h"
#include "services/common/dates.h"
#include "services/common/log.h"
#include "services/common/principal.h"
#include "services/common/status.h"
#include "services/profile/access.h"
#include "services/profile/entries_and_events.h"
#include "services/profile/id_card_owners.h"
#include "services/profile/new_teacher.h"
#include "services/profile/request_checks.h"
#include "services/profile/rules.h"
#include "services/profile/schools_and_counties.h"
#include "services/profile/teacher_input.h"
#include "services/profile/teacher_view.h"

namespace shidang::profile {
namespace {

using google::protobuf::util::FieldMaskUtil;

// The day an initial title or tier was conferred, when `given`: a date, and not after today (it
// becomes a timeline entry of what happened).
void CheckInitialDay(bool given, const std::string& day, absl::string_view field,
                     absl::string_view with, absl::CivilDay today, absl::Status* bad) {
  if (!given) return;
  absl::StatusOr<absl::CivilDay> parsed = dates::ParseDate(day);
  if (!parsed.ok()) {
    AddFieldViolation(bad, field, "date_format",
                      absl::StrCat("required with ", with, ": a date YYYY-MM-DD"));
  } else if (*parsed > today) {
    AddFieldViolation(
        bad, field, "not_future",
        absl::StrCat(day, " is after today; on or before today, ", dates::FormatDate(today)));
  }
}

// Every problem with a new teacher's fields, and the dates its initial title and tier need.
absl::Status CheckNewTeacher(const v1::CreateTeacherRequest& req, absl::CivilDay today) {
  const v1::Teacher& teacher = req.teacher();
  if (!teacher.county_id().empty() && teacher.county_id() != req.county_id()) {
    return InvalidField("teacher.county_id", "mismatch", "must be empty or equal county_id");
  }
  if (!teacher.teacher_id().empty()) {
    return InvalidField("teacher.teacher_id", "output_only",
                        "is made by the platform: leave it empty");
  }
  absl::Status bad = ProblemsToStatus(CheckTeacherInput(teacher, today), "teacher.");
  CheckInitialDay(req.initial_title().title() != 0, req.initial_title_conferred_on(),
                  "initial_title_conferred_on", "initial_title", today, &bad);
  CheckInitialDay(req.initial_backbone().tier() != 0, req.initial_backbone_designated_on(),
                  "initial_backbone_designated_on", "initial_backbone", today, &bad);
  return bad;
}

FieldMaskUtil::MergeOptions ReplacingMerge() {
  FieldMaskUtil::MergeOptions options;
  options.set_replace_repeated_fields(true);
  options.set_replace_message_fields(true);
  return options;
}

// The paths of `mask` whose values differ between `current` and `updated` (the ID-card number,
// stored sealed, by `id_card_changes`).
std::vector<std::string> ChangedPaths(const v1::Teacher& current, const v1::Teacher& updated,
                                      const google::protobuf::FieldMask& mask,
                                      bool id_card_changes) {
  std::vector<std::string> changed;
  for (const std::string& path : mask.paths()) {
    if (path == "id_card_number") {
      if (id_card_changes) changed.push_back(path);
      continue;
    }
    v1::Teacher a, b;
    google::protobuf::FieldMask one;
    one.add_paths(path);
    FieldMaskUtil::MergeMessageTo(current, one, ReplacingMerge(), &a);
    FieldMaskUtil::MergeMessageTo(updated, one, ReplacingMerge(), &b);
    if (a.SerializeAsString() != b.SerializeAsString()) changed.push_back(path);
  }
  return changed;
}

// The claims an update takes and lets go of when it changes the ID-card number or the national
// teacher id (the new number sealed into the write).
absl::Status ClaimChangedIdentity(const IdCardVault& vault, const v1::Teacher& current,
                                  const v1::Teacher& updated, const std::string& old_number,
                                  const std::string& new_number, TeacherWrite* w) {
  const std::string& county = current.county_id();
  if (new_number != old_number) {
    SHIDANG_ASSIGN_OR_RETURN(w->sealed_id_card, vault.Seal(new_number));
    w->claims.push_back({ProfileStore::IdCardIndexKey(county, vault.BlindIndex(new_number)),
                         "teacher.id_card_number"});
    if (!old_number.empty()) {
      w->release_claims.push_back(
          ProfileStore::IdCardIndexKey(county, vault.BlindIndex(old_number)));
    }
  }
  if (updated.national_teacher_id() != current.national_teacher_id()) {
    if (!updated.national_teacher_id().empty()) {
      w->claims.push_back({ProfileStore::NationalIdKey(county, updated.national_teacher_id()),
                           "teacher.national_teacher_id"});
    }
    if (!current.national_teacher_id().empty()) {
      w->release_claims.push_back(
          ProfileStore::NationalIdKey(county, current.national_teacher_id()));
    }
  }
  return absl::OkStatus();
}

// The national claims of an update that changes the ID-card number (id_card_owners.h): the new
// number's, taken before the county's script (ALREADY_EXISTS when another teacher holds it), and
// the old number's, released once the script has run.
struct NumberChange {
  std::vector<IdCardOwnerClaim> taken;
  std::vector<IdCardOwnerClaim> replaced;
};

absl::StatusOr<NumberChange> ClaimChangedNumber(ServiceDeps& deps, const std::string& teacher_id,
                                                const std::string& old_number,
                                                const std::string& new_number) {
  NumberChange change;
  if (new_number == old_number) return change;
  change.taken.push_back({deps.vault.BlindIndex(new_number), teacher_id, ""});
  SHIDANG_ASSIGN_OR_RETURN(std::vector<bool> refused, ClaimIdCards(deps, change.taken));
  if (refused[0]) return NumberTakenElsewhere("teacher.id_card_number");
  if (!old_number.empty()) {
    change.replaced.push_back({deps.vault.BlindIndex(old_number), teacher_id, ""});
  }
  return change;
}

// Step 3 of id_card_owners.h after the county's script answered `written`: a refusal releases
// the new number's claim, a write the old number's. An unknown outcome (UNAVAILABLE) keeps both:
// the retry or a later claim settles them. A release that fails is repaired by a later claim.
void SettleNumberChange(ServiceDeps& deps, const NumberChange& change,
                        const absl::Status& written) {
  if (absl::IsUnavailable(written)) return;
  absl::Status released = ReleaseIdCardClaims(deps, written.ok() ? change.replaced : change.taken);
  if (!released.ok()) LogWarning("id_card_owner release failed: ", released.ToString());
}

// Filters tested on the stored record.
bool PassesRecordFilters(const v1::ListTeachersRequest& req, const v1::Teacher& t) {
  if (!req.subject().empty() &&
      std::find(t.subjects().begin(), t.subjects().end(), req.subject()) == t.subjects().end()) {
    return false;
  }
  if (req.stage() != 0 && t.stage() != req.stage()) return false;
  if (req.has_staffed() && t.staffed() != req.staffed()) return false;
  return true;
}

// Filters that need the values derived from the timeline, tested on the view.
bool PassesDerivedFilters(const v1::ListTeachersRequest& req, const v1::Teacher& view) {
  if (req.title() != 0 && view.title() != req.title()) return false;
  if (req.backbone_tier() != 0 && view.backbone_tier() != req.backbone_tier()) return false;
  if (req.post_status() != 0 && view.post_status() != req.post_status()) return false;
  return true;
}

// Where a listing resumes: "<county>/<last teacher id>", base64url.
struct TeacherPageToken {
  std::string county;
  std::string after;
};

absl::StatusOr<TeacherPageToken> ParseTeacherPageToken(absl::string_view token) {
  if (token.empty()) return TeacherPageToken{};
  std::string raw;
  std::vector<std::string> parts;
  if (absl::WebSafeBase64Unescape(token, &raw)) parts = absl::StrSplit(raw, '/');
  if (parts.size() != 2) {
    return InvalidField("page.page_token", "token", "not a token this method returned");
  }
  return TeacherPageToken{parts[0], parts[1]};
}

// The counties a listing of `region` (or of one school in it) walks, in order.
absl::StatusOr<std::vector<std::string>> CountiesToList(ProfileStore& store,
                                                        const std::string& region,
                                                        const std::string& school_id) {
  if (school_id.empty()) return store.CountiesUnder(region);
  // A school's id carries its county: one outside the region is refused before it is read.
  const std::string county = CountyOfSchoolId(school_id);
  auto outside = [&] {
    return InvalidField("school_id", "outside_region",
                        absl::StrCat("school ", school_id, " is not in ", region));
  };
  if (!county.empty() && !RegionCovers(region, county) && region != county) return outside();
  SHIDANG_ASSIGN_OR_RETURN(v1::School school, store.GetSchool(school_id));
  if (!RegionCovers(region, school.county_id()) && region != school.county_id()) return outside();
  return std::vector<std::string>{school.county_id()};
}

}  // namespace

absl::Status Teachers::CreateTeacher(const CallContext& call, const v1::CreateTeacherRequest& req,
                                     v1::CreateTeacherResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.county_id(), "county_id"));
  SHIDANG_RETURN_IF_ERROR(CheckNewTeacher(req, deps_.clock.Today()));
  SHIDANG_RETURN_IF_ERROR(RequireCountyWrite(call.principal, req.county_id()));
  v1::Teacher teacher = req.teacher();
  SHIDANG_RETURN_IF_ERROR(
      CheckSchoolOfCounty(deps_.store, teacher.school_id(), req.county_id(), "teacher.school_id"));
  std::string seed = IdSeed(call.actor, "CreateTeacher", req.request_id(), req.county_id());
  teacher.set_county_id(req.county_id());
  teacher.set_teacher_id(MakeTeacherId(seed));
  InitialRecords initial{
      req.initial_title().title(),   req.initial_title_conferred_on(),     &req.initial_title(),
      req.initial_backbone().tier(), req.initial_backbone_designated_on(), &req.initial_backbone()};
  SHIDANG_ASSIGN_OR_RETURN(TeacherWrite w, NewTeacherWrite(deps_, call, std::move(teacher),
                                                           req.request_id(), seed, initial));
  std::vector<common::v1::Event> events =
      TeacherEvents(deps_.clock, w, call, req.request_id(), /*created=*/true);
  // The number's national claim first (id_card_owners.h), then the routing index: a crash before
  // the script leaves a claim a retry completes and a pointer to nothing. A refusal (an ID-card
  // number or national id taken) takes both back: a refused request writes nothing.
  SHIDANG_ASSIGN_OR_RETURN(
      NumberChange number,
      ClaimChangedNumber(deps_, w.teacher_id, "",
                         NormalizeIdCardNumber(req.teacher().id_card_number())));
  SHIDANG_ASSIGN_OR_RETURN(const bool new_home,
                           deps_.store.SetNewHomeCounty(w.teacher_id, req.county_id()));
  absl::StatusOr<MutationResult> written = deps_.store.WriteTeachers(
      req.county_id(), {w}, WriteOf(call, "CreateTeacher", req), std::move(events), w.teacher_id);
  if (!written.ok() && new_home && !absl::IsUnavailable(written.status())) {
    absl::Status forgotten = deps_.store.ForgetNewHomeCounty(w.teacher_id, req.county_id());
    if (!forgotten.ok()) LogWarning("home of a refused new teacher kept: ", forgotten.ToString());
  }
  SettleNumberChange(deps_, number, written.status());
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result, std::move(written));
  SHIDANG_ASSIGN_OR_RETURN(StoredTeacher stored,
                           deps_.store.GetTeacher(req.county_id(), result.payload));
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_teacher(),
                           TeacherView(deps_, stored, deps_.clock.Today(), call));
  return absl::OkStatus();
}

absl::Status Teachers::GetTeacher(const CallContext& call, const v1::GetTeacherRequest& req,
                                  v1::GetTeacherResponse* resp) {
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(deps_.clock, req.as_of()));
  SHIDANG_ASSIGN_OR_RETURN(StoredTeacher stored,
                           LocateFor(deps_.store, call, req.teacher_id(), TeacherAccess::kRead));
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_teacher(), TeacherView(deps_, stored, as_of, call));
  return absl::OkStatus();
}

absl::Status Teachers::UpdateTeacher(const CallContext& call, const v1::UpdateTeacherRequest& req,
                                     v1::UpdateTeacherResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(ValidateTeacherUpdateMask(req.update_mask()));
  SHIDANG_ASSIGN_OR_RETURN(StoredTeacher found,
                           LocateFor(deps_.store, call, req.teacher_id(), TeacherAccess::kChange));
  const v1::Teacher& current = found.teacher;
  if (!req.etag().empty() && req.etag() != std::to_string(found.version)) {
    return absl::AbortedError(
        absl::StrCat("etag: teacher ", req.teacher_id(), " changed since it was read (etag ",
                     req.etag(), ", now ", found.version, "); read it again and redo the change"));
  }
  std::string old_number;
  if (!found.sealed_id_card.empty()) {
    SHIDANG_ASSIGN_OR_RETURN(old_number, deps_.vault.Open(found.sealed_id_card));
  }
  v1::Teacher updated = current;
  updated.set_id_card_number(old_number);
  FieldMaskUtil::MergeMessageTo(req.teacher(), req.update_mask(), ReplacingMerge(), &updated);
  SHIDANG_RETURN_IF_ERROR(
      ProblemsToStatus(CheckTeacherInput(updated, deps_.clock.Today()), "teacher."));
  const std::string new_number = NormalizeIdCardNumber(updated.id_card_number());
  std::vector<std::string> changed =
      ChangedPaths(current, updated, req.update_mask(), new_number != old_number);
  if (changed.empty()) {
    SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_teacher(),
                             TeacherView(deps_, found, deps_.clock.Today(), call));
    return absl::OkStatus();
  }
  TeacherWrite w;
  w.teacher_id = current.teacher_id();
  w.expect = TeacherWrite::Expect::kVersion;
  w.expected_version = found.version;
  SHIDANG_RETURN_IF_ERROR(
      ClaimChangedIdentity(deps_.vault, current, updated, old_number, new_number, &w));
  updated.clear_id_card_number();
  std::string seed = IdSeed(call.actor, "UpdateTeacher", req.request_id(), req.teacher_id());
  v1::TimelineEntry entry =
      StampedEntry(deps_.clock, v1::TIMELINE_ENTRY_KIND_PROFILE_UPDATED, w.teacher_id,
                   dates::FormatDate(deps_.clock.Today()), call, req.request_id(), seed);
  for (const std::string& path : changed) entry.mutable_profile_updated()->add_changed_fields(path);
  entry.set_summary(absl::StrCat("档案信息修改：", absl::StrJoin(changed, "、")));
  w.entries.push_back(entry);
  w.teacher = updated;
  std::vector<common::v1::Event> events =
      TeacherEvents(deps_.clock, w, call, req.request_id(), /*created=*/false);
  // The entry names only the changed paths; services that copy a teacher's facts (training:
  // hire date, cycle anchor, head-teacher periods) follow the teacher as updated.
  v1::Teacher shared = updated;  // its ID-card number is cleared above
  shared.clear_phone();
  shared.clear_email();
  events.push_back(ProfileEvent(
      deps_.clock, "profile.teacher_updated",
      {w.teacher_id, current.county_id(), entry.occurred_on(), req.request_id(), entry.summary()},
      call, shared));
  SHIDANG_ASSIGN_OR_RETURN(NumberChange number,
                           ClaimChangedNumber(deps_, w.teacher_id, old_number, new_number));
  const absl::Status written =
      deps_.store
          .WriteTeachers(current.county_id(), {w}, WriteOf(call, "UpdateTeacher", req),
                         std::move(events), w.teacher_id)
          .status();
  SettleNumberChange(deps_, number, written);
  SHIDANG_RETURN_IF_ERROR(written);
  SHIDANG_ASSIGN_OR_RETURN(StoredTeacher stored,
                           deps_.store.GetTeacher(current.county_id(), w.teacher_id));
  SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_teacher(),
                           TeacherView(deps_, stored, deps_.clock.Today(), call));
  return absl::OkStatus();
}

absl::Status Teachers::ListTeachers(const CallContext& call, const v1::ListTeachersRequest& req,
                                    v1::ListTeachersResponse* resp) {
  const common::v1::Principal& p = call.principal;
  if (req.county_id().size() != 6 ||
      req.county_id().find_first_not_of("0123456789") != std::string::npos) {
    return InvalidField("county_id", "region_code", "must be a 6-digit GB/T 2260 region code");
  }
  SHIDANG_ASSIGN_OR_RETURN(int page_size, PageSize(req.page()));
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(deps_.clock, req.as_of()));
  SHIDANG_RETURN_IF_ERROR(RequireTeachersList(p, req.county_id(), req.school_id()));
  // A school admin lists their own school.
  const std::string school_id =
      p.role() == common::v1::ROLE_SCHOOL_ADMIN ? p.school_id() : req.school_id();
  SHIDANG_ASSIGN_OR_RETURN(TeacherPageToken token, ParseTeacherPageToken(req.page().page_token()));
  SHIDANG_ASSIGN_OR_RETURN(std::vector<std::string> counties,
                           CountiesToList(deps_.store, req.county_id(), school_id));
  constexpr int kScanLimit = 5000;  // ids read per call at most; a short page has a token
  int scanned = 0;
  std::vector<IdCardReadOf> unmasked_reads;  // recorded with the page, in one round trip
  for (const std::string& county : counties) {
    if (!token.county.empty() && county < token.county) continue;
    if (!ListingShowsCounty(p, county)) continue;
    std::string cursor = county == token.county ? token.after : "";
    while (true) {
      SHIDANG_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                               deps_.store.TeacherIds(county, school_id, cursor, 200));
      if (ids.empty()) break;
      SHIDANG_ASSIGN_OR_RETURN(std::vector<StoredTeacher> stored,
                               deps_.store.GetTeachers(county, ids));
      for (StoredTeacher& s : stored) {
        ++scanned;
        if (!PassesRecordFilters(req, s.teacher)) continue;
        SHIDANG_ASSIGN_OR_RETURN(v1::Teacher view,
                                 TeacherView(deps_, s, as_of, call, &unmasked_reads));
        if (!PassesDerivedFilters(req, view)) {
          // Not in the answer: not read.
          if (!unmasked_reads.empty() && unmasked_reads.back().teacher_id == view.teacher_id()) {
            unmasked_reads.pop_back();
          }
          continue;
        }
        *resp->add_teachers() = std::move(view);
        if (resp->teachers_size() == page_size || scanned >= kScanLimit) {
          resp->mutable_page()->set_next_page_token(
              absl::WebSafeBase64Escape(absl::StrCat(county, "/", s.teacher.teacher_id())));
          return RecordIdCardReads(deps_, call, unmasked_reads);
        }
      }
      cursor = ids.back();
    }
  }
  return RecordIdCardReads(deps_, call, unmasked_reads);
}

}  // namespace shidang::profile

#include "services/profile/service.h"

#include <algorithm>
#include <map>
#include <functional>
#include <set>
#include <future>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/util/field_mask_util.h"
#include "services/common/dates.h"
#include "services/common/log.h"
#include "services/common/parallel.h"
#include "services/common/server.h"
#include "services/common/status.h"
#include "services/profile/background_release.h"
#include "services/profile/roster.h"
#include "services/profile/rules.h"
#include "services/profile/teacher_input.h"

namespace shidang::profile {
namespace {

using common::v1::Principal;
using common::v1::Role;

constexpr char kMethodPrefix[] = "shidang.profile.v1.ProfileService/";
constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 500;

bool IsHr(Role role) {
  return role == common::v1::ROLE_COUNTY_HR || role == common::v1::ROLE_CITY_HR ||
         role == common::v1::ROLE_PROVINCE_HR;
}
bool IsTrusted(Role role) {
  return role == common::v1::ROLE_ADMIN || role == common::v1::ROLE_SERVICE;
}

absl::Status Denied(const Principal& p, absl::string_view what) {
  return absl::PermissionDeniedError(
      absl::StrCat(RoleName(p.role()), " ", p.subject(), " may not ", what));
}

// HR of a region covering the county, an admin, or our own services.
absl::Status RequireCountyWrite(const Principal& p, absl::string_view county_id) {
  if (IsTrusted(p.role())) return absl::OkStatus();
  if (IsHr(p.role()) && RegionCovers(p.region(), county_id)) return absl::OkStatus();
  return Denied(p, absl::StrCat("change records of county ", county_id));
}

absl::Status RequireTeacherRead(const Principal& p, const v1::Teacher& t) {
  if (IsTrusted(p.role())) return absl::OkStatus();
  if (IsHr(p.role()) && RegionCovers(p.region(), t.county_id())) return absl::OkStatus();
  if (p.role() == common::v1::ROLE_SCHOOL_ADMIN && !p.school_id().empty() &&
      p.school_id() == t.school_id()) {
    return absl::OkStatus();
  }
  if (p.role() == common::v1::ROLE_TEACHER && p.subject() == t.teacher_id()) {
    return absl::OkStatus();
  }
  return Denied(p, absl::StrCat("read the file of teacher ", t.teacher_id()));
}

// Entries a school admin may record for teachers of their school; HR records everything.
absl::Status RequireTeacherWrite(const Principal& p, const v1::Teacher& t) {
  if (p.role() == common::v1::ROLE_SCHOOL_ADMIN && !p.school_id().empty() &&
      p.school_id() == t.school_id()) {
    return absl::OkStatus();
  }
  return RequireCountyWrite(p, t.county_id());
}

bool MaySeeIdCard(const Principal& p, const v1::Teacher& t) {
  return (p.role() == common::v1::ROLE_TEACHER && p.subject() == t.teacher_id()) ||
         (IsHr(p.role()) && RegionCovers(p.region(), t.county_id()));
}

bool IsCountyCode(absl::string_view code) {
  return code.size() == 6 && code.find_first_not_of("0123456789") == absl::string_view::npos &&
         !absl::EndsWith(code, "00");
}

absl::Status CheckCountyId(absl::string_view county_id, absl::string_view field) {
  if (!IsCountyCode(county_id)) {
    return InvalidField(field, "county_code",
                        "must be a county's 6-digit GB/T 2260 code (not ending in 00)");
  }
  return absl::OkStatus();
}

absl::StatusOr<int> PageSize(const common::v1::PageRequest& page) {
  if (page.page_size() < 0 || page.page_size() > kMaxPageSize) {
    return InvalidField("page.page_size", "range",
                        absl::StrCat("must be 0 (default ", kDefaultPageSize, ") to ",
                                     kMaxPageSize));
  }
  return page.page_size() == 0 ? kDefaultPageSize : page.page_size();
}

std::string EventTypeOf(v1::TimelineEntryKind kind) {
  switch (kind) {
    case v1::TIMELINE_ENTRY_KIND_TITLE_CONFERRED: return "profile.title_changed";
    case v1::TIMELINE_ENTRY_KIND_BACKBONE_DESIGNATED: return "profile.backbone_designated";
    case v1::TIMELINE_ENTRY_KIND_DESIGNATION: return "profile.designation";
    case v1::TIMELINE_ENTRY_KIND_HONOUR: return "profile.honour";
    case v1::TIMELINE_ENTRY_KIND_APPRAISAL: return "profile.appraisal";
    case v1::TIMELINE_ENTRY_KIND_ETHICS_FINDING: return "profile.ethics_finding";
    case v1::TIMELINE_ENTRY_KIND_POST_STATUS_CHANGED: return "profile.post_status_changed";
    case v1::TIMELINE_ENTRY_KIND_SCHOOL_JOINED: return "profile.school_joined";
    case v1::TIMELINE_ENTRY_KIND_SCHOOL_MOVED: return "profile.moved_school";
    case v1::TIMELINE_ENTRY_KIND_TRANSFERRED: return "profile.transferred_county";
    case v1::TIMELINE_ENTRY_KIND_PROFILE_UPDATED: return "profile.profile_updated";
    case v1::TIMELINE_ENTRY_KIND_CORRECTION: return "profile.correction";
    default: return "profile.timeline_entry";
  }
}

std::string LabelOf(const google::protobuf::EnumDescriptor* d, int value) {
  const auto* v = d->FindValueByNumber(value);
  return v ? v->name() : std::to_string(value);
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

// A one-line Chinese summary for entries the service writes itself (callers write their own).
std::string DefaultSummary(const v1::TimelineEntry& e) {
  switch (e.kind()) {
    case v1::TIMELINE_ENTRY_KIND_SCHOOL_JOINED: return "入职 / 建立档案";
    case v1::TIMELINE_ENTRY_KIND_SCHOOL_MOVED: return "校际调动";
    case v1::TIMELINE_ENTRY_KIND_TRANSFERRED: return "跨县调动";
    case v1::TIMELINE_ENTRY_KIND_TITLE_CONFERRED: return "职称评定";
    case v1::TIMELINE_ENTRY_KIND_BACKBONE_DESIGNATED: return "骨干教师认定";
    case v1::TIMELINE_ENTRY_KIND_PROFILE_UPDATED: return "档案信息修改";
    default: return "档案记录";
  }
}

}  // namespace

class ProfileServiceImpl::Impl {
 public:
  Impl(redis::Pool& pool, const PrincipalSigner& signer, const Clock& clock,
       const IdCardVault& vault)
      : pool_(pool), signer_(signer), clock_(clock), vault_(vault), store_(pool),
        policies_(pool, policy::PolicyStoreOptions{.clock = &clock}) {}

  template <typename Body>
  grpc::Status Handle(grpc::ServerContext* ctx, absl::string_view method, Body body) {
    return HandleCall(ctx, absl::StrCat(kMethodPrefix, method), signer_, body);
  }

  // ---- shared pieces

  WriteContext Write(const CallContext& call, absl::string_view method,
                     const google::protobuf::Message& request) {
    return WriteContext{call.actor, std::string(method), &request};
  }

  common::v1::Event Event(absl::string_view type, absl::string_view teacher_id,
                          absl::string_view county_id, absl::string_view occurred_on,
                          const CallContext& call, absl::string_view request_id,
                          absl::string_view summary, const google::protobuf::Message& payload) {
    common::v1::Event e = NewEvent(kServiceName, type, clock_.Now());
    e.set_teacher_id(std::string(teacher_id));
    e.set_county_id(std::string(county_id));
    e.set_occurred_on(std::string(occurred_on));
    e.set_actor(call.actor);
    e.set_request_id(std::string(request_id));
    e.set_summary(std::string(summary));
    e.mutable_payload()->PackFrom(payload);
    return e;
  }

  v1::TimelineEntry NewEntry(v1::TimelineEntryKind kind, absl::string_view teacher_id,
                             absl::string_view occurred_on, const CallContext& call,
                             absl::string_view request_id, absl::string_view seed) {
    v1::TimelineEntry e;
    e.set_entry_id(MakeEntryId(seed));
    e.set_teacher_id(std::string(teacher_id));
    e.set_kind(kind);
    e.set_occurred_on(std::string(occurred_on));
    e.set_recorded_at_ms(absl::ToUnixMillis(clock_.Now()));
    e.set_actor(call.actor);
    e.set_request_id(std::string(request_id));
    return e;
  }

  absl::StatusOr<absl::CivilDay> AsOf(absl::string_view as_of) {
    if (as_of.empty()) return clock_.Today();
    return dates::ParseDate(as_of, "as_of");
  }

  struct Located {
    std::string county_id;
    StoredTeacher stored;
  };

  absl::StatusOr<Located> Locate(absl::string_view teacher_id) {
    if (teacher_id.empty()) return InvalidField("teacher_id", "required", "required");
    SHIDANG_ASSIGN_OR_RETURN(std::string county, store_.HomeCounty(teacher_id));
    SHIDANG_ASSIGN_OR_RETURN(StoredTeacher stored, store_.GetTeacher(county, teacher_id));
    return Located{county, std::move(stored)};
  }

  // The teacher as a caller sees it on `as_of`: derived values, retirement date, etag and the
  // ID-card number masked unless the caller may see it (each unmasked read is logged).
  absl::StatusOr<v1::Teacher> View(const StoredTeacher& stored, absl::CivilDay as_of,
                                   const CallContext& call) {
    v1::Teacher t = stored.teacher;
    SHIDANG_ASSIGN_OR_RETURN(common::v1::ResolvedPolicy resolved,
                             policies_.Resolve(t.county_id(), as_of));
    const common::v1::Policy& policy = resolved.policy();
    SHIDANG_ASSIGN_OR_RETURN(DerivedValues derived,
                             DeriveCurrentValues(stored.timeline, policy.ethics(), as_of));
    ApplyDerivedValues(derived, &t);
    absl::StatusOr<absl::CivilDay> birth = dates::ParseDate(t.birth_date());
    if (birth.ok()) {
      absl::StatusOr<absl::CivilDay> retire = RetirementDate(*birth, t.sex(), policy.retirement());
      if (retire.ok()) t.set_expected_retirement_date(dates::FormatDate(*retire));
    }
    t.set_etag(std::to_string(stored.version));
    t.clear_id_card_number();
    if (!stored.sealed_id_card.empty()) {
      SHIDANG_ASSIGN_OR_RETURN(std::string number, vault_.Open(stored.sealed_id_card));
      t.set_id_card_masked(MaskIdCard(number));
      if (MaySeeIdCard(call.principal, t)) {
        t.set_id_card_number(number);
        // The audit line names who read whose number, never the number.
        LogInfo(absl::StrCat("audit id_card_unmasked actor=", call.actor, " teacher=",
                             t.teacher_id(), " request_id=", call.request_id));
      }
    }
    return t;
  }

  absl::StatusOr<std::map<std::string, v1::School>> SchoolsOf(absl::string_view county_id) {
    SHIDANG_ASSIGN_OR_RETURN(std::vector<v1::School> schools, store_.ListSchools(county_id));
    std::map<std::string, v1::School> by_id;
    for (v1::School& s : schools) by_id[s.school_id()] = std::move(s);
    return by_id;
  }

  // ---- places

  absl::Status CreateCounty(const CallContext& call, const v1::CreateCountyRequest& req,
                            v1::CreateCountyResponse* resp) {
    const Principal& p = call.principal;
    absl::Status bad;
    if (!IsCountyCode(req.county_id())) {
      AddFieldViolation(&bad, "county_id", "county_code",
                        "must be a county's 6-digit GB/T 2260 code (not ending in 00)");
    }
    if (req.name().empty()) AddFieldViolation(&bad, "name", "required", "required");
    if (IsCountyCode(req.county_id()) &&
        req.city_code() != absl::StrCat(req.county_id().substr(0, 4), "00")) {
      AddFieldViolation(&bad, "city_code", "region_code",
                        "must be the county's city: its first 4 digits then 00");
    }
    if (IsCountyCode(req.county_id()) &&
        req.province_code() != absl::StrCat(req.county_id().substr(0, 2), "0000")) {
      AddFieldViolation(&bad, "province_code", "region_code",
                        "must be the county's province: its first 2 digits then 0000");
    }
    SHIDANG_RETURN_IF_ERROR(bad);
    if (!(IsTrusted(p.role()) ||
          (p.role() == common::v1::ROLE_PROVINCE_HR && RegionCovers(p.region(), req.county_id())))) {
      return Denied(p, absl::StrCat("create county ", req.county_id()));
    }
    v1::County county;
    county.set_county_id(req.county_id());
    county.set_name(req.name());
    county.set_city_code(req.city_code());
    county.set_city_name(req.city_name());
    county.set_province_code(req.province_code());
    county.set_province_name(req.province_name());
    std::vector<common::v1::Event> events = {Event("profile.county_created", "", req.county_id(),
                                                   dates::FormatDate(clock_.Today()), call,
                                                   req.request_id(), "建立县区", county)};
    SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_county(),
                             store_.CreateCounty(county, Write(call, "CreateCounty", req),
                                                 std::move(events)));
    return absl::OkStatus();
  }

  absl::Status GetCounty(const CallContext& call, const v1::GetCountyRequest& req,
                         v1::GetCountyResponse* resp) {
    SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.county_id(), "county_id"));
    (void)call;  // every role may read a county's name
    SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_county(), store_.GetCounty(req.county_id()));
    return absl::OkStatus();
  }

  absl::Status CheckSchool(const v1::School& s, absl::string_view prefix) {
    absl::Status bad;
    if (s.name().empty() || s.name().size() > 150) {
      AddFieldViolation(&bad, absl::StrCat(prefix, "name"), "length", "required: 1 to 50 characters");
    }
    if (s.stage() == 0) AddFieldViolation(&bad, absl::StrCat(prefix, "stage"), "required", "required");
    if (s.ownership() == 0) {
      AddFieldViolation(&bad, absl::StrCat(prefix, "ownership"), "required", "公办 or 民办");
    }
    if (s.location() == 0) {
      AddFieldViolation(&bad, absl::StrCat(prefix, "location"), "required", "城区, 镇区 or 乡村");
    }
    if (s.quality() == 0) {
      AddFieldViolation(&bad, absl::StrCat(prefix, "quality"), "required", "优质, 普通 or 薄弱");
    }
    if (s.kind() == 0) {
      AddFieldViolation(&bad, absl::StrCat(prefix, "kind"), "required",
                        "中心校, 村小, 教学点 or 普通学校");
    }
    return bad;
  }

  absl::Status CreateSchool(const CallContext& call, const v1::CreateSchoolRequest& req,
                            v1::CreateSchoolResponse* resp) {
    SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.county_id(), "county_id"));
    v1::School school;
    school.set_county_id(req.county_id());
    school.set_name(req.name());
    school.set_stage(req.stage());
    school.set_ownership(req.ownership());
    school.set_location(req.location());
    school.set_quality(req.quality());
    school.set_kind(req.kind());
    school.set_compulsory_education(req.compulsory_education());
    school.set_school_code(req.school_code());
    SHIDANG_RETURN_IF_ERROR(CheckSchool(school, ""));
    SHIDANG_RETURN_IF_ERROR(RequireCountyWrite(call.principal, req.county_id()));
    school.set_school_id(MakeSchoolId(
        req.county_id(), IdSeed(call.actor, "CreateSchool", req.request_id(), req.county_id())));
    std::vector<common::v1::Event> events = {
        Event("profile.school_created", "", req.county_id(), dates::FormatDate(clock_.Today()),
              call, req.request_id(), absl::StrCat("新建学校：", school.name()), school)};
    SHIDANG_ASSIGN_OR_RETURN(
        MutationResult result,
        store_.CreateSchools(req.county_id(), {school}, Write(call, "CreateSchool", req),
                             std::move(events), school.SerializeAsString()));
    if (!resp->mutable_school()->ParseFromString(result.payload)) {
      return absl::DataLossError("stored answer unreadable");
    }
    return absl::OkStatus();
  }

  absl::Status RequireSchoolRead(const Principal& p, const v1::School& s) {
    if (IsTrusted(p.role())) return absl::OkStatus();
    if (IsHr(p.role()) && RegionCovers(p.region(), s.county_id())) return absl::OkStatus();
    if (p.role() == common::v1::ROLE_SCHOOL_ADMIN && p.school_id() == s.school_id()) {
      return absl::OkStatus();
    }
    if (p.role() == common::v1::ROLE_TEACHER) {
      // A teacher may read their own school.
      absl::StatusOr<std::string> county = store_.HomeCounty(p.subject());
      if (county.ok()) {
        absl::StatusOr<StoredTeacher> t = store_.GetTeacher(*county, p.subject());
        if (t.ok() && t->teacher.school_id() == s.school_id()) return absl::OkStatus();
      }
    }
    return Denied(p, absl::StrCat("read school ", s.school_id()));
  }

  absl::Status GetSchool(const CallContext& call, const v1::GetSchoolRequest& req,
                         v1::GetSchoolResponse* resp) {
    if (req.school_id().empty()) return InvalidField("school_id", "required", "required");
    SHIDANG_ASSIGN_OR_RETURN(v1::School school, store_.GetSchool(req.school_id()));
    SHIDANG_RETURN_IF_ERROR(RequireSchoolRead(call.principal, school));
    *resp->mutable_school() = std::move(school);
    return absl::OkStatus();
  }

  absl::Status ListSchools(const CallContext& call, const v1::ListSchoolsRequest& req,
                           v1::ListSchoolsResponse* resp) {
    const Principal& p = call.principal;
    if (req.county_id().size() != 6) {
      return InvalidField("county_id", "region_code", "must be a 6-digit GB/T 2260 region code");
    }
    SHIDANG_ASSIGN_OR_RETURN(int page_size, PageSize(req.page()));
    bool school_admin = p.role() == common::v1::ROLE_SCHOOL_ADMIN;
    if (!school_admin && !IsTrusted(p.role()) &&
        !(IsHr(p.role()) && (RegionCovers(p.region(), req.county_id()) ||
                             p.region() == req.county_id()))) {
      return Denied(p, absl::StrCat("list the schools of ", req.county_id()));
    }
    SHIDANG_ASSIGN_OR_RETURN(std::vector<std::string> counties,
                             store_.CountiesUnder(req.county_id()));
    // Page token: the last school id returned (school ids sort by county first).
    const std::string& after = req.page().page_token();
    for (const std::string& county : counties) {
      if (!after.empty() && county < after.substr(1, 6)) continue;
      SHIDANG_ASSIGN_OR_RETURN(std::vector<v1::School> schools, store_.ListSchools(county));
      for (v1::School& s : schools) {
        if (!after.empty() && s.school_id() <= after) continue;
        if (school_admin && s.school_id() != p.school_id()) continue;
        if (!IsTrusted(p.role()) && IsHr(p.role()) && !RegionCovers(p.region(), s.county_id())) {
          continue;
        }
        if (resp->schools_size() == page_size) {
          resp->mutable_page()->set_next_page_token(resp->schools().rbegin()->school_id());
          return absl::OkStatus();
        }
        *resp->add_schools() = std::move(s);
      }
    }
    return absl::OkStatus();
  }

  // ---- teachers

  // The school must be of the county; the teacher's county and school are filled.
  absl::Status CheckSchoolOfCounty(absl::string_view school_id, absl::string_view county_id,
                                   absl::string_view field) {
    if (school_id.empty()) return InvalidField(field, "required", "required: a school of the county");
    absl::StatusOr<v1::School> school = store_.GetSchool(school_id);
    if (!school.ok() || school->county_id() != county_id) {
      if (!school.ok() && !absl::IsNotFound(school.status())) return school.status();
      return InvalidField(field, "unknown_school",
                          absl::StrCat("no school ", school_id, " in county ", county_id));
    }
    return absl::OkStatus();
  }

  // An ID-card number already sealed and indexed (a roster seals all its new rows at once).
  struct SealedIdCard {
    std::string sealed;
    std::string blind_index;
  };

  // The entries and claims of a new teacher (CreateTeacher and ImportRoster share them).
  absl::StatusOr<TeacherWrite> NewTeacherWrite(
      const CallContext& call, v1::Teacher teacher, absl::string_view request_id,
      absl::string_view seed, common::v1::ProfessionalTitle title, absl::string_view title_on,
      const v1::TitleConferredDetail* title_detail, common::v1::BackboneTier tier,
      absl::string_view tier_on, const v1::BackboneDesignatedDetail* tier_detail,
      SealedIdCard* sealed = nullptr) {
    TeacherWrite w;
    w.teacher_id = teacher.teacher_id();
    w.expect = TeacherWrite::Expect::kAbsent;
    const std::string& county = teacher.county_id();
    if (sealed != nullptr) {
      w.sealed_id_card = std::move(sealed->sealed);
      w.claims.push_back({ProfileStore::IdCardIndexKey(county, sealed->blind_index),
                          "id_card_number"});
    } else {
      std::string number = NormalizeIdCardNumber(teacher.id_card_number());
      SHIDANG_ASSIGN_OR_RETURN(w.sealed_id_card, vault_.Seal(number));
      w.claims.push_back({ProfileStore::IdCardIndexKey(county, vault_.BlindIndex(number)),
                          "id_card_number"});
    }
    if (!teacher.national_teacher_id().empty()) {
      w.claims.push_back({ProfileStore::NationalIdKey(county, teacher.national_teacher_id()),
                          "national_teacher_id"});
    }
    w.add_to_sets.push_back(ProfileStore::SchoolIndexKey(county, teacher.school_id()));
    w.add_to_sets.push_back(ProfileStore::TeachersKey(county));
    if (teacher.school_joined_on().empty()) teacher.set_school_joined_on(teacher.hire_date());
    teacher.clear_id_card_number();

    v1::TimelineEntry joined = NewEntry(v1::TIMELINE_ENTRY_KIND_SCHOOL_JOINED, w.teacher_id,
                                        teacher.school_joined_on(), call, request_id,
                                        absl::StrCat(seed, "/joined"));
    joined.mutable_school_change()->set_to_school_id(teacher.school_id());
    joined.set_summary(DefaultSummary(joined));
    w.entries.push_back(std::move(joined));
    if (title != common::v1::PROFESSIONAL_TITLE_UNSPECIFIED) {
      v1::TimelineEntry e = NewEntry(v1::TIMELINE_ENTRY_KIND_TITLE_CONFERRED, w.teacher_id,
                                     title_on, call, request_id, absl::StrCat(seed, "/title"));
      if (title_detail) *e.mutable_title_conferred() = *title_detail;
      e.mutable_title_conferred()->set_title(title);
      e.set_summary(absl::StrCat("职称：", LabelOf(common::v1::ProfessionalTitle_descriptor(), title)));
      w.entries.push_back(std::move(e));
    }
    if (tier != common::v1::BACKBONE_TIER_UNSPECIFIED) {
      v1::TimelineEntry e = NewEntry(v1::TIMELINE_ENTRY_KIND_BACKBONE_DESIGNATED, w.teacher_id,
                                     tier_on, call, request_id, absl::StrCat(seed, "/backbone"));
      if (tier_detail) *e.mutable_backbone_designated() = *tier_detail;
      e.mutable_backbone_designated()->set_tier(tier);
      e.set_summary(absl::StrCat("骨干教师认定：", LabelOf(common::v1::BackboneTier_descriptor(), tier)));
      w.entries.push_back(std::move(e));
    }
    w.teacher = std::move(teacher);
    return w;
  }

  absl::Status CreateTeacher(const CallContext& call, const v1::CreateTeacherRequest& req,
                             v1::CreateTeacherResponse* resp) {
    SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.county_id(), "county_id"));
    v1::Teacher teacher = req.teacher();
    if (!teacher.county_id().empty() && teacher.county_id() != req.county_id()) {
      return InvalidField("teacher.county_id", "mismatch", "must be empty or equal county_id");
    }
    if (!teacher.teacher_id().empty()) {
      return InvalidField("teacher.teacher_id", "output_only", "is made by the platform: leave it empty");
    }
    absl::Status bad = ProblemsToStatus(CheckTeacherInput(teacher, clock_.Today()), "teacher.");
    if (req.initial_title().title() != 0 &&
        !dates::ParseDate(req.initial_title_conferred_on()).ok()) {
      AddFieldViolation(&bad, "initial_title_conferred_on", "date_format",
                        "required with initial_title: a date YYYY-MM-DD");
    }
    if (req.initial_backbone().tier() != 0 &&
        !dates::ParseDate(req.initial_backbone_designated_on()).ok()) {
      AddFieldViolation(&bad, "initial_backbone_designated_on", "date_format",
                        "required with initial_backbone: a date YYYY-MM-DD");
    }
    SHIDANG_RETURN_IF_ERROR(bad);
    SHIDANG_RETURN_IF_ERROR(RequireCountyWrite(call.principal, req.county_id()));
    SHIDANG_RETURN_IF_ERROR(
        CheckSchoolOfCounty(teacher.school_id(), req.county_id(), "teacher.school_id"));
    std::string seed = IdSeed(call.actor, "CreateTeacher", req.request_id(), req.county_id());
    teacher.set_county_id(req.county_id());
    teacher.set_teacher_id(MakeTeacherId(seed));
    SHIDANG_ASSIGN_OR_RETURN(
        TeacherWrite w,
        NewTeacherWrite(call, teacher, req.request_id(), seed, req.initial_title().title(),
                        req.initial_title_conferred_on(), &req.initial_title(),
                        req.initial_backbone().tier(), req.initial_backbone_designated_on(),
                        &req.initial_backbone()));
    std::vector<common::v1::Event> events = EventsFor(w, call, req.request_id(), true);
    // The routing index first: a crash before the script leaves a pointer to nothing.
    SHIDANG_RETURN_IF_ERROR(store_.SetHomeCounty(w.teacher_id, req.county_id()));
    SHIDANG_ASSIGN_OR_RETURN(MutationResult result,
                             store_.WriteTeachers(req.county_id(), {w},
                                                  Write(call, "CreateTeacher", req),
                                                  std::move(events), w.teacher_id));
    SHIDANG_ASSIGN_OR_RETURN(StoredTeacher stored,
                             store_.GetTeacher(req.county_id(), result.payload));
    SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_teacher(), View(stored, clock_.Today(), call));
    return absl::OkStatus();
  }

  std::vector<common::v1::Event> EventsFor(const TeacherWrite& w, const CallContext& call,
                                           absl::string_view request_id, bool created) {
    std::vector<common::v1::Event> events;
    const v1::Teacher& t = *w.teacher;
    if (created) {
      v1::Teacher payload = t;
      payload.clear_id_card_number();
      payload.clear_phone();
      payload.clear_email();
      events.push_back(Event("profile.teacher_created", t.teacher_id(), t.county_id(),
                             t.school_joined_on(), call, request_id,
                             absl::StrCat("建立档案：", t.name()), payload));
    }
    for (const v1::TimelineEntry& e : w.entries) {
      if (created && e.kind() == v1::TIMELINE_ENTRY_KIND_SCHOOL_JOINED) continue;
      events.push_back(Event(EventTypeOf(e.kind()), t.teacher_id(), t.county_id(),
                             e.occurred_on(), call, request_id, e.summary(), e));
    }
    return events;
  }

  absl::Status GetTeacher(const CallContext& call, const v1::GetTeacherRequest& req,
                          v1::GetTeacherResponse* resp) {
    SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(req.as_of()));
    SHIDANG_ASSIGN_OR_RETURN(Located found, Locate(req.teacher_id()));
    SHIDANG_RETURN_IF_ERROR(RequireTeacherRead(call.principal, found.stored.teacher));
    SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_teacher(), View(found.stored, as_of, call));
    return absl::OkStatus();
  }

  absl::Status UpdateTeacher(const CallContext& call, const v1::UpdateTeacherRequest& req,
                             v1::UpdateTeacherResponse* resp) {
    SHIDANG_RETURN_IF_ERROR(ValidateTeacherUpdateMask(req.update_mask()));
    SHIDANG_ASSIGN_OR_RETURN(Located found, Locate(req.teacher_id()));
    const v1::Teacher& current = found.stored.teacher;
    SHIDANG_RETURN_IF_ERROR(RequireCountyWrite(call.principal, current.county_id()));
    if (!req.etag().empty() && req.etag() != std::to_string(found.stored.version)) {
      return absl::AbortedError(absl::StrCat("etag: teacher ", req.teacher_id(),
                                             " changed since it was read (etag ", req.etag(),
                                             ", now ", found.stored.version,
                                             "); read it again and redo the change"));
    }
    v1::Teacher updated = current;
    bool id_card_changes = false;
    std::string old_number;
    if (!found.stored.sealed_id_card.empty()) {
      SHIDANG_ASSIGN_OR_RETURN(old_number, vault_.Open(found.stored.sealed_id_card));
    }
    updated.set_id_card_number(old_number);
    google::protobuf::util::FieldMaskUtil::MergeOptions options;
    options.set_replace_repeated_fields(true);
    options.set_replace_message_fields(true);
    google::protobuf::util::FieldMaskUtil::MergeMessageTo(req.teacher(), req.update_mask(),
                                                          options, &updated);
    absl::Status bad = ProblemsToStatus(CheckTeacherInput(updated, clock_.Today()), "teacher.");
    SHIDANG_RETURN_IF_ERROR(bad);
    std::string new_number = NormalizeIdCardNumber(updated.id_card_number());
    id_card_changes = new_number != old_number;

    TeacherWrite w;
    w.teacher_id = current.teacher_id();
    w.expect = TeacherWrite::Expect::kVersion;
    w.expected_version = found.stored.version;
    std::vector<std::string> changed;
    for (const std::string& path : req.update_mask().paths()) {
      v1::Teacher a, b;
      google::protobuf::FieldMask one;
      one.add_paths(path);
      google::protobuf::util::FieldMaskUtil::MergeMessageTo(current, one, options, &a);
      google::protobuf::util::FieldMaskUtil::MergeMessageTo(updated, one, options, &b);
      if (path == "id_card_number") {
        if (id_card_changes) changed.push_back(path);
      } else if (a.SerializeAsString() != b.SerializeAsString()) {
        changed.push_back(path);
      }
    }
    if (id_card_changes) {
      SHIDANG_ASSIGN_OR_RETURN(w.sealed_id_card, vault_.Seal(new_number));
      w.claims.push_back({ProfileStore::IdCardIndexKey(current.county_id(),
                                                       vault_.BlindIndex(new_number)),
                          "teacher.id_card_number"});
      if (!old_number.empty()) {
        w.release_claims.push_back(
            ProfileStore::IdCardIndexKey(current.county_id(), vault_.BlindIndex(old_number)));
      }
    }
    if (updated.national_teacher_id() != current.national_teacher_id()) {
      if (!updated.national_teacher_id().empty()) {
        w.claims.push_back({ProfileStore::NationalIdKey(current.county_id(),
                                                        updated.national_teacher_id()),
                            "teacher.national_teacher_id"});
      }
      if (!current.national_teacher_id().empty()) {
        w.release_claims.push_back(
            ProfileStore::NationalIdKey(current.county_id(), current.national_teacher_id()));
      }
    }
    updated.clear_id_card_number();
    if (changed.empty()) {
      SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_teacher(), View(found.stored, clock_.Today(), call));
      return absl::OkStatus();
    }
    std::string seed = IdSeed(call.actor, "UpdateTeacher", req.request_id(), req.teacher_id());
    v1::TimelineEntry entry =
        NewEntry(v1::TIMELINE_ENTRY_KIND_PROFILE_UPDATED, w.teacher_id,
                 dates::FormatDate(clock_.Today()), call, req.request_id(), seed);
    for (const std::string& path : changed) entry.mutable_profile_updated()->add_changed_fields(path);
    entry.set_summary(absl::StrCat("档案信息修改：", absl::StrJoin(changed, "、")));
    w.entries.push_back(entry);
    w.teacher = updated;
    std::vector<common::v1::Event> events = EventsFor(w, call, req.request_id(), false);
    SHIDANG_RETURN_IF_ERROR(store_.WriteTeachers(current.county_id(), {w},
                                                 Write(call, "UpdateTeacher", req),
                                                 std::move(events), w.teacher_id)
                                .status());
    SHIDANG_ASSIGN_OR_RETURN(StoredTeacher stored,
                             store_.GetTeacher(current.county_id(), w.teacher_id));
    SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_teacher(), View(stored, clock_.Today(), call));
    return absl::OkStatus();
  }

  absl::Status ListTeachers(const CallContext& call, const v1::ListTeachersRequest& req,
                            v1::ListTeachersResponse* resp) {
    const Principal& p = call.principal;
    if (req.county_id().size() != 6 ||
        req.county_id().find_first_not_of("0123456789") != std::string::npos) {
      return InvalidField("county_id", "region_code", "must be a 6-digit GB/T 2260 region code");
    }
    SHIDANG_ASSIGN_OR_RETURN(int page_size, PageSize(req.page()));
    SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(req.as_of()));
    std::string school_id = req.school_id();
    if (p.role() == common::v1::ROLE_SCHOOL_ADMIN) {
      if (!school_id.empty() && school_id != p.school_id()) {
        return Denied(p, absl::StrCat("list the teachers of school ", school_id));
      }
      school_id = p.school_id();
    } else if (!IsTrusted(p.role()) &&
               !(IsHr(p.role()) && (RegionCovers(p.region(), req.county_id()) ||
                                    RegionCovers(req.county_id(), p.region()) ||
                                    p.region() == req.county_id()))) {
      return Denied(p, absl::StrCat("list the teachers of ", req.county_id()));
    }
    // Page token: "<county>/<last teacher id>", base64url.
    std::string token_county, after;
    if (!req.page().page_token().empty()) {
      std::string raw;
      std::vector<std::string> parts;
      if (absl::WebSafeBase64Unescape(req.page().page_token(), &raw)) {
        parts = absl::StrSplit(raw, '/');
      }
      if (parts.size() != 2) {
        return InvalidField("page.page_token", "token", "not a token this method returned");
      }
      token_county = parts[0];
      after = parts[1];
    }
    std::vector<std::string> counties;
    if (!school_id.empty()) {
      SHIDANG_ASSIGN_OR_RETURN(v1::School school, store_.GetSchool(school_id));
      if (!RegionCovers(req.county_id(), school.county_id()) && req.county_id() != school.county_id()) {
        return InvalidField("school_id", "outside_region",
                            absl::StrCat("school ", school_id, " is not in ", req.county_id()));
      }
      counties = {school.county_id()};
    } else {
      SHIDANG_ASSIGN_OR_RETURN(counties, store_.CountiesUnder(req.county_id()));
    }
    // Filters that need the derived values are tested on the view; the others on the record.
    constexpr int kScanLimit = 5000;  // ids read per call at most; a short page has a token
    int scanned = 0;
    std::string last_county, last_id;
    for (const std::string& county : counties) {
      if (!token_county.empty() && county < token_county) continue;
      if (IsHr(p.role()) && !RegionCovers(p.region(), county) && p.region() != county) continue;
      std::string cursor = county == token_county ? after : "";
      while (true) {
        SHIDANG_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                                 store_.TeacherIds(county, school_id, cursor, 200));
        if (ids.empty()) break;
        SHIDANG_ASSIGN_OR_RETURN(std::vector<StoredTeacher> stored, store_.GetTeachers(county, ids));
        for (StoredTeacher& s : stored) {
          last_county = county;
          last_id = s.teacher.teacher_id();
          ++scanned;
          const v1::Teacher& t = s.teacher;
          if (!req.subject().empty() &&
              std::find(t.subjects().begin(), t.subjects().end(), req.subject()) ==
                  t.subjects().end()) {
            continue;
          }
          if (req.stage() != 0 && t.stage() != req.stage()) continue;
          if (req.has_staffed() && t.staffed() != req.staffed()) continue;
          SHIDANG_ASSIGN_OR_RETURN(v1::Teacher view, View(s, as_of, call));
          if (req.title() != 0 && view.title() != req.title()) continue;
          if (req.backbone_tier() != 0 && view.backbone_tier() != req.backbone_tier()) continue;
          if (req.post_status() != 0 && view.post_status() != req.post_status()) continue;
          *resp->add_teachers() = std::move(view);
          if (resp->teachers_size() == page_size || scanned >= kScanLimit) {
            resp->mutable_page()->set_next_page_token(
                absl::WebSafeBase64Escape(absl::StrCat(last_county, "/", last_id)));
            return absl::OkStatus();
          }
        }
        cursor = ids.back();
      }
    }
    return absl::OkStatus();
  }

  absl::Status AddTimelineEntry(const CallContext& call, const v1::AddTimelineEntryRequest& req,
                                v1::AddTimelineEntryResponse* resp) {
    SHIDANG_RETURN_IF_ERROR(ValidateNewTimelineEntry(req.entry()));
    v1::TimelineEntryKind kind = req.entry().kind();
    if (kind == v1::TIMELINE_ENTRY_KIND_SCHOOL_JOINED || kind == v1::TIMELINE_ENTRY_KIND_SCHOOL_MOVED ||
        kind == v1::TIMELINE_ENTRY_KIND_TRANSFERRED || kind == v1::TIMELINE_ENTRY_KIND_PROFILE_UPDATED ||
        kind == v1::TIMELINE_ENTRY_KIND_EXTERNAL) {
      return InvalidField("entry.kind", "kind_not_allowed",
                          "school moves, transfers and profile updates have their own methods; "
                          "external entries come from other services' events");
    }
    SHIDANG_ASSIGN_OR_RETURN(Located found, Locate(req.teacher_id()));
    const v1::Teacher& teacher = found.stored.teacher;
    SHIDANG_RETURN_IF_ERROR(RequireTeacherWrite(call.principal, teacher));
    if (!req.entry().supersedes_entry_id().empty()) {
      bool present = std::any_of(found.stored.timeline.begin(), found.stored.timeline.end(),
                                 [&](const v1::TimelineEntry& e) {
                                   return e.entry_id() == req.entry().supersedes_entry_id();
                                 });
      if (!present) {
        return InvalidField("entry.supersedes_entry_id", "unknown_entry",
                            absl::StrCat("no entry ", req.entry().supersedes_entry_id(),
                                         " in this teacher's timeline"));
      }
    }
    // The ethics policy must be able to date a finding's veto before it is recorded.
    SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay occurred, dates::ParseDate(req.entry().occurred_on(),
                                                                      "entry.occurred_on"));
    if (kind == v1::TIMELINE_ENTRY_KIND_ETHICS_FINDING) {
      SHIDANG_ASSIGN_OR_RETURN(common::v1::ResolvedPolicy policy,
                               policies_.Resolve(teacher.county_id(), occurred));
      SHIDANG_RETURN_IF_ERROR(
          VetoOf(occurred, req.entry().ethics_finding().severity(), policy.policy().ethics())
              .status());
    }
    v1::TimelineEntry entry = req.entry();
    std::string seed = IdSeed(call.actor, "AddTimelineEntry", req.request_id(), req.teacher_id());
    v1::TimelineEntry stamped = NewEntry(kind, teacher.teacher_id(), entry.occurred_on(), call,
                                         req.request_id(), seed);
    entry.set_entry_id(stamped.entry_id());
    entry.set_teacher_id(stamped.teacher_id());
    entry.set_recorded_at_ms(stamped.recorded_at_ms());
    entry.set_actor(stamped.actor());
    entry.set_request_id(stamped.request_id());
    if (entry.summary().empty()) entry.set_summary(DefaultSummary(entry));

    TeacherWrite w;
    w.teacher_id = teacher.teacher_id();
    w.expect = TeacherWrite::Expect::kVersion;
    w.expected_version = found.stored.version;
    w.entries.push_back(entry);
    w.teacher = teacher;  // unchanged; the events need it
    std::vector<common::v1::Event> events = EventsFor(w, call, req.request_id(), false);
    w.teacher.reset();
    SHIDANG_ASSIGN_OR_RETURN(MutationResult result,
                             store_.WriteTeachers(teacher.county_id(), {w},
                                                  Write(call, "AddTimelineEntry", req),
                                                  std::move(events), entry.entry_id()));
    SHIDANG_ASSIGN_OR_RETURN(StoredTeacher stored,
                             store_.GetTeacher(teacher.county_id(), teacher.teacher_id()));
    for (const v1::TimelineEntry& e : stored.timeline) {
      if (e.entry_id() == result.payload) *resp->mutable_entry() = e;
    }
    SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_teacher(), View(stored, clock_.Today(), call));
    return absl::OkStatus();
  }

  absl::Status ListTimeline(const CallContext& call, const v1::ListTimelineRequest& req,
                            v1::ListTimelineResponse* resp) {
    SHIDANG_ASSIGN_OR_RETURN(int page_size, PageSize(req.page()));
    SHIDANG_ASSIGN_OR_RETURN(Located found, Locate(req.teacher_id()));
    SHIDANG_RETURN_IF_ERROR(RequireTeacherRead(call.principal, found.stored.teacher));
    std::vector<v1::TimelineEntry> entries = found.stored.timeline;
    MarkSuperseded(&entries);
    SortByDate(&entries);
    std::set<int> kinds(req.kinds().begin(), req.kinds().end());
    int64_t offset = 0;
    if (!req.page().page_token().empty() &&
        (!absl::SimpleAtoi(req.page().page_token(), &offset) || offset < 0)) {
      return InvalidField("page.page_token", "token", "not a token this method returned");
    }
    int64_t index = 0;
    for (v1::TimelineEntry& e : entries) {
      if (!req.include_superseded() && !e.superseded_by_entry_id().empty()) continue;
      if (!kinds.empty() && !kinds.count(e.kind())) continue;
      if (index++ < offset) continue;
      if (resp->entries_size() == page_size) {
        resp->mutable_page()->set_next_page_token(std::to_string(offset + page_size));
        break;
      }
      *resp->add_entries() = std::move(e);
    }
    return absl::OkStatus();
  }

  absl::Status MoveTeacher(const CallContext& call, const v1::MoveTeacherRequest& req,
                           v1::MoveTeacherResponse* resp) {
    SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay moved_on, dates::ParseDate(req.moved_on(), "moved_on"));
    SHIDANG_ASSIGN_OR_RETURN(Located found, Locate(req.teacher_id()));
    const v1::Teacher& teacher = found.stored.teacher;
    SHIDANG_RETURN_IF_ERROR(RequireCountyWrite(call.principal, teacher.county_id()));
    SHIDANG_RETURN_IF_ERROR(
        CheckSchoolOfCounty(req.to_school_id(), teacher.county_id(), "to_school_id"));
    if (req.to_school_id() == teacher.school_id()) {
      return InvalidField("to_school_id", "same_school", "the teacher is already at this school");
    }
    absl::StatusOr<absl::CivilDay> joined = dates::ParseDate(teacher.school_joined_on());
    if (joined.ok() && moved_on <= *joined) {
      return InvalidField("moved_on", "after_joined",
                          absl::StrCat("must be after the day they joined their current school (",
                                       teacher.school_joined_on(), ")"));
    }
    std::string seed = IdSeed(call.actor, "MoveTeacher", req.request_id(), req.teacher_id());
    TeacherWrite w;
    w.teacher_id = teacher.teacher_id();
    w.expect = TeacherWrite::Expect::kVersion;
    w.expected_version = found.stored.version;
    v1::TimelineEntry entry = NewEntry(v1::TIMELINE_ENTRY_KIND_SCHOOL_MOVED, w.teacher_id,
                                       req.moved_on(), call, req.request_id(), seed);
    entry.mutable_school_change()->set_from_school_id(teacher.school_id());
    entry.mutable_school_change()->set_to_school_id(req.to_school_id());
    entry.set_summary(req.reason().empty() ? DefaultSummary(entry)
                                           : absl::StrCat("校际调动：", req.reason()));
    w.entries.push_back(entry);
    v1::Teacher updated = teacher;
    updated.set_school_id(req.to_school_id());
    updated.set_school_joined_on(req.moved_on());
    w.teacher = updated;
    w.remove_from_sets.push_back(ProfileStore::SchoolIndexKey(teacher.county_id(), teacher.school_id()));
    w.add_to_sets.push_back(ProfileStore::SchoolIndexKey(teacher.county_id(), req.to_school_id()));
    std::vector<common::v1::Event> events = EventsFor(w, call, req.request_id(), false);
    SHIDANG_ASSIGN_OR_RETURN(MutationResult result,
                             store_.WriteTeachers(teacher.county_id(), {w},
                                                  Write(call, "MoveTeacher", req),
                                                  std::move(events), entry.entry_id()));
    SHIDANG_ASSIGN_OR_RETURN(StoredTeacher stored,
                             store_.GetTeacher(teacher.county_id(), teacher.teacher_id()));
    for (const v1::TimelineEntry& e : stored.timeline) {
      if (e.entry_id() == result.payload) *resp->mutable_entry() = e;
    }
    SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_teacher(), View(stored, clock_.Today(), call));
    return absl::OkStatus();
  }

  // Two idempotent steps, each one script on one county's slot (DESIGN "One script, one slot"):
  // the receiving county takes the file in (keyed by the transfer id, so a retry finds it there),
  // then the sending county records the departure and drops the teacher from its indexes. A
  // crash between them leaves the teacher in both counties' keys with the routing index still at
  // the sender; the retry with the same request_id completes it.
  absl::Status TransferTeacher(const CallContext& call, const v1::TransferTeacherRequest& req,
                               v1::TransferTeacherResponse* resp) {
    SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.to_county_id(), "to_county_id"));
    SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay day,
                             dates::ParseDate(req.transferred_on(), "transferred_on"));
    SHIDANG_ASSIGN_OR_RETURN(Located found, Locate(req.teacher_id()));
    StoredTeacher& stored = found.stored;
    const v1::Teacher teacher = stored.teacher;
    const std::string from_county = teacher.county_id();
    std::string seed = IdSeed(call.actor, "TransferTeacher", req.request_id(), req.teacher_id());
    std::string transfer_id = absl::StrCat("X", MakeEntryId(seed).substr(1));
    if (from_county == req.to_county_id()) {
      // Already moved by an earlier run of this request, or a move within the county.
      for (const v1::TimelineEntry& e : stored.timeline) {
        if (e.kind() == v1::TIMELINE_ENTRY_KIND_TRANSFERRED && !req.request_id().empty() &&
            e.request_id() == req.request_id() && e.actor() == call.actor) {
          resp->set_transfer_id(e.transfer().transfer_id());
          resp->set_state(v1::TRANSFER_STATE_COMPLETED);
          SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_teacher(), View(stored, clock_.Today(), call));
          return absl::OkStatus();
        }
      }
      return InvalidField("to_county_id", "same_county",
                          "the teacher is already in this county: use MoveTeacher");
    }
    SHIDANG_RETURN_IF_ERROR(RequireCountyWrite(call.principal, from_county));
    SHIDANG_RETURN_IF_ERROR(RequireCountyWrite(call.principal, req.to_county_id()));
    SHIDANG_RETURN_IF_ERROR(
        CheckSchoolOfCounty(req.to_school_id(), req.to_county_id(), "to_school_id"));
    absl::StatusOr<absl::CivilDay> joined = dates::ParseDate(teacher.school_joined_on());
    if (joined.ok() && day <= *joined) {
      return InvalidField("transferred_on", "after_joined",
                          "must be after the day they joined their current school");
    }
    v1::TimelineEntry entry = NewEntry(v1::TIMELINE_ENTRY_KIND_TRANSFERRED, teacher.teacher_id(),
                                       req.transferred_on(), call, req.request_id(), seed);
    v1::TransferDetail* detail = entry.mutable_transfer();
    detail->set_transfer_id(transfer_id);
    detail->set_from_county_id(from_county);
    detail->set_from_school_id(teacher.school_id());
    detail->set_to_county_id(req.to_county_id());
    detail->set_to_school_id(req.to_school_id());
    entry.set_summary(req.reason().empty() ? DefaultSummary(entry)
                                           : absl::StrCat("跨县调动：", req.reason()));

    // Step 1: the receiving county. The whole timeline goes with the teacher.
    std::string number;
    if (!stored.sealed_id_card.empty()) {
      SHIDANG_ASSIGN_OR_RETURN(number, vault_.Open(stored.sealed_id_card));
    }
    TeacherWrite in;
    in.teacher_id = teacher.teacher_id();
    in.expect = TeacherWrite::Expect::kAbsent;
    v1::Teacher moved = teacher;
    moved.set_county_id(req.to_county_id());
    moved.set_school_id(req.to_school_id());
    moved.set_school_joined_on(req.transferred_on());
    in.teacher = moved;
    in.sealed_id_card = stored.sealed_id_card;
    for (v1::TimelineEntry e : stored.timeline) {
      e.clear_sequence();
      in.entries.push_back(std::move(e));
    }
    in.entries.push_back(entry);
    if (!number.empty()) {
      in.claims.push_back({ProfileStore::IdCardIndexKey(req.to_county_id(), vault_.BlindIndex(number)),
                           "id_card_number"});
    }
    in.add_to_sets = {ProfileStore::TeachersKey(req.to_county_id()),
                      ProfileStore::SchoolIndexKey(req.to_county_id(), req.to_school_id())};
    std::vector<common::v1::Event> in_events = {
        Event("profile.transferred_county", teacher.teacher_id(), req.to_county_id(),
              req.transferred_on(), call, req.request_id(), entry.summary(), entry)};
    absl::StatusOr<MutationResult> step1 =
        store_.WriteTeachers(req.to_county_id(), {in}, Write(call, "TransferTeacherIn", req),
                             std::move(in_events), transfer_id);
    if (!step1.ok()) return step1.status();

    // Step 2: the sending county records the departure and lets go of the teacher.
    TeacherWrite out;
    out.teacher_id = teacher.teacher_id();
    out.expect = TeacherWrite::Expect::kPresent;
    out.entries.push_back(entry);
    out.remove_from_sets = {ProfileStore::TeachersKey(from_county),
                            ProfileStore::SchoolIndexKey(from_county, teacher.school_id())};
    if (!number.empty()) {
      out.release_claims.push_back(
          ProfileStore::IdCardIndexKey(from_county, vault_.BlindIndex(number)));
    }
    if (!teacher.national_teacher_id().empty()) {
      out.release_claims.push_back(
          ProfileStore::NationalIdKey(from_county, teacher.national_teacher_id()));
    }
    std::vector<common::v1::Event> out_events = {
        Event("profile.transferred_county", teacher.teacher_id(), from_county,
              req.transferred_on(), call, req.request_id(), entry.summary(), entry)};
    SHIDANG_RETURN_IF_ERROR(store_.WriteTeachers(from_county, {out},
                                                 Write(call, "TransferTeacherOut", req),
                                                 std::move(out_events), transfer_id)
                                .status());
    SHIDANG_RETURN_IF_ERROR(store_.SetHomeCounty(teacher.teacher_id(), req.to_county_id()));
    SHIDANG_ASSIGN_OR_RETURN(StoredTeacher now,
                             store_.GetTeacher(req.to_county_id(), teacher.teacher_id()));
    resp->set_transfer_id(step1->payload);
    resp->set_state(v1::TRANSFER_STATE_COMPLETED);
    SHIDANG_ASSIGN_OR_RETURN(*resp->mutable_teacher(), View(now, clock_.Today(), call));
    return absl::OkStatus();
  }

  absl::Status GetGrowthFile(const CallContext& call, const v1::GetGrowthFileRequest& req,
                             v1::GetGrowthFileResponse* resp) {
    SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, AsOf(req.as_of()));
    SHIDANG_ASSIGN_OR_RETURN(Located found, Locate(req.teacher_id()));
    SHIDANG_RETURN_IF_ERROR(RequireTeacherRead(call.principal, found.stored.teacher));
    v1::GrowthFile* file = resp->mutable_growth_file();
    file->set_as_of(dates::FormatDate(as_of));
    SHIDANG_ASSIGN_OR_RETURN(*file->mutable_teacher(), View(found.stored, as_of, call));
    std::vector<v1::TimelineEntry> entries = found.stored.timeline;
    MarkSuperseded(&entries);
    SortByDate(&entries);
    std::vector<v1::SchoolStint> history = SchoolHistoryFromTimeline(entries);
    std::vector<v1::SchoolStint> secondments = SecondmentStintsFromTimeline(entries);
    for (std::vector<v1::SchoolStint>* stints : {&history, &secondments}) {
      for (v1::SchoolStint& stint : *stints) {
        absl::StatusOr<v1::School> school = store_.GetSchool(stint.school_id());
        if (school.ok()) {
          stint.set_school_name(school->name());
          stint.set_county_id(school->county_id());
          stint.set_location(school->location());
          stint.set_quality(school->quality());
          stint.set_kind(school->kind());
        }
      }
    }
    SHIDANG_ASSIGN_OR_RETURN(*file->mutable_rural_or_weak_service(),
                             RuralOrWeakServiceOf(history, secondments, as_of));
    for (v1::SchoolStint& s : history) *file->add_school_history() = std::move(s);
    for (v1::TimelineEntry& e : entries) *file->add_timeline() = std::move(e);
    for (const v1::ServiceSummary& s : found.stored.summaries) *file->add_summaries() = s;
    return absl::OkStatus();
  }

  // ---- roster import

  absl::Status ImportRoster(const CallContext& call, const v1::ImportRosterRequest& req,
                            v1::ImportRosterResponse* resp) {
    SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.county_id(), "county_id"));
    if (req.kind() == v1::ROSTER_KIND_UNSPECIFIED) {
      return InvalidField("kind", "required", "ROSTER_KIND_SCHOOLS or ROSTER_KIND_TEACHERS");
    }
    SHIDANG_RETURN_IF_ERROR(RequireCountyWrite(call.principal, req.county_id()));
    SHIDANG_RETURN_IF_ERROR(store_.GetCounty(req.county_id()).status());
    resp->set_kind(req.kind());
    if (req.kind() == v1::ROSTER_KIND_SCHOOLS) return ImportSchools(call, req, resp);
    return ImportTeachers(call, req, resp);
  }

  absl::Status ImportSchools(const CallContext& call, const v1::ImportRosterRequest& req,
                             v1::ImportRosterResponse* resp) {
    SHIDANG_ASSIGN_OR_RETURN(Roster<RosterSchool> roster, ParseSchoolRoster(req.csv()));
    std::vector<RosterSchool>& rows = roster.rows;
    std::vector<common::v1::RowViolation>& problems = roster.problems;
    SHIDANG_ASSIGN_OR_RETURN(auto existing, SchoolsOf(req.county_id()));
    std::map<std::string, const v1::School*> by_name, by_code;
    for (const auto& [id, s] : existing) {
      by_name[s.name()] = &s;
      if (!s.school_code().empty()) by_code[s.school_code()] = &s;
    }
    std::map<std::string, int64_t> seen_names, seen_codes;
    std::vector<v1::School> creates;
    std::vector<common::v1::Event> events;
    int64_t unchanged = 0;
    for (RosterSchool& row : rows) {
      v1::School& s = row.school;
      s.set_county_id(req.county_id());
      if (auto [it, fresh] = seen_names.emplace(s.name(), row.row); !fresh) {
        problems.push_back(RowProblem(row.row, "学校名称", "duplicate",
                                      absl::StrCat("same name as row ", it->second)));
      }
      if (!s.school_code().empty()) {
        if (auto [it, fresh] = seen_codes.emplace(s.school_code(), row.row); !fresh) {
          problems.push_back(RowProblem(row.row, "学校代码", "duplicate",
                                        absl::StrCat("same code as row ", it->second)));
        }
      }
      auto found = by_name.find(s.name());
      if (found != by_name.end()) {
        // Already there: the same school again is fine, a different one under its name is not.
        v1::School same = s;
        same.set_school_id(found->second->school_id());
        if (same.SerializeAsString() == found->second->SerializeAsString()) {
          ++unchanged;
          continue;
        }
        problems.push_back(RowProblem(row.row, "学校名称", "exists_different",
                                      absl::StrCat("school ", found->second->school_id(),
                                                   " already has this name with other details; "
                                                   "change it with CreateSchool's successor")));
        continue;
      }
      if (!s.school_code().empty() && by_code.count(s.school_code())) {
        problems.push_back(RowProblem(row.row, "学校代码", "exists",
                                      absl::StrCat("code used by school ",
                                                   by_code[s.school_code()]->school_id())));
        continue;
      }
      s.set_school_id(MakeSchoolId(req.county_id(),
                                   IdSeed(call.actor, "ImportRoster", req.request_id(),
                                          absl::StrCat(req.county_id(), "/", row.row))));
      events.push_back(Event("profile.school_created", "", req.county_id(),
                             dates::FormatDate(clock_.Today()), call, req.request_id(),
                             absl::StrCat("新建学校：", s.name()), s));
      creates.push_back(s);
    }
    if (!problems.empty()) {
      std::stable_sort(problems.begin(), problems.end(),
                       [](const auto& a, const auto& b) { return a.row() < b.row(); });
      return RosterRejected(problems, rows.size());
    }
    resp->set_rows(static_cast<int64_t>(rows.size()));
    resp->set_created(static_cast<int64_t>(creates.size()));
    resp->set_unchanged(unchanged);
    if (creates.empty() && req.request_id().empty()) return absl::OkStatus();
    SHIDANG_ASSIGN_OR_RETURN(MutationResult result,
                             store_.CreateSchools(req.county_id(), creates,
                                                  Write(call, "ImportRoster", req), std::move(events),
                                                  resp->SerializeAsString()));
    if (!resp->ParseFromString(result.payload)) return absl::DataLossError("stored answer unreadable");
    return absl::OkStatus();
  }

  absl::Status ImportTeachers(const CallContext& call, const v1::ImportRosterRequest& req,
                              v1::ImportRosterResponse* resp) {
    const std::string& county = req.county_id();
    SHIDANG_ASSIGN_OR_RETURN(Roster<RosterTeacher> roster,
                             ParseTeacherRoster(req.csv(), clock_.Today()));
    std::vector<RosterTeacher>& rows = roster.rows;
    std::vector<common::v1::RowViolation>& problems = roster.problems;
    SHIDANG_ASSIGN_OR_RETURN(auto schools, SchoolsOf(county));
    std::map<std::string, std::string> school_by_ref;
    for (const auto& [id, s] : schools) {
      school_by_ref[id] = id;
      school_by_ref[s.name()] = id;
      if (!s.school_code().empty()) school_by_ref[s.school_code()] = id;
    }
    // Duplicates inside the file, then against the county's records, all reported at once.
    // Hashed, not ordered: 20,000 lookups of 16- to 64-byte keys per 10,000-row file.
    absl::flat_hash_map<absl::string_view, int64_t> seen_cards, seen_national;
    // Keyed hashes are independent per row: both cores.
    std::vector<std::string> numbers(rows.size()), blind_indexes(rows.size()), claim_keys;
    InParallel(rows.size(), [&](size_t i) {
      numbers[i] = NormalizeIdCardNumber(rows[i].teacher.id_card_number());
      blind_indexes[i] = vault_.BlindIndex(numbers[i]);
      return absl::OkStatus();
    });
    claim_keys.reserve(2 * rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      RosterTeacher& row = rows[i];
      auto school = school_by_ref.find(row.school_ref);
      if (school == school_by_ref.end()) {
        problems.push_back(RowProblem(row.row, "学校", "unknown_school",
                                      absl::StrCat("no school with code, name or id '",
                                                   row.school_ref, "' in county ", county)));
      } else {
        row.teacher.set_school_id(school->second);
      }
      const std::string& blind = blind_indexes[i];
      if (auto [it, fresh] = seen_cards.emplace(blind, row.row); !fresh) {
        problems.push_back(RowProblem(row.row, "身份证号", "duplicate",
                                      absl::StrCat("same ID-card number as row ", it->second)));
      }
      claim_keys.push_back(ProfileStore::IdCardIndexKey(county, blind));
      const std::string& national = row.teacher.national_teacher_id();
      if (!national.empty()) {
        if (auto [it, fresh] = seen_national.emplace(national, row.row); !fresh) {
          problems.push_back(RowProblem(row.row, "教师编号", "duplicate",
                                        absl::StrCat("same teacher number as row ", it->second)));
        }
      }
      claim_keys.push_back(national.empty() ? ProfileStore::NationalIdKey(county, "")
                                            : ProfileStore::NationalIdKey(county, national));
    }
    SHIDANG_ASSIGN_OR_RETURN(std::vector<std::string> holders, store_.ClaimHolders(claim_keys));
    // The rows to create: every row not on file yet.
    std::vector<size_t> fresh_rows;
    fresh_rows.reserve(rows.size());
    int64_t unchanged = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      const RosterTeacher& row = rows[i];
      const std::string& card_holder = holders[2 * i];
      const std::string& national_holder =
          row.teacher.national_teacher_id().empty() ? std::string() : holders[2 * i + 1];
      if (!national_holder.empty() || !card_holder.empty()) {
        // Already on file (re-import): the same person again changes nothing; this import does
        // not overwrite records (UpdateTeacher and timeline entries do, with their history).
        if (!national_holder.empty() && !card_holder.empty() && national_holder == card_holder) {
          ++unchanged;
        } else {
          problems.push_back(RowProblem(
              row.row, card_holder.empty() ? "教师编号" : "身份证号", "exists",
              absl::StrCat("already recorded for teacher ",
                           card_holder.empty() ? national_holder : card_holder)));
        }
        continue;
      }
      fresh_rows.push_back(i);
    }
    if (!problems.empty()) {
      std::stable_sort(problems.begin(), problems.end(),
                       [](const auto& a, const auto& b) { return a.row() < b.row(); });
      return RosterRejected(problems, rows.size());
    }
    // Sealed in one batch (one keyed context, one draw of nonces), only once the file is valid.
    std::vector<std::string> fresh_numbers;
    fresh_numbers.reserve(fresh_rows.size());
    for (size_t i : fresh_rows) fresh_numbers.push_back(std::move(numbers[i]));
    SHIDANG_ASSIGN_OR_RETURN(std::vector<std::string> sealed, vault_.SealAll(fresh_numbers));
    // Each new row's write and event, built on every core: ids, entries and events are hashes,
    // random draws and serialisations, independent per row.
    std::vector<TeacherWrite> writes(fresh_rows.size());
    std::vector<common::v1::Event> events(fresh_rows.size());
    std::vector<absl::Status> failures = InParallel(fresh_rows.size(), [&](size_t k) {
      RosterTeacher& row = rows[fresh_rows[k]];
      std::string seed = IdSeed(call.actor, "ImportRoster", req.request_id(),
                                absl::StrCat(county, "/", row.row));
      row.teacher.set_county_id(county);
      row.teacher.set_teacher_id(MakeTeacherId(seed));
      SealedIdCard card{std::move(sealed[k]), std::move(blind_indexes[fresh_rows[k]])};
      absl::StatusOr<TeacherWrite> w =
          NewTeacherWrite(call, std::move(row.teacher), req.request_id(), seed, row.title,
                          row.title_conferred_on, nullptr, row.backbone_tier,
                          row.backbone_designated_on, nullptr, &card);
      if (!w.ok()) return w.status();
      // One event per new teacher keeps a 10,000-row import one script of reasonable size; the
      // initial title and designation travel in the created event's timeline.
      // The event carries the profile without phone and email: both are set aside while it is
      // serialised instead of copying the whole profile.
      v1::Teacher& payload = *w->teacher;
      std::string phone, email;
      payload.mutable_phone()->swap(phone);
      payload.mutable_email()->swap(email);
      // The initial backbone tier goes out on the event too (no designation event of its own
      // here): the rotation service counts backbone rotations from it.
      payload.set_backbone_tier(row.backbone_tier);
      payload.set_backbone_designated_on(row.backbone_designated_on);
      events[k] = Event("profile.teacher_created", payload.teacher_id(), county,
                        payload.school_joined_on(), call, req.request_id(),
                        absl::StrCat("建立档案：", payload.name()), payload);
      payload.clear_backbone_tier();
      payload.clear_backbone_designated_on();
      payload.mutable_phone()->swap(phone);
      payload.mutable_email()->swap(email);
      writes[k] = std::move(*w);
      return absl::OkStatus();
    });
    for (const absl::Status& failure : failures) SHIDANG_RETURN_IF_ERROR(failure);
    resp->set_rows(static_cast<int64_t>(rows.size()));
    resp->set_created(static_cast<int64_t>(writes.size()));
    resp->set_unchanged(unchanged);
    // Routing indexes first (idempotent; ids derive from the request id when there is one),
    // written on a second connection while the script's arguments are built, and awaited
    // before the script runs.
    std::future<absl::Status> homes_written = std::async(std::launch::async, [&] {
      return WriteHomes(writes, county);
    });
    const bool nothing_to_write = writes.empty() && req.request_id().empty();
    absl::StatusOr<MutationResult> result = [&]() -> absl::StatusOr<MutationResult> {
      if (nothing_to_write) return MutationResult();
      return store_.WriteTeachers(county, writes, Write(call, "ImportRoster", req),
                                  std::move(events), resp->SerializeAsString(),
                                  [&] { return homes_written.get(); });
    }();
    const absl::Status homes = homes_written.valid() ? homes_written.get() : absl::OkStatus();
    // The rows and writes are dead once the script has answered: freed off the answer's path.
    ReleaseInBackground(std::move(roster), std::move(writes), std::move(numbers),
                        std::move(blind_indexes), std::move(claim_keys), std::move(holders),
                        std::move(sealed));
    SHIDANG_RETURN_IF_ERROR(homes);
    SHIDANG_RETURN_IF_ERROR(result.status());
    if (nothing_to_write) return absl::OkStatus();
    ReleaseInBackground(std::move(result->stream_entry_ids));
    if (!resp->ParseFromString(result->payload)) return absl::DataLossError("stored answer unreadable");
    return absl::OkStatus();
  }

  // Each new teacher's home county (the routing index): one SET per teacher, since each key has
  // its teacher's own hash tag (an MSET would span slots on a cluster).
  absl::Status WriteHomes(const std::vector<TeacherWrite>& writes, const std::string& county) {
    std::vector<redis::Args> homes;
    homes.reserve(writes.size());
    for (const TeacherWrite& w : writes) {
      homes.push_back({"SET", ProfileStore::HomeKey(w.teacher_id), county});
    }
    if (homes.empty()) return absl::OkStatus();
    SHIDANG_ASSIGN_OR_RETURN(std::vector<redis::Reply> replies, pool_.Pipeline(homes));
    for (const redis::Reply& r : replies) SHIDANG_RETURN_IF_ERROR(r.ToStatus());
    return absl::OkStatus();
  }

  // ---- other services' events

  absl::Status FileExternalEvent(const common::v1::Event& event) {
    if (event.teacher_id().empty()) return absl::OkStatus();  // not about one teacher
    absl::StatusOr<std::string> county = store_.HomeCounty(event.teacher_id());
    if (absl::IsNotFound(county.status())) {
      LogWarning(absl::StrCat("event ", event.id(), " (", event.type(),
                              ") names an unknown teacher; skipped"));
      return absl::OkStatus();
    }
    SHIDANG_RETURN_IF_ERROR(county.status());
    CallContext call;
    call.principal.set_role(common::v1::ROLE_SERVICE);
    call.principal.set_subject(event.source());
    call.actor = event.actor().empty() ? ActorOf(call.principal) : event.actor();
    // Summaries ("<source>.summary", or carried by a change in teacher_summary) keep the newest
    // per source and kind; everything else is a timeline entry. Either way the event id is the
    // request id, so a re-delivery changes nothing.
    v1::AddTimelineEntryRequest idem;
    idem.set_teacher_id(event.teacher_id());
    idem.set_request_id(event.id());
    auto file_summary = [&](const google::protobuf::Any& carried) {
      v1::ServiceSummary summary;
      if (carried.Is<v1::ServiceSummary>()) carried.UnpackTo(&summary);
      summary.set_source(event.source());
      if (summary.kind().empty()) summary.set_kind(event.type());
      summary.set_as_of_ms(event.recorded_at_ms());
      summary.set_last_event_id(event.id());
      if (!carried.Is<v1::ServiceSummary>()) *summary.mutable_detail() = carried;
      return store_.PutSummary(*county, event.teacher_id(), summary,
                               WriteContext{"service:profile", "FileSummary", &idem});
    };
    if (absl::EndsWith(event.type(), ".summary")) return file_summary(event.payload());
    if (event.has_teacher_summary()) SHIDANG_RETURN_IF_ERROR(file_summary(event.teacher_summary()));
    v1::TimelineEntry entry;
    entry.set_entry_id(absl::StrCat("E", event.id().substr(0, 16)));
    entry.set_teacher_id(event.teacher_id());
    entry.set_kind(v1::TIMELINE_ENTRY_KIND_EXTERNAL);
    entry.set_occurred_on(event.occurred_on());
    entry.set_recorded_at_ms(event.recorded_at_ms());
    entry.set_actor(call.actor);
    entry.set_request_id(event.request_id());
    entry.set_summary(event.summary());
    v1::ExternalEventDetail* detail = entry.mutable_external();
    detail->set_event_id(event.id());
    detail->set_type(event.type());
    detail->set_source(event.source());
    *detail->mutable_payload() = event.payload();
    *idem.mutable_entry() = entry;
    TeacherWrite w;
    w.teacher_id = event.teacher_id();
    w.expect = TeacherWrite::Expect::kPresent;
    w.entries.push_back(entry);
    return store_.WriteTeachers(*county, {w}, WriteContext{"service:profile", "FileEvent", &idem},
                                {}, entry.entry_id())
        .status();
  }

  redis::Pool& pool_;
  const PrincipalSigner& signer_;
  const Clock& clock_;
  const IdCardVault& vault_;
  ProfileStore store_;
  policy::PolicyStore policies_;
};

ProfileServiceImpl::ProfileServiceImpl(redis::Pool& pool, const PrincipalSigner& signer,
                                       const Clock& clock, const IdCardVault& vault)
    : impl_(std::make_shared<Impl>(pool, signer, clock, vault)) {}

absl::Status ProfileServiceImpl::FileExternalEvent(const common::v1::Event& event) {
  return impl_->FileExternalEvent(event);
}

#define SHIDANG_PROFILE_METHOD(Name)                                                        \
  grpc::Status ProfileServiceImpl::Name(grpc::ServerContext* ctx, const v1::Name##Request* req, \
                                        v1::Name##Response* resp) {                        \
    return impl_->Handle(ctx, #Name, [&](const CallContext& call) {                          \
      return impl_->Name(call, *req, resp);                                                  \
    });                                                                                      \
  }

SHIDANG_PROFILE_METHOD(CreateCounty)
SHIDANG_PROFILE_METHOD(GetCounty)
SHIDANG_PROFILE_METHOD(CreateSchool)
SHIDANG_PROFILE_METHOD(GetSchool)
SHIDANG_PROFILE_METHOD(ListSchools)
SHIDANG_PROFILE_METHOD(CreateTeacher)
SHIDANG_PROFILE_METHOD(GetTeacher)
SHIDANG_PROFILE_METHOD(UpdateTeacher)
SHIDANG_PROFILE_METHOD(ListTeachers)
SHIDANG_PROFILE_METHOD(AddTimelineEntry)
SHIDANG_PROFILE_METHOD(ListTimeline)
SHIDANG_PROFILE_METHOD(MoveTeacher)
SHIDANG_PROFILE_METHOD(TransferTeacher)
SHIDANG_PROFILE_METHOD(GetGrowthFile)
SHIDANG_PROFILE_METHOD(ImportRoster)

#undef SHIDANG_PROFILE_METHOD

}  // namespace shidang::profile

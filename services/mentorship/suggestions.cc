#include "services/mentorship/suggestions.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "services/common/dates.h"
#include "services/common/status.h"
#include "services/mentorship/convert.h"
#include "services/mentorship/matching.h"
#include "services/mentorship/policy.h"
#include "services/mentorship/rules.h"

namespace shidang::mentorship {
namespace {

using common::v1::Principal;

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
constexpr int kDefaultLimit = 20;
constexpr int kMaxLimit = 200;

// Every pairing as the rules read them: ended ones too, since a day in the past is judged by the
// pairings running then, and a pairing made from a past day overlaps those ended since.
std::vector<Pairing> BuildPairings(const std::vector<v1::Pairing>& pairings) {
  return ToRulesPairings(pairings);
}

// `build(*from)`, built once per part of a county's copy: ReadCounty hands out the same parts
// while the county is unchanged, and a write shares every part it left alone (a pairing created
// keeps the teachers), so the listings between two writes share the facts, and after a write only
// the changed part's are built again. (The teachers' facts are the copy itself: CountyPeople.)
// Keyed by the part's address, checked against a weak pointer, so a new part at a reused address is
// never taken for an old one.
template <typename From, typename Built>
std::shared_ptr<const Built> BuiltOnce(const std::shared_ptr<const From>& from,
                                       Built (*build)(const From&)) {
  struct Entry {
    std::weak_ptr<const From> from;
    std::shared_ptr<const Built> built;
  };
  static absl::Mutex mutex;
  static auto* built = new absl::flat_hash_map<const From*, Entry>();
  {
    absl::MutexLock lock(&mutex);
    auto found = built->find(from.get());
    if (found != built->end() && found->second.from.lock() == from) return found->second.built;
  }
  auto made = std::make_shared<const Built>(build(*from));
  absl::MutexLock lock(&mutex);
  for (auto it = built->begin(); it != built->end();) {
    if (it->second.from.expired()) {
      built->erase(it++);
    } else {
      ++it;
    }
  }
  (*built)[from.get()] = Entry{from, made};
  return made;
}

// A county's facts: its teachers' and its pairings', each shared with the copies that share the
// part they come from.
struct CountyFacts {
  std::shared_ptr<const CountyPeople> people;
  std::shared_ptr<const std::vector<Pairing>> pairings;
};

CountyFacts FactsOf(const CountyData& data) {
  return CountyFacts{data.people, BuiltOnce(data.pairings, BuildPairings)};
}

std::string NameOf(const CountyData& data, const std::string& teacher_id) {
  std::optional<size_t> found = data.people->Find(teacher_id);
  return found.has_value() ? data.people->names[*found] : "";
}

std::string SchoolOf(const CountyData& data, const std::string& teacher_id) {
  std::optional<size_t> found = data.people->Find(teacher_id);
  return found.has_value() ? data.people->teachers[*found].school_id : "";
}

absl::Status CheckRole(v1::PairingRole role) {
  if (role != v1::PAIRING_ROLE_TEACHING && role != v1::PAIRING_ROLE_SECOND) {
    return InvalidField("role", "required", "TEACHING or SECOND");
  }
  return absl::OkStatus();
}

std::vector<std::string> SharedSubjects(const TeacherFacts& a, const TeacherFacts& b) {
  std::vector<std::string> shared;
  for (const std::string& s : a.subjects) {
    if (std::find(b.subjects.begin(), b.subjects.end(), s) != b.subjects.end()) {
      shared.push_back(s);
    }
  }
  return shared;
}

}  // namespace

absl::Status ListUnpaired(Deps& deps, const CallContext& call, const v1::ListUnpairedRequest& req,
                          v1::ListUnpairedResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.county_id()));
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay as_of, DayOrToday(deps.clock, req.as_of(), "as_of"));
  SHIDANG_ASSIGN_OR_RETURN(int size, PageSize(req.page(), kDefaultPageSize, kMaxPageSize));
  SHIDANG_ASSIGN_OR_RETURN(size_t offset, PageOffset(req.page()));
  SHIDANG_RETURN_IF_ERROR(RequireCountyRead(call.principal, req.county_id(), req.school_id(),
                                            "list the unpaired teachers"));
  SHIDANG_ASSIGN_OR_RETURN(MentorshipPolicy policy,
                           LoadMentorshipPolicy(deps.policies, req.county_id(), as_of));
  SHIDANG_ASSIGN_OR_RETURN(std::shared_ptr<const CountyData> read,
                           deps.store.ReadCounty(req.county_id()));
  const CountyData& data = *read;
  const CountyFacts facts = FactsOf(data);
  std::vector<TeacherFacts> of_school;
  if (!req.school_id().empty()) {
    for (const TeacherFacts& t : facts.people->teachers) {
      if (t.school_id == req.school_id()) of_school.push_back(t);
    }
  }
  std::vector<Unpaired> unpaired = FindUnpaired(
      req.school_id().empty() ? facts.people->teachers : of_school, *facts.pairings, as_of, policy);
  resp->set_as_of(dates::FormatDate(as_of));
  for (size_t i = 0; i < unpaired.size(); ++i) {
    const Unpaired& u = unpaired[i];
    resp->set_lacking_teaching(resp->lacking_teaching() + (u.lacks_teaching ? 1 : 0));
    resp->set_lacking_second(resp->lacking_second() + (u.lacks_second ? 1 : 0));
    if (i < offset || i >= offset + static_cast<size_t>(size)) continue;
    const TeacherFacts& t = facts.people->teachers[facts.people->position.at(u.teacher_id)];
    v1::UnpairedTeacher* row = resp->add_teachers();
    row->set_teacher_id(u.teacher_id);
    row->set_name(NameOf(data, u.teacher_id));
    row->set_school_id(t.school_id);
    for (const std::string& s : t.subjects) row->add_subjects(s);
    row->set_hire_date(dates::FormatDate(t.hire_date));
    row->set_year(static_cast<int32_t>(TeachingYears(t, as_of) + 1));
    row->set_lacks_teaching(u.lacks_teaching);
    row->set_lacks_second(u.lacks_second);
    row->set_new_until(
        dates::FormatDate(dates::ShiftYears(t.hire_date, policy.new_teacher_years) - 1));
  }
  FillPage(offset, size, unpaired.size(), resp->mutable_page());
  return absl::OkStatus();
}

absl::Status SuggestMentors(Deps& deps, const CallContext& call,
                            const v1::SuggestMentorsRequest& req,
                            v1::SuggestMentorsResponse* resp) {
  const Principal& p = call.principal;
  SHIDANG_RETURN_IF_ERROR(CheckRole(req.role()));
  if (req.limit() < 0 || req.limit() > kMaxLimit) {
    return InvalidField("limit", "range", absl::StrCat("0 (", kDefaultLimit, ") to ", kMaxLimit));
  }
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay day,
                           DayOrToday(deps.clock, req.start_date(), "start_date"));
  const std::string what = absl::StrCat("suggest mentors for teacher ", req.mentee_id());
  if (!scope::IsTrusted(p.role()) && !scope::IsHr(p.role()) &&
      p.role() != common::v1::ROLE_SCHOOL_ADMIN) {
    return Denied(p, what);
  }
  absl::StatusOr<LocatedTeacher> mentee = LocateTeacher(deps, req.mentee_id(), "mentee_id");
  if (absl::IsNotFound(mentee.status()) && !scope::IsTrusted(p.role())) return Denied(p, what);
  SHIDANG_RETURN_IF_ERROR(mentee.status());
  SHIDANG_RETURN_IF_ERROR(RequireManage(p, mentee->county_id, v1::PAIRING_KIND_NEW_TEACHER,
                                        req.role(), mentee->teacher.school_id(), what));
  SHIDANG_ASSIGN_OR_RETURN(MentorshipPolicy policy,
                           LoadMentorshipPolicy(deps.policies, mentee->county_id, day));
  SHIDANG_ASSIGN_OR_RETURN(std::shared_ptr<const CountyData> read,
                           deps.store.ReadCounty(mentee->county_id));
  const CountyData& data = *read;
  const CountyFacts facts = FactsOf(data);
  const TeacherFacts mentee_facts = ToTeacherFacts(mentee->teacher, data.people->schools);
  std::vector<TeacherFacts> candidates;
  for (const TeacherFacts& t : facts.people->teachers) {
    if (t.teacher_id != req.mentee_id()) candidates.push_back(t);
  }
  std::map<std::string, const TeacherFacts*> by_id;
  for (const TeacherFacts& t : candidates) by_id[t.teacher_id] = &t;
  const int limit = req.limit() == 0 ? kDefaultLimit : req.limit();
  std::vector<RankedMentor> ranked = RankMentors(mentee_facts, RoleOf({}, req.role()), candidates,
                                                 *facts.pairings, day, policy, limit);
  for (size_t i = 0; i < ranked.size(); ++i) {
    const RankedMentor& r = ranked[i];
    const TeacherFacts& t = *by_id[r.mentor_id];
    v1::MentorSuggestion* s = resp->add_mentors();
    s->set_rank(static_cast<int32_t>(i + 1));
    s->set_mentor_id(r.mentor_id);
    s->set_mentor_name(NameOf(data, r.mentor_id));
    s->set_school_id(t.school_id);
    s->set_title(r.title);
    s->set_backbone_tier(r.backbone_tier);
    s->set_active_mentees(r.active_count);
    s->set_capacity(r.capacity);
    s->set_same_school(t.school_id == mentee_facts.school_id);
    for (const std::string& sub : SharedSubjects(mentee_facts, t)) s->add_shared_subjects(sub);
    s->set_why(r.why);
  }
  return absl::OkStatus();
}

absl::Status SuggestPairings(Deps& deps, const CallContext& call,
                             const v1::SuggestPairingsRequest& req,
                             v1::SuggestPairingsResponse* resp) {
  const Principal& p = call.principal;
  SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.county_id()));
  SHIDANG_RETURN_IF_ERROR(CheckRole(req.role()));
  SHIDANG_ASSIGN_OR_RETURN(absl::CivilDay day,
                           DayOrToday(deps.clock, req.start_date(), "start_date"));
  SHIDANG_RETURN_IF_ERROR(
      RequireCountyRead(p, req.county_id(), req.school_id(), "suggest pairings for the teachers"));
  if (!CoversCounty(p, req.county_id()) && req.role() != v1::PAIRING_ROLE_TEACHING) {
    return Denied(p, "suggest SECOND mentors (a school admin pairs TEACHING mentors only)");
  }
  SHIDANG_ASSIGN_OR_RETURN(MentorshipPolicy policy,
                           LoadMentorshipPolicy(deps.policies, req.county_id(), day));
  SHIDANG_ASSIGN_OR_RETURN(std::shared_ptr<const CountyData> read,
                           deps.store.ReadCounty(req.county_id()));
  const CountyData& data = *read;
  const CountyFacts facts = FactsOf(data);
  const Role role = RoleOf({}, req.role());
  CountySuggestions found =
      SuggestPairings(facts.people->teachers, *facts.pairings, role, day, policy);
  resp->set_start_date(dates::FormatDate(day));
  resp->set_free_places(found.free_places);
  auto in_school = [&](const std::string& mentee_id) {
    return req.school_id().empty() || SchoolOf(data, mentee_id) == req.school_id();
  };
  for (const Suggestion& s : found.suggestions) {
    if (!in_school(s.mentee_id)) continue;
    v1::PairingSuggestion* out = resp->add_suggestions();
    out->set_mentee_id(s.mentee_id);
    out->set_mentee_name(NameOf(data, s.mentee_id));
    out->set_mentee_school_id(SchoolOf(data, s.mentee_id));
    out->set_role(ToProtoRole(s.role));
    out->set_mentor_id(s.mentor_id);
    out->set_mentor_name(NameOf(data, s.mentor_id));
    out->set_mentor_school_id(SchoolOf(data, s.mentor_id));
    out->set_why(s.why);
  }
  for (const LeftOut& l : found.left_out) {
    if (!in_school(l.mentee_id)) continue;
    v1::LeftOutMentee* out = resp->add_left_out();
    out->set_mentee_id(l.mentee_id);
    out->set_mentee_name(NameOf(data, l.mentee_id));
    out->set_why(l.why);
  }
  resp->set_mentees_needing(resp->suggestions_size() + resp->left_out_size());
  return absl::OkStatus();
}

}  // namespace shidang::mentorship

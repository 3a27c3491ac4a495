#include "services/mentorship/matching.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <numeric>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/parallel.h"

namespace shidang::mentorship {
namespace {

constexpr int kUnreached = std::numeric_limits<int>::max();
// The places a mentee's candidate list is first cut at (SuggestPairings), and how many times
// longer each next try's lists are while a mentee with candidates is left out.
constexpr int64_t kFirstCut = 64;
constexpr int64_t kCutGrowth = 8;

bool IsDual(Role role) { return role == Role::kTeaching || role == Role::kSecond; }

bool SharesSubject(const TeacherFacts& a, const TeacherFacts& b) {
  for (const std::string& s : a.subjects) {
    if (std::find(b.subjects.begin(), b.subjects.end(), s) != b.subjects.end()) return true;
  }
  return false;
}

std::vector<std::string> SharedSubjects(const TeacherFacts& a, const TeacherFacts& b) {
  std::vector<std::string> out;
  for (const std::string& s : a.subjects) {
    if (std::find(b.subjects.begin(), b.subjects.end(), s) != b.subjects.end()) out.push_back(s);
  }
  return out;
}

// The mentor-side rules of CheckPairing (in service, title or backbone, years, veto, and for
// URBAN_RURAL a backbone teacher at a 城区 school), on `day`.
bool QualifiesAsMentor(const TeacherFacts& t, Role role, absl::CivilDay day,
                       const MentorshipPolicy& policy) {
  if (!MentorInServiceOn(t, day) || ActiveVeto(t, day, policy) != nullptr) return false;
  if (role == Role::kUrbanRural) {
    return BackboneTierOn(t, day) != common::v1::BACKBONE_TIER_UNSPECIFIED &&
           t.school_location == profile::v1::SCHOOL_LOCATION_URBAN;
  }
  return TitleQualifiesOn(t, day, policy) &&
         TeachingYears(t, day) >= policy.mentor_min_teaching_years;
}

// The mentee-side rules of CheckPairing: new (TEACHING, SECOND) or rural (URBAN_RURAL), in
// service, and without an active pairing in the role (`role_taken`).
bool NeedsMentor(const TeacherFacts& t, Role role, bool role_taken, absl::CivilDay day,
                 const MentorshipPolicy& policy) {
  if (role_taken || !MenteeInServiceOn(t, day)) return false;
  if (role == Role::kUrbanRural) return t.school_location == profile::v1::SCHOOL_LOCATION_RURAL;
  return IsNewTeacher(t, day, policy);
}

// The pair rules of CheckPairing between a needing mentee and a qualified mentor.
// `other_role`: the mentee's active mentors in the other 双导师 role.
bool PairFits(const TeacherFacts& mentee, const TeacherFacts& mentor, Role role,
              const std::vector<std::string>& other_role) {
  if (mentee.teacher_id == mentor.teacher_id || mentee.county_id != mentor.county_id) return false;
  const bool holds_other =
      std::find(other_role.begin(), other_role.end(), mentor.teacher_id) != other_role.end();
  switch (role) {
    case Role::kTeaching:
      return mentee.school_id == mentor.school_id && SharesSubject(mentee, mentor) && !holds_other;
    case Role::kSecond:
      return !holds_other;
    case Role::kUrbanRural:
      return SharesSubject(mentee, mentor);
  }
  return false;
}

bool PreferredPlace(const TeacherFacts& mentee, const TeacherFacts& mentor, Role role) {
  const bool subject = SharesSubject(mentee, mentor);
  if (role == Role::kSecond) return subject && mentee.school_id != mentor.school_id;
  if (role == Role::kTeaching) return subject && mentee.school_id == mentor.school_id;
  return subject;
}

std::string Why(const TeacherFacts& mentee, const TeacherFacts& mentor, Role role, int active,
                int capacity) {
  const std::vector<std::string> shared = SharedSubjects(mentee, mentor);
  const std::string subjects =
      shared.empty() ? "无相同学科" : absl::StrCat("同教", absl::StrJoin(shared, "、"));
  absl::string_view place = mentee.school_id == mentor.school_id ? "同校" : "外校";
  if (role == Role::kUrbanRural) place = "城区学校";
  const absl::string_view tier = TierLabel(mentor.backbone_tier);
  const std::string backbone = tier == "无" ? "非骨干教师" : absl::StrCat(tier, "骨干教师");
  return absl::StrCat(place, "，", subjects, "；", backbone, "；职称", TitleLabel(mentor.title),
                      "；已带 ", active, " 人（最多 ", capacity, " 人）");
}

// Active pairings by mentor (counted for `role`) and by mentee (which roles held, by whom).
struct PairingIndex {
  absl::flat_hash_map<std::string, int> active_by_mentor;
  absl::flat_hash_map<std::string, std::string> mentor_in_role;  // mentee -> mentor in `role`
  // mentee -> its mentors in the other 双导师 role (one, unless the data holds more).
  absl::flat_hash_map<std::string, std::vector<std::string>> mentor_in_other;
};

PairingIndex IndexPairings(const std::vector<Pairing>& pairings, Role role) {
  PairingIndex index;
  for (const Pairing& p : pairings) {
    if (!p.active()) continue;
    if (IsDual(p.role) == IsDual(role)) ++index.active_by_mentor[p.mentor_id];
    if (p.role == role) {
      index.mentor_in_role[p.mentee_id] = p.mentor_id;
    } else if (IsDual(p.role) && IsDual(role)) {
      index.mentor_in_other[p.mentee_id].push_back(p.mentor_id);
    }
  }
  return index;
}

const std::vector<std::string>& OtherRole(const PairingIndex& index, const std::string& mentee) {
  static const std::vector<std::string> kNone;
  auto it = index.mentor_in_other.find(mentee);
  return it == index.mentor_in_other.end() ? kNone : it->second;
}

template <typename Map>
int Count(const Map& map, const std::string& key) {
  auto it = map.find(key);
  return it == map.end() ? 0 : it->second;
}

// Order of mentors that does not depend on the mentee: backbone tier, load, title, id.
bool GlobalBefore(const TeacherFacts& a, int a_active, const TeacherFacts& b, int b_active) {
  if (a.backbone_tier != b.backbone_tier) return a.backbone_tier > b.backbone_tier;
  if (a_active != b_active) return a_active < b_active;
  if (a.title != b.title) return a.title > b.title;
  return a.teacher_id < b.teacher_id;
}

}  // namespace

bool RankedBefore(const RankedMentor& a, const RankedMentor& b) {
  if (a.preferred_place_and_subject != b.preferred_place_and_subject) {
    return a.preferred_place_and_subject;
  }
  if (a.backbone_tier != b.backbone_tier) return a.backbone_tier > b.backbone_tier;
  if (a.active_count != b.active_count) return a.active_count < b.active_count;
  if (a.title != b.title) return a.title > b.title;
  return a.mentor_id < b.mentor_id;
}

std::vector<RankedMentor> RankMentors(const TeacherFacts& mentee, Role role,
                                      const std::vector<TeacherFacts>& candidates,
                                      const std::vector<Pairing>& pairings, absl::CivilDay day,
                                      const MentorshipPolicy& policy, int limit) {
  const PairingIndex index = IndexPairings(pairings, role);
  std::vector<RankedMentor> out;
  const bool taken = index.mentor_in_role.contains(mentee.teacher_id);
  if (!NeedsMentor(mentee, role, taken, day, policy)) return out;
  const std::vector<std::string>& other = OtherRole(index, mentee.teacher_id);
  for (const TeacherFacts& mentor : candidates) {
    const int active = Count(index.active_by_mentor, mentor.teacher_id);
    if (active >= policy.max_mentees || !QualifiesAsMentor(mentor, role, day, policy) ||
        !PairFits(mentee, mentor, role, other)) {
      continue;
    }
    RankedMentor r;
    r.mentor_id = mentor.teacher_id;
    r.preferred_place_and_subject = PreferredPlace(mentee, mentor, role);
    r.backbone_tier = mentor.backbone_tier;
    r.title = mentor.title;
    r.active_count = active;
    r.capacity = policy.max_mentees;
    r.why = Why(mentee, mentor, role, active, policy.max_mentees);
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), RankedBefore);
  if (limit > 0 && out.size() > static_cast<size_t>(limit)) out.resize(limit);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Hopcroft-Karp with capacities.

namespace {

class BMatcher {
 public:
  explicit BMatcher(const BipartiteGraph& g)
      : g_(g),
        match_(g.left_count, -1),
        held_(g.right_capacity.size()),
        dist_(g.left_count),
        next_(g.left_count) {}

  std::vector<int> Run() {
    SeedGreedily();
    while (Layer()) {
      std::fill(next_.begin(), next_.end(), 0);
      for (int l = 0; l < g_.left_count; ++l) {
        if (match_[l] < 0) Augment(l);
      }
    }
    return std::move(match_);
  }

 private:
  bool Free(int r) const { return static_cast<int>(held_[r].size()) < g_.right_capacity[r]; }

  void Take(int l, int r) {
    held_[r].push_back(l);
    match_[l] = r;
  }

  // Left vertices with fewer candidates first, each its best candidate with a free place.
  void SeedGreedily() {
    std::vector<int> order(g_.left_count);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return g_.candidates[a].size() < g_.candidates[b].size();
    });
    for (int l : order) {
      for (int r : g_.candidates[l]) {
        if (Free(r)) {
          Take(l, r);
          break;
        }
      }
    }
  }

  // Breadth-first layers from the unmatched left vertices over alternating paths (a full right
  // vertex leads on to every left vertex it holds); true when some path reaches a free place.
  // limit_ is the layer of the shortest such paths; deeper layers are not used.
  bool Layer() {
    std::deque<int> queue;
    for (int l = 0; l < g_.left_count; ++l) {
      dist_[l] = match_[l] < 0 ? 0 : kUnreached;
      if (match_[l] < 0) queue.push_back(l);
    }
    limit_ = kUnreached;
    while (!queue.empty()) {
      const int l = queue.front();
      queue.pop_front();
      if (dist_[l] >= limit_) continue;
      for (int r : g_.candidates[l]) {
        if (Free(r)) {
          limit_ = std::min(limit_, dist_[l]);
          continue;
        }
        for (int w : held_[r]) {
          if (dist_[w] == kUnreached) {
            dist_[w] = dist_[l] + 1;
            queue.push_back(w);
          }
        }
      }
    }
    return limit_ != kUnreached;
  }

  // Depth-first along the layers from left vertex l, best candidate first; on success l holds a
  // place and every vertex on the path has moved one step.
  bool Augment(int l) {
    for (; next_[l] < g_.candidates[l].size(); ++next_[l]) {
      const int r = g_.candidates[l][next_[l]];
      if (Free(r)) {
        if (dist_[l] != limit_) continue;
        Take(l, r);
        return true;
      }
      for (size_t i = 0; i < held_[r].size(); ++i) {
        const int w = held_[r][i];
        if (dist_[w] != dist_[l] + 1 || dist_[w] > limit_) continue;
        if (Augment(w)) {
          held_[r][i] = l;
          match_[l] = r;
          return true;
        }
      }
    }
    dist_[l] = kUnreached;
    return false;
  }

  const BipartiteGraph& g_;
  std::vector<int> match_;
  std::vector<std::vector<int>> held_;
  std::vector<int> dist_;
  std::vector<size_t> next_;
  int limit_ = kUnreached;
};

}  // namespace

std::vector<int> MaximumBMatching(const BipartiteGraph& graph) { return BMatcher(graph).Run(); }

// ---------------------------------------------------------------------------------------------
// A county's assignment.

namespace {

// The county's mentees and qualified mentors, with each mentee's candidates best first.
struct CountyGraph {
  std::vector<const TeacherFacts*> mentees;
  std::vector<const TeacherFacts*> mentors;
  std::vector<int> active;  // per mentor
  BipartiteGraph graph;
};

// Mentor indexes in the mentee-independent order, by school and by subject.
struct MentorOrder {
  std::vector<int> global;
  absl::flat_hash_map<std::string, std::vector<int>> by_school;
  absl::flat_hash_map<std::string, std::vector<int>> by_subject;
};

MentorOrder OrderMentors(const CountyGraph& c) {
  MentorOrder o;
  o.global.resize(c.mentors.size());
  std::iota(o.global.begin(), o.global.end(), 0);
  std::sort(o.global.begin(), o.global.end(), [&](int a, int b) {
    return GlobalBefore(*c.mentors[a], c.active[a], *c.mentors[b], c.active[b]);
  });
  for (int m : o.global) {
    o.by_school[c.mentors[m]->school_id].push_back(m);
    for (const std::string& s : c.mentors[m]->subjects) o.by_subject[s].push_back(m);
  }
  return o;
}

// Calls visit(m) for the mentors of `lists` (each in global order) merged in global order,
// without repeats, until visit returns false.
template <typename Visit>
void VisitMerged(const std::vector<const std::vector<int>*>& lists, const std::vector<int>& rank_of,
                 std::vector<int>& stamp, int stamp_value, Visit visit) {
  std::vector<size_t> at(lists.size(), 0);
  while (true) {
    int best = -1;
    for (size_t k = 0; k < lists.size(); ++k) {
      while (at[k] < lists[k]->size() && stamp[(*lists[k])[at[k]]] == stamp_value) ++at[k];
      if (at[k] == lists[k]->size()) continue;
      const int m = (*lists[k])[at[k]];
      if (best < 0 || rank_of[m] < rank_of[best]) best = m;
    }
    if (best < 0) return;
    stamp[best] = stamp_value;
    if (!visit(best)) return;
  }
}

// Each teacher's subjects as a bit set and school and county as numbers, so that the pair rules
// of a candidate edge compare integers: a county's SECOND lists reach a million edges, and
// comparing subject and school strings for each was most of SuggestPairings' time. nullopt when
// the county has more than 64 subjects; the string rules decide then.
struct PairKeys {
  std::vector<uint64_t> mentee_subjects, mentor_subjects;
  std::vector<int> mentee_school, mentor_school, mentee_county, mentor_county;
  absl::flat_hash_map<absl::string_view, int> mentor_of_id;
};

std::optional<PairKeys> MakePairKeys(const CountyGraph& c) {
  absl::flat_hash_map<absl::string_view, int> subject, school, county;
  auto number = [](absl::flat_hash_map<absl::string_view, int>& ids, absl::string_view key) {
    return ids.emplace(key, static_cast<int>(ids.size())).first->second;
  };
  PairKeys keys;
  bool fits = true;
  auto fill = [&](const std::vector<const TeacherFacts*>& side, std::vector<uint64_t>& subjects,
                  std::vector<int>& schools, std::vector<int>& counties) {
    for (const TeacherFacts* t : side) {
      uint64_t mask = 0;
      for (const std::string& s : t->subjects) {
        const int id = number(subject, s);
        if (id >= 64) fits = false;
        if (id < 64) mask |= uint64_t{1} << id;
      }
      subjects.push_back(mask);
      schools.push_back(number(school, t->school_id));
      counties.push_back(number(county, t->county_id));
    }
  };
  fill(c.mentees, keys.mentee_subjects, keys.mentee_school, keys.mentee_county);
  fill(c.mentors, keys.mentor_subjects, keys.mentor_school, keys.mentor_county);
  if (!fits) return std::nullopt;
  for (size_t m = 0; m < c.mentors.size(); ++m) {
    keys.mentor_of_id.emplace(c.mentors[m]->teacher_id, static_cast<int>(m));
  }
  return keys;
}

// PairFits and PreferredPlace of mentee i and mentor m over PairKeys; `other`: the mentors the
// mentee holds in the other 双导师 role, as mentor indexes.
struct Fit {
  bool fits = false;
  bool preferred = false;
};
Fit FitOf(const CountyGraph& c, const PairKeys& k, size_t i, int m, Role role,
          const std::vector<int>& other) {
  if (c.mentees[i] == c.mentors[m] || k.mentee_county[i] != k.mentor_county[m]) return {};
  const bool subject = (k.mentee_subjects[i] & k.mentor_subjects[m]) != 0;
  const bool same_school = k.mentee_school[i] == k.mentor_school[m];
  const bool holds_other = std::find(other.begin(), other.end(), m) != other.end();
  switch (role) {
    case Role::kTeaching:
      return {same_school && subject && !holds_other, subject && same_school};
    case Role::kSecond:
      return {!holds_other, subject && !same_school};
    case Role::kUrbanRural:
      return {subject, subject};
  }
  return {};
}

// What every mentee's candidate list is drawn from: the mentors in order and their pair keys,
// the same for every cut (SuggestPairings), so built once.
struct CandidateSource {
  MentorOrder order;
  std::vector<int> rank_of;  // mentor -> its place in order.global
  std::optional<PairKeys> keys;
};

CandidateSource SourceOf(const CountyGraph& c) {
  CandidateSource source;
  source.order = OrderMentors(c);
  source.rank_of.resize(c.mentors.size());
  for (size_t i = 0; i < source.order.global.size(); ++i) {
    source.rank_of[source.order.global[i]] = static_cast<int>(i);
  }
  source.keys = MakePairKeys(c);
  return source;
}

// Mentee i's candidates, best first, cut once their free places reach `needed` (see matching.h
// and SuggestPairings). Preferred candidates come from the subject (or school) lists, the rest,
// for SECOND, from the global order. `stamp` (one per mentor, never holding i) marks the mentors
// already visited for i.
std::vector<int> CandidatesOf(const CountyGraph& c, size_t i, Role role, const PairingIndex& index,
                              const CandidateSource& source, int64_t needed,
                              std::vector<int>& stamp) {
  static const std::vector<int> kNone;
  const std::optional<PairKeys>& keys = source.keys;
  const MentorOrder& order = source.order;
  const TeacherFacts& mentee = *c.mentees[i];
  const std::vector<std::string>& other = OtherRole(index, mentee.teacher_id);
  std::vector<int> other_index;
  for (const std::string& id : other) {
    if (keys.has_value()) {
      auto found = keys->mentor_of_id.find(id);
      if (found != keys->mentor_of_id.end()) other_index.push_back(found->second);
    }
  }
  std::vector<int> list;
  int64_t places = 0;
  // Adds mentor m when it fits (and belongs to this pass); false once the list is long enough.
  auto consider = [&](int m, bool preferred_pass) {
    const TeacherFacts& mentor = *c.mentors[m];
    const Fit fit = keys.has_value() ? FitOf(c, *keys, i, m, role, other_index)
                                     : Fit{PairFits(mentee, mentor, role, other),
                                           PreferredPlace(mentee, mentor, role)};
    if (fit.fits && preferred_pass == fit.preferred) {
      list.push_back(m);
      places += c.graph.right_capacity[m];
    }
    return places < needed;
  };
  std::vector<const std::vector<int>*> lists;
  if (role == Role::kTeaching) {
    auto it = order.by_school.find(mentee.school_id);
    lists.push_back(it == order.by_school.end() ? &kNone : &it->second);
  } else {
    for (const std::string& s : mentee.subjects) {
      auto it = order.by_subject.find(s);
      if (it != order.by_subject.end()) lists.push_back(&it->second);
    }
  }
  const int stamp_value = static_cast<int>(i);
  VisitMerged(lists, source.rank_of, stamp, stamp_value, [&](int m) { return consider(m, true); });
  if (role == Role::kSecond && places < needed) {
    // The others (same school, or no shared subject) in global order.
    for (int m : order.global) {
      if (!consider(m, false)) break;
    }
  }
  return list;
}

// Every mentee's candidate list for the cut `needed`: the lists are independent of each other,
// so they are built in slices on as many threads as pay (a county's SECOND lists hold hundreds
// of thousands of edges).
void BuildCandidates(CountyGraph& c, Role role, const PairingIndex& index,
                     const CandidateSource& source, int64_t needed) {
  constexpr size_t kMenteesPerSlice = 256;
  c.graph.candidates.assign(c.mentees.size(), {});
  ForEachSlice(c.mentees.size(), kMenteesPerSlice, [&](size_t, size_t begin, size_t end) {
    std::vector<int> stamp(c.mentors.size(), -1);
    for (size_t i = begin; i < end; ++i) {
      c.graph.candidates[i] = CandidatesOf(c, i, role, index, source, needed, stamp);
    }
  });
}

// The county's mentees and qualified mentors, without candidate lists yet.
CountyGraph BuildCountyGraph(const std::vector<TeacherFacts>& teachers, Role role,
                             const PairingIndex& index, absl::CivilDay day,
                             const MentorshipPolicy& policy) {
  CountyGraph c;
  for (const TeacherFacts& t : teachers) {
    const bool taken = index.mentor_in_role.contains(t.teacher_id);
    if (NeedsMentor(t, role, taken, day, policy)) c.mentees.push_back(&t);
    const int active = Count(index.active_by_mentor, t.teacher_id);
    if (active < policy.max_mentees && QualifiesAsMentor(t, role, day, policy)) {
      c.mentors.push_back(&t);
      c.active.push_back(active);
      c.graph.right_capacity.push_back(policy.max_mentees - active);
    }
  }
  c.graph.left_count = static_cast<int>(c.mentees.size());
  return c;
}

bool LeavesOutOneWithCandidates(const CountyGraph& c, const std::vector<int>& match) {
  for (size_t i = 0; i < match.size(); ++i) {
    if (match[i] < 0 && !c.graph.candidates[i].empty()) return true;
  }
  return false;
}

std::string NoCandidateWhy(const TeacherFacts& mentee, Role role) {
  const std::string teaches =
      mentee.subjects.empty() ? "" : absl::StrCat("教", absl::StrJoin(mentee.subjects, "、"), "、");
  switch (role) {
    case Role::kTeaching:
      return absl::StrCat("本校没有", teaches, "尚有名额的合格导师");
    case Role::kSecond:
      return "全县没有尚有名额的合格导师";
    case Role::kUrbanRural:
      return absl::StrCat("没有", teaches, "尚有名额的城区骨干教师");
  }
  return "";
}

}  // namespace

CountySuggestions SuggestPairings(const std::vector<TeacherFacts>& teachers,
                                  const std::vector<Pairing>& pairings, Role role,
                                  absl::CivilDay day, const MentorshipPolicy& policy) {
  const PairingIndex index = IndexPairings(pairings, role);
  // First with each list cut at kFirstCut places. When that pairs every mentee that has any
  // candidate, no matching pairs more (an unpaired mentee's list is then empty and uncut: it has
  // no candidate at all), and the lists are prefixes of the full ones, so ranks read the same.
  // Otherwise the lists are built again kCutGrowth times longer, until that pairs everyone who has
  // a candidate or the cut reaches the number of mentees (matching.h), which keeps a maximum
  // matching. In a county with places to spare (1,500 new teachers, thousands of qualified
  // SECOND mentors) this keeps E near mentees x kFirstCut instead of mentees^2 / 2; where many
  // mentees share one subject and so the same best mentors, near mentees x the places they share
  // (the bench's county: 512 places, where the cut at the number of mentees made it 1,500).
  int64_t cut = kFirstCut;
  CountyGraph c = BuildCountyGraph(teachers, role, index, day, policy);
  const CandidateSource source = SourceOf(c);
  const int64_t mentees = static_cast<int64_t>(c.mentees.size());
  BuildCandidates(c, role, index, source, std::min(cut, mentees));
  std::vector<int> match = MaximumBMatching(c.graph);
  while (cut < mentees && LeavesOutOneWithCandidates(c, match)) {
    cut *= kCutGrowth;
    BuildCandidates(c, role, index, source, std::min(cut, mentees));
    match = MaximumBMatching(c.graph);
  }

  CountySuggestions out;
  out.role = role;
  out.mentees_needing = static_cast<int>(c.mentees.size());
  for (int cap : c.graph.right_capacity) out.free_places += cap;
  std::vector<int> held(c.mentors.size());  // places each mentor gives in the assignment
  int matched = 0;
  for (size_t i = 0; i < match.size(); ++i) {
    if (match[i] >= 0) {
      ++held[match[i]];
      ++matched;
    }
  }
  for (size_t i = 0; i < c.mentees.size(); ++i) {
    const TeacherFacts& mentee = *c.mentees[i];
    const std::vector<int>& list = c.graph.candidates[i];
    if (match[i] < 0) {
      // A mentee left out has its whole candidate list: a cut list holds places for every
      // mentee, so a maximum assignment always pairs its owner.
      std::string why =
          list.empty() ? NoCandidateWhy(mentee, role)
                       : absl::StrCat(list.size(), " 位候选导师的名额都已给其他新教师（最多能为 ",
                                      c.mentees.size(), " 人中的 ", matched, " 人结对）");
      out.left_out.push_back(LeftOut{mentee.teacher_id, std::move(why)});
      continue;
    }
    const int m = match[i];
    Suggestion s;
    s.mentee_id = mentee.teacher_id;
    s.mentor_id = c.mentors[m]->teacher_id;
    s.role = role;
    s.rank = static_cast<int>(std::find(list.begin(), list.end(), m) - list.begin());
    s.why = Why(mentee, *c.mentors[m], role, c.active[m], policy.max_mentees);
    if (s.rank > 0) {
      const int best = list[0];
      absl::StrAppend(&s.why, "；第 ", s.rank + 1, " 人选：首选导师的 ",
                      c.graph.right_capacity[best], " 个名额给了另 ", held[best],
                      " 位新教师，以便结对更多人");
    }
    out.suggestions.push_back(std::move(s));
  }
  return out;
}

}  // namespace shidang::mentorship

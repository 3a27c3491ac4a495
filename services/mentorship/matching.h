#pragma once

// Mentor suggestions (issue 16): candidates ranked for one mentee, and for a whole county an
// assignment that pairs as many mentees as the mentors' free places allow. Pure functions over
// the rules' plain values (rules.h); suggestions write nothing. Pinned down by
// tests/mentorship/matching_test.cc.
//
// The county assignment is a maximum b-matching: mentees on one side, mentors on the other with
// their free places as capacity (a mentor with 2 free places takes up to 2 mentees). It is found
// by Hopcroft-Karp generalised to capacities, O(E·√V), seeded with a greedy pass in preference
// order, so that among maximum matchings it keeps the preferred pairs where it can: an augmenting
// path changes only the pairs along it, and each mentee tries its candidates best first.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "services/mentorship/rules.h"

namespace shidang::mentorship {

// ---------------------------------------------------------------------------------------------
// Ranking candidates for one mentee.

// One mentor who satisfies every rule for the mentee and role on the day, with a free place.
struct RankedMentor {
  std::string mentor_id;
  // The first ranking key. TEACHING: at the mentee's school and sharing a subject (the rules
  // demand both, so every candidate has it). SECOND: at another school and sharing a subject
  // (DOMAIN §4: usually from another school; an expert of the subject helps most). URBAN_RURAL:
  // sharing a subject (demanded too).
  bool preferred_place_and_subject = false;
  common::v1::BackboneTier backbone_tier = common::v1::BACKBONE_TIER_UNSPECIFIED;
  common::v1::ProfessionalTitle title = common::v1::PROFESSIONAL_TITLE_UNSPECIFIED;
  // Active pairings counted for the role (ActiveCountFor), and the capacity.
  int active_count = 0;
  int capacity = 0;
  // Why it is suggested, in Chinese for HR, with the figures: "同校，同教数学；市级骨干教师；
  // 职称一级；已带 1 人（最多 2 人）".
  std::string why;
};

// The order of candidates, best first: preferred place and subject, then higher backbone tier,
// then fewer active pairings, then higher title, then teacher id (so the order is total).
bool RankedBefore(const RankedMentor& a, const RankedMentor& b);

// The teachers of `candidates` who may mentor `mentee` in `role` from `day` (CheckPairing finds
// no problem for a request starting on `day`), ranked. `pairings` holds the pairings of the
// mentee and of the candidates (the active ones count, as in CheckPairing). The rank reads
// backbone tier and title as they are now. `limit` > 0 keeps the first `limit`.
std::vector<RankedMentor> RankMentors(const TeacherFacts& mentee, Role role,
                                      const std::vector<TeacherFacts>& candidates,
                                      const std::vector<Pairing>& pairings, absl::CivilDay day,
                                      const MentorshipPolicy& policy, int limit = 0);

// ---------------------------------------------------------------------------------------------
// The maximum b-matching itself, over indexes.

// A bipartite graph: left vertices 0..left_count-1 (mentees), right vertices with a capacity
// each (mentors and their free places); candidates[l] lists the right vertices left vertex l may
// take, best first (no duplicates).
struct BipartiteGraph {
  int left_count = 0;
  std::vector<int> right_capacity;
  std::vector<std::vector<int>> candidates;
};

// A maximum b-matching of `graph`: match[l] is the right vertex left vertex l takes, or -1. No
// right vertex takes more left vertices than its capacity, and no other assignment matches more
// left vertices. Seeded greedily: left vertices with fewer candidates first, each its best
// candidate with a free place; then Hopcroft-Karp phases (shortest augmenting paths, tried best
// candidate first) until none is left.
std::vector<int> MaximumBMatching(const BipartiteGraph& graph);

// ---------------------------------------------------------------------------------------------
// A county's assignment.

struct Suggestion {
  std::string mentee_id;
  std::string mentor_id;
  Role role = Role::kTeaching;
  // The mentor's place in the mentee's ranking (0: its best candidate).
  int rank = 0;
  // Why this mentor (RankedMentor::why), and when it is not the mentee's best candidate, why not
  // that one ("第 2 人选：首选导师的 1 个名额给了另 1 位新教师，以便结对更多人").
  std::string why;
};

struct LeftOut {
  std::string mentee_id;
  // "本校没有教数学、尚有名额的合格导师", or "3 位候选导师的名额都已给其他新教师（最多能为 5 人中的
  // 3 人结对）".
  std::string why;
};

struct CountySuggestions {
  Role role = Role::kTeaching;
  // Mentees who need a mentor in the role, and how many of them the assignment pairs.
  int mentees_needing = 0;
  std::vector<Suggestion> suggestions;  // in the order of the teachers given
  std::vector<LeftOut> left_out;        // in the order of the teachers given
  // Free places of all qualified mentors before the assignment.
  int64_t free_places = 0;
};

// For one county's teachers (`teachers`: every teacher of the county, mentees and candidate
// mentors alike) and their `pairings` (the active ones count, as in CheckPairing), the mentees a
// pairing in `role` from `day` may be made for (for TEACHING and SECOND: new teachers in service
// on `day` without an active mentor in the role; for URBAN_RURAL: rural teachers in service
// without an active urban-rural partner) paired with mentors that satisfy every rule, as many as
// the mentors' free places allow (MaximumBMatching).
//
// Each mentee's candidate list is cut, best first, once its candidates' free places reach the
// number of mentees (tried first with a cut at 64 places, then 512, 4,096, ..., kept as soon as
// it pairs every mentee who has a candidate): this keeps a maximum matching (any mentee matched
// outside its list can be moved to a place on its list, which others can fill at most one short of)
// and keeps E near mentees × places-needed when every mentor qualifies (SECOND).
CountySuggestions SuggestPairings(const std::vector<TeacherFacts>& teachers,
                                  const std::vector<Pairing>& pairings, Role role,
                                  absl::CivilDay day, const MentorshipPolicy& policy);

}  // namespace shidang::mentorship

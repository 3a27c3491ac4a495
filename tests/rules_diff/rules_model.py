"""An independent reference model of DOMAIN §6's rotation and mentorship rules.

Written from /work/shared/DOMAIN.md §3, §4 and §6 (and README's "Readings of DOMAIN where it
leaves room" where DOMAIN leaves a choice open), not from the services' code: the differential
test (rules_diff_test.py) compares the real platform's answers with this model's. Standard
library only; every count and ratio is an exact integer computation.
"""

import datetime as dt

DAY = dt.timedelta(days=1)


def parse(s):
    return dt.date.fromisoformat(s) if s else None


def shift_months(a, months):
    """DOMAIN §6: shifting onto a day the month lacks gives the 1st of the next month."""
    total = a.year * 12 + (a.month - 1) + months
    year, month = divmod(total, 12)
    month += 1
    try:
        return dt.date(year, month, a.day)
    except ValueError:
        # The 1st of the month after the target month.
        year2, month2 = divmod(year * 12 + month, 12)
        return dt.date(year2, month2 + 1, 1)


def shift_years(a, years):
    return shift_months(a, 12 * years)


def whole_years(since, day):
    """The largest n with shift(since, n) <= day (0 when since is after day)."""
    if since is None or since > day:
        return 0
    n = day.year - since.year
    while n > 0 and shift_years(since, n) > day:
        n -= 1
    while shift_years(since, n + 1) <= day:
        n += 1
    return n


def ceil_percent(percent, count):
    """ceil(percent/100 × count) in integers."""
    return -(-(percent * count) // 100)


# ---------------------------------------------------------------------------------------------
# Rotation.

ELIGIBLE = "ELIGIBLE"
TOO_FEW_YEARS = "TOO_FEW_YEARS"
NEAR_RETIREMENT = "NEAR_RETIREMENT"
DEFERRED = "DEFERRED"
NOT_PUBLIC_COMPULSORY = "NOT_PUBLIC_COMPULSORY"
NOT_IN_SERVICE = "NOT_IN_SERVICE"

ROTATION_DEFAULTS = {
    "min_years_at_school": 6,
    "leader_terms": 2,
    "leader_term_years": 3,
    "retirement_exclusion_years": 0,
    "ratio_percent": 10,
    "backbone_ratio_percent": 20,
    "school_year_start": "09-01",
    "min_duration_years": 1,
    "count_only_eligible": True,
    "counting_directions": [("URBAN", "RURAL"), ("TOWN", "RURAL"), ("STRONG", "WEAK"),
                            ("CENTRAL", "VILLAGE"), ("CENTRAL", "TEACHING_POINT")],
    "other_directions_count": False,
    "counting_forms": None,  # None: every form
}


def school_year_first_day(year, policy):
    month, day = policy["school_year_start"].split("-")
    return dt.date(year, int(month), int(day))


def post_status_on(teacher, day):
    """The latest status change dated on or before `day`, else the status the teacher was
    created with (README: the post status that day)."""
    status = teacher["initial_post_status"]
    for on, to in sorted(teacher["post_status_changes"]):
        if on <= day:
            status = to
    return status


def leader_post_on(teacher, school_id, day):
    """The leadership post held at `school_id` on `day` (a post ending that day was held)."""
    held = None
    for post in teacher["leadership_posts"]:
        if post["school_id"] != school_id:
            continue
        if post["from"] <= day and (post["to"] is None or post["to"] >= day):
            if held is None or post["from"] > held["from"]:
                held = post
    return held


def stint_on(teacher, day):
    """The school a teacher was at as `day` began (README: a move taking effect that day leaves
    them at the school they leave), as (school_id, joined_on); a teacher whose first school
    starts that day is judged there; None before their first school."""
    stints = sorted(teacher["stints"], key=lambda s: s[1])
    before = [s for s in stints if s[1] < day]
    if before:
        return before[-1]
    if stints and stints[0][1] == day:
        return stints[0]
    return None


def judge_eligibility(teacher, schools, first_day, policy, deferrals):
    """DOMAIN §6: every teacher judged on the school year's first day, at the school they were
    at that day. Returns a dict with the school, the reason (README's order) and the figures
    behind it; None for a teacher at no school of the county that day."""
    stint = stint_on(teacher, first_day)
    if stint is None:
        return None
    school = schools[stint[0]]
    post = leader_post_on(teacher, school["school_id"], first_day)
    if post is not None:
        counted_from = post["from"]
        required_years = policy["leader_terms"] * policy["leader_term_years"]
    else:
        counted_from = stint[1]
        required_years = policy["min_years_at_school"]
    years = whole_years(counted_from, first_day)
    eligible_from = shift_years(counted_from, required_years)
    retirement = teacher["retirement_date"]
    covering = [d for d in deferrals
                if d["from"] <= first_day and (d["to"] is None or d["to"] >= first_day)]
    if not (school["public"] and school["compulsory"]):
        reason = NOT_PUBLIC_COMPULSORY
    elif not teacher["staffed"] or post_status_on(teacher, first_day) != "ON_DUTY":
        reason = NOT_IN_SERVICE
    elif eligible_from > first_day:  # "N whole years since X on day D" is shift(X, N) <= D
        reason = TOO_FEW_YEARS
    elif retirement is not None and (
            retirement <= first_day
            or retirement < shift_years(first_day, policy["retirement_exclusion_years"])):
        reason = NEAR_RETIREMENT
    elif covering:
        reason = DEFERRED
    else:
        reason = ELIGIBLE
    return {
        "school_id": school["school_id"],
        "reason": reason,
        "eligible": reason == ELIGIBLE,
        "years_at_school": years,
        "counted_from": counted_from,
        "required_years": required_years,
        "eligible_from": eligible_from,
        "leader": post is not None,
    }


def school_kinds(school):
    """The kinds a school is of, as the policy's directions name them."""
    kinds = {school["location"], school["quality"]}
    kinds.add({"CENTRAL_SCHOOL": "CENTRAL", "VILLAGE_SCHOOL": "VILLAGE",
               "TEACHING_POINT": "TEACHING_POINT"}.get(school["kind"], "REGULAR"))
    return kinds


def direction_counts(sending, receiving, policy):
    if policy["other_directions_count"]:
        return True
    from_kinds, to_kinds = school_kinds(sending), school_kinds(receiving)
    return any(f in from_kinds and t in to_kinds for f, t in policy["counting_directions"])


def duration_reaches(rotation, policy):
    """README: the planned end is the stay's last day, so the stay reaches N years when
    planned_end >= shift(start, N) - 1 day."""
    reach = shift_years(rotation["start"], policy["min_duration_years"])
    return rotation["planned_end"] >= reach - DAY


def counting_reason(rotation, year_first_day, next_first_day, policy, eligible_at_sending):
    """Why a rotation does (not) count in the school year from year_first_day (proto order)."""
    if not (year_first_day <= rotation["start"] < next_first_day):
        return "OTHER_SCHOOL_YEAR"
    if rotation["state"] == "CANCELLED":
        return "CANCELLED"
    if rotation["state"] not in ("APPROVED", "STARTED", "COMPLETED"):
        return "NOT_APPROVED"
    forms = policy["counting_forms"]
    if forms is not None and rotation["form"] not in forms:
        return "FORM_NOT_COUNTED"
    if policy["count_only_eligible"] and not eligible_at_sending:
        return "NOT_ELIGIBLE"
    if not direction_counts(rotation["sending"], rotation["receiving"], policy):
        return "WRONG_DIRECTION"
    if not duration_reaches(rotation, policy):
        return "TOO_SHORT"
    return "COUNTS"


def quota_figures(eligible, counting_teachers, backbone_teachers, policy):
    """DOMAIN §6: required = ceil(ratio × eligible); backbone_required = ceil(backbone_ratio ×
    max(counting, required)); shortfalls never negative."""
    counting = len(counting_teachers)
    backbone = len(backbone_teachers)
    required = ceil_percent(policy["ratio_percent"], eligible)
    backbone_required = ceil_percent(policy["backbone_ratio_percent"], max(counting, required))
    shortfall = max(0, required - counting)
    backbone_shortfall = max(0, backbone_required - backbone)
    return {
        "eligible": eligible,
        "counting": counting,
        "required": required,
        "backbone_counting": backbone,
        "backbone_required": backbone_required,
        "shortfall": shortfall,
        "backbone_shortfall": backbone_shortfall,
        "passes": shortfall == 0 and backbone_shortfall == 0,
        # counting / eligible × 100 to 2 decimals, kept exact as a fraction here.
        "percent_num": 100 * counting,
        "percent_den": eligible,
    }


def backbone_on(teacher, day):
    """A backbone teacher on `day`: the latest designation dated on or before it has a tier
    (README: backbone is judged on the rotation's start day; a lapse records no tier)."""
    tier = None
    for on, t in sorted(teacher["backbone_changes"], key=lambda c: c[0]):
        if on <= day:
            tier = t
    return tier is not None


def compliance(year, teachers, schools, rotations, deferrals_by_teacher, policy):
    """GetRotationCompliance for one school year: county and per-school figures, and the
    school year's rotations that do not count with their reason."""
    first = school_year_first_day(year, policy)
    next_first = school_year_first_day(year + 1, policy)
    verdicts = {}
    eligibility = {}
    for t in teachers.values():
        eligibility[t["teacher_id"]] = judge_eligibility(
            t, schools, first, policy, deferrals_by_teacher.get(t["teacher_id"], []))
    per_school_eligible = {}
    for tid, e in eligibility.items():
        if e is not None and e["eligible"]:
            sid = e["school_id"]
            per_school_eligible[sid] = per_school_eligible.get(sid, 0) + 1
    counting = {}  # school -> set of teacher ids
    backbone = {}
    for r in rotations:
        if not (first <= r["start"] < next_first):
            continue
        teacher = teachers[r["teacher_id"]]
        judged = eligibility[r["teacher_id"]]
        eligible_at_sending = (judged is not None and judged["eligible"]
                               and judged["school_id"] == r["sending"]["school_id"])
        reason = counting_reason(r, first, next_first, policy, eligible_at_sending)
        verdicts[r["rotation_id"]] = reason
        sid = r["sending"]["school_id"]
        if reason == "COUNTS":
            counting.setdefault(sid, set()).add(r["teacher_id"])
            if backbone_on(teacher, r["start"]):
                backbone.setdefault(sid, set()).add(r["teacher_id"])
    county_counting = set().union(*counting.values()) if counting else set()
    county_backbone = set().union(*backbone.values()) if backbone else set()
    county = quota_figures(sum(per_school_eligible.values()), county_counting, county_backbone,
                           policy)
    per_school = {}
    for sid, school in schools.items():
        sends = any(r["sending"]["school_id"] == sid and first <= r["start"] < next_first
                    for r in rotations)
        if not (school["public"] and school["compulsory"]) and not sends:
            continue
        per_school[sid] = quota_figures(per_school_eligible.get(sid, 0),
                                        counting.get(sid, set()), backbone.get(sid, set()), policy)
    return {"first_day": first, "eligibility": eligibility, "county": county,
            "schools": per_school, "verdicts": verdicts}


# ---------------------------------------------------------------------------------------------
# Mentorship.

MENTORSHIP_DEFAULTS = {
    "new_teacher_years": 5,
    "mentor_min_title": 3,  # 一级
    "mentor_min_teaching_years": 5,
    "max_mentees": 2,
    "backbone_qualifies": True,
}

VETO_MONTHS = {"WARNING": 6, "DEMERIT": 12, "DEMOTION": 24, "DISMISSAL": 24}


def is_new_teacher(teacher, day, policy):
    """DOMAIN §6: hire <= D < shift(hire, N years)."""
    hire = teacher["hire_date"]
    return hire <= day < shift_years(hire, policy["new_teacher_years"])


def title_on(teacher, day):
    """DOMAIN-exact: the highest title conferred on or before `day` (0 when none)."""
    titles = [rank for on, rank in teacher["titles"] if on <= day]
    return titles[-1] if titles else 0


def veto_active(teacher, day):
    """DOMAIN §6: a veto of m months dated d is active d .. shift(d, m months) - 1 day."""
    for d, severity in teacher["ethics_findings"]:
        months = VETO_MONTHS[severity]
        if d <= day <= shift_months(d, months) - DAY:
            return True
    return False


def pairing_refusals(mentee, mentor, role, start, active_pairings, policy):
    """Every rule a new pairing breaks (empty: it must be made). The service names one; which
    one first DOMAIN leaves open, so the test checks it is among these."""
    reasons = set()
    if mentee["teacher_id"] == mentor["teacher_id"]:
        reasons.add("SELF")
    if not is_new_teacher(mentee, start, policy):
        reasons.add("MENTEE_NOT_NEW")
    title_ok = title_on(mentor, start) >= policy["mentor_min_title"]
    backbone_ok = policy["backbone_qualifies"] and backbone_on(mentor, start)
    if not (title_ok or backbone_ok):
        reasons.add("MENTOR_TITLE")
    if whole_years(mentor["hire_date"], start) < policy["mentor_min_teaching_years"]:
        reasons.add("MENTOR_YEARS")
    if veto_active(mentor, start):
        reasons.add("MENTOR_VETO")
    # README: a mentee on leave keeps and may get mentors, a retired one or one who left may
    # not; a mentor must be on duty or seconded (DOMAIN names no post status).
    if post_status_on(mentee, start) in ("RETIRED", "LEFT"):
        reasons.add("MENTEE_NOT_IN_SERVICE")
    if post_status_on(mentor, start) not in ("ON_DUTY", "SECONDED"):
        reasons.add("MENTOR_NOT_IN_SERVICE")
    if role == "TEACHING":
        if mentor["school_id"] != mentee["school_id"]:
            reasons.add("SCHOOL")
        if not set(mentor["subjects"]) & set(mentee["subjects"]):
            reasons.add("SUBJECT")
    mentor_load = sum(1 for p in active_pairings if p["mentor_id"] == mentor["teacher_id"])
    if mentor_load >= policy["max_mentees"]:
        reasons.add("CAPACITY")
    for p in active_pairings:
        if p["mentee_id"] != mentee["teacher_id"]:
            continue
        if p["role"] == role:
            reasons.add("ROLE_TAKEN")
        elif p["mentor_id"] == mentor["teacher_id"]:
            reasons.add("MENTOR_HOLDS_OTHER_ROLE")
    return reasons


def unpaired(teachers, pairings_active_on_day, day, policy):
    """ListUnpaired: new teachers on `day` lacking a TEACHING mentor, a SECOND one, or both."""
    out = {}
    for t in teachers.values():
        # README: one on leave may get mentors; one retired or gone does not need them.
        if not is_new_teacher(t, day, policy) or post_status_on(t, day) in ("RETIRED", "LEFT"):
            continue
        roles = {p["role"] for p in pairings_active_on_day if p["mentee_id"] == t["teacher_id"]}
        lacks_teaching = "TEACHING" not in roles
        lacks_second = "SECOND" not in roles
        if lacks_teaching or lacks_second:
            out[t["teacher_id"]] = {
                "lacks_teaching": lacks_teaching,
                "lacks_second": lacks_second,
                "year": whole_years(t["hire_date"], day) + 1,
                "new_until": shift_years(t["hire_date"], policy["new_teacher_years"]) - DAY,
            }
    return out

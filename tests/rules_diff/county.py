"""A seeded random county whose dates cluster at DOMAIN §6's boundaries: joining and post-taking
dates exactly N years before 1 September, retirements on and around the first day, leap days,
deferrals ending the day before or on the first day, vetoes ending the day before a pairing's
start. Pure data: rules_diff_test.py loads it into the platform and into the model."""

import datetime as dt

from rules_model import DAY, ROTATION_DEFAULTS, shift_months, shift_years

COUNTY = "330781"
YEARS = (2023, 2024, 2025, 2026)
SUBJECTS = ("语文", "数学", "英语", "科学")

# County-level rotation policy versions, each from a school year's first day (ratios 7%, 33%,
# 10%; a retirement exclusion of 1 then 5 years; 5 years at a school; leaders 2 × 2 years).
ROTATION_VERSIONS = [
    ("2024-09-01", {"ratio_percent": 7, "backbone_ratio_percent": 20}),
    # In force from the middle of school year 2024: the year keeps its first day's figures.
    ("2025-03-01", {"backbone_ratio_percent": 50, "ratio_percent": 50}),
    ("2025-09-01", {"ratio_percent": 33, "backbone_ratio_percent": 34,
                    "retirement_exclusion_years": 1, "min_years_at_school": 5,
                    "counting_forms": ["REGULAR_TRANSFER", "SECONDMENT", "PAIRED_SUPPORT",
                                       "SCHOOL_GROUP", "SCHOOL_DISTRICT"]}),
    ("2026-09-01", {"ratio_percent": 10, "backbone_ratio_percent": 20,
                    "retirement_exclusion_years": 5, "min_duration_years": 2,
                    "leader_term_years": 2}),
]

# The county's mentorship policy from 2020-01-01: three mentees a mentor.
MENTORSHIP_VERSION = {"max_mentees": 3}

SCHOOLS = [
    # key, location, quality, kind, public, compulsory
    ("U1", "URBAN", "STRONG", "REGULAR", True, True),
    ("U2", "URBAN", "ORDINARY", "REGULAR", True, True),
    ("U3", "URBAN", "WEAK", "REGULAR", True, True),
    ("T1", "TOWN", "ORDINARY", "CENTRAL_SCHOOL", True, True),
    ("T2", "TOWN", "STRONG", "CENTRAL_SCHOOL", True, True),
    ("R1", "RURAL", "WEAK", "VILLAGE_SCHOOL", True, True),
    ("R2", "RURAL", "ORDINARY", "TEACHING_POINT", True, True),
    ("R3", "RURAL", "ORDINARY", "REGULAR", True, True),
    ("P1", "URBAN", "STRONG", "REGULAR", False, True),
    ("H1", "URBAN", "STRONG", "REGULAR", True, False),
]

FORMS = ("REGULAR_TRANSFER", "SECONDMENT", "ITINERANT", "PAIRED_SUPPORT", "SCHOOL_GROUP",
         "SCHOOL_DISTRICT")


def rotation_policy(year):
    """The county's rotation policy in force on `year`'s first day (09-01 in every version)."""
    policy = dict(ROTATION_DEFAULTS)
    first = dt.date(year, 9, 1)
    for effective, fields in ROTATION_VERSIONS:
        if dt.date.fromisoformat(effective) <= first:
            policy.update(fields)
    return policy


def first_day(year):
    return dt.date(year, 9, 1)


def retirement_date(birth, female):
    """DOMAIN §1's default rule, only to aim birth dates at a retirement day (the test reads the
    date the profile service computes)."""
    base, cohort = (55, (1970, 1)) if female else (60, (1965, 1))
    k = (birth.year - cohort[0]) * 12 + (birth.month - cohort[1])
    delay = min(36, k // 4 + 1) if k >= 0 else 0
    reached = shift_months(birth, 12 * base + delay)
    return shift_months(dt.date(reached.year, reached.month, 1), 1)


def birth_for_retirement(rng, target, female):
    """A birth date whose retirement falls on `target` (a 1st), or None."""
    options = []
    for year in range(1955, 1976):
        for month in range(1, 13):
            birth = dt.date(year, month, rng.randint(2, 28))
            if retirement_date(birth, female) == target:
                options.append(birth)
    return rng.choice(options) if options else None


def rand_date(rng, lo, hi):
    return lo + dt.timedelta(days=rng.randint(0, (hi - lo).days))


def make_teacher(rng, index, school_key, today):
    year = rng.choice(YEARS)
    first = first_day(year)
    policy = rotation_policy(year)
    t = {"key": f"t{index}", "school": school_key, "posts": [], "status_change": None}
    if rng.random() < 0.55:
        joined = shift_years(first, -policy["min_years_at_school"]) + DAY * rng.choice((-1, 0, 1))
    else:
        joined = rand_date(rng, dt.date(2008, 1, 1), dt.date(2026, 8, 1))
    if rng.random() < 0.05:
        joined = dt.date(2020, 2, 29)
    if rng.random() < 0.2:  # a principal or vice-principal
        leader_years = policy["leader_terms"] * policy["leader_term_years"]
        taken = shift_years(first, -leader_years) + DAY * rng.choice((-1, 0, 1))
        joined = min(joined, taken - DAY * rng.randint(0, 2000))
        to = None
        if rng.random() < 0.3:
            to = first + DAY * rng.choice((-1, 0))
        kind = rng.choice(("PRINCIPAL", "VICE_PRINCIPAL"))
        if rng.random() < 0.3:
            # A vice-principal made principal there: the principal's years count from then.
            vice_from = taken - DAY * rng.randint(400, 2000)
            joined = min(joined, vice_from)
            t["posts"].append({"kind": "VICE_PRINCIPAL", "from": vice_from, "to": taken - DAY})
            kind = "PRINCIPAL"
        t["posts"].append({"kind": kind, "from": taken, "to": to})
    t["joined"] = joined
    t["hire"] = joined - DAY * rng.randint(0, 3000)
    t["female"] = rng.random() < 0.6
    birth = None
    if rng.random() < 0.25:
        n = policy["retirement_exclusion_years"]
        target = rng.choice([shift_months(first, -1), first, shift_months(first, 1),
                             shift_months(shift_years(first, n), -1), shift_years(first, n)])
        birth = birth_for_retirement(rng, target, t["female"])
    if birth is None or birth > shift_years(t["hire"], -18):
        birth = shift_years(t["hire"], -rng.randint(21, 30)) - DAY * rng.randint(0, 300)
    t["birth"] = birth
    t["staffed"] = rng.random() < 0.92
    t["status"] = rng.choices(("ON_DUTY", "SICK_LEAVE", "SECONDED", "MATERNITY_LEAVE"),
                              (85, 8, 4, 3))[0]
    if rng.random() < 0.15:
        to = "ON_DUTY" if t["status"] != "ON_DUTY" else rng.choice(("SICK_LEAVE", "SECONDED"))
        on = first + DAY * rng.choice((-1, 0, 1))
        if on <= today:
            t["status_change"] = (on, to)
    t["backbone"] = None
    t["backbone_later"] = None
    if rng.random() < 0.45:
        t["backbone"] = (rng.choice(("COUNTY", "CITY", "PROVINCE")),
                         rand_date(rng, dt.date(2022, 6, 1), dt.date(2026, 11, 1)))
        if rng.random() < 0.4:
            # Designated early, and later designated again at a higher tier or lapsed (no tier)
            # at review, so that a rotation may start between the two.
            t["backbone"] = (t["backbone"][0], rand_date(rng, dt.date(2022, 6, 1),
                                                          dt.date(2023, 8, 31)))
            later = rand_date(rng, dt.date(2023, 9, 2), today)
            t["backbone_later"] = (rng.choice(("CITY", "PROVINCE", None)), later)
    t["title"] = None
    if rng.random() < 0.7:
        t["title"] = (rng.choice(("THIRD_GRADE", "SECOND_GRADE", "FIRST_GRADE", "SENIOR")),
                      rand_date(rng, t["hire"], min(today, shift_years(t["hire"], 12))))
    t["subjects"] = rng.sample(SUBJECTS, rng.randint(1, 2))
    t["vetoes"] = []
    t["move"] = None
    if not t["posts"] and index >= 20 and rng.random() < 0.15:
        on = first_day(rng.choice(YEARS)) + DAY * rng.choice((-1, 0, 1))
        if joined < on <= today:
            t["move"] = (rng.choice([k for k, *_ in SCHOOLS if k != school_key]), on)
    return t


def current_school(t):
    return t["move"][0] if t.get("move") else t["school"]


def make_deferrals(rng, teachers, count, eligible):
    """Deferrals around a school year's first day, mostly of teachers eligible that year
    (`eligible(key, year)`) so that the deferral decides."""
    patterns = [(-100, -1), (-100, 0), (0, 100), (1, 100), (-30, None), (-400, -200)]
    out = []
    for _ in range(count):
        year = rng.choice(YEARS)
        pool = [t for t in teachers if eligible(t["key"], year)]
        t = rng.choice(pool if pool and rng.random() < 0.8 else teachers)
        first = first_day(year)
        a, b = rng.choice(patterns)
        d = {"key": t["key"], "from": first + DAY * a,
             "to": None if b is None else first + DAY * b, "end_to": None}
        if b is None and rng.random() < 0.5:
            d["end_to"] = first + DAY * rng.choice((-1, 0))  # EndDeferral shortens it
        out.append(d)
    return out


def rotation_plans(rng, teachers, count, today, eligible):
    """Rotations in school years 2023-2026 with starts and planned ends at the boundaries, each
    with the state it is driven to; mostly of teachers eligible that year, mostly in a counting
    direction, so that the later rules decide."""
    plans = []
    busy = set()
    keys = list(schools_by_key())
    for _ in range(count):
        year = rng.choice((2023, 2024, 2025, 2026))
        free = [t for t in teachers if t["key"] not in busy]
        good = [t for t in free if eligible(t["key"], year)]
        if not free:
            break
        changed = [t for t in good if t["backbone_later"]]
        t = rng.choice(changed if changed and rng.random() < 0.3 else
                       good if good and rng.random() < 0.8 else free)
        first, next_first = first_day(year), first_day(year + 1)
        start = rng.choice([first, first + DAY * rng.randint(1, 200), next_first - DAY])
        if rng.random() < 0.08:
            start = dt.date(2024, 2, 29)
        if start > today:
            start = first
        policy = rotation_policy(school_year_of(start))
        end = shift_years(start, policy["min_duration_years"]) - DAY
        end += DAY * rng.choice((-1, 0, 0, 45))
        home = current_school(t)
        towards = [k for k in keys if k != home and (k[0] == "R" or k == "U3")]
        receiving = rng.choice(towards if towards and rng.random() < 0.7
                               else [k for k in keys if k != home])
        state = rng.choices(("PROPOSED", "APPROVED", "REJECTED", "STARTED", "COMPLETED",
                             "CANCELLED"), (1, 3, 1, 3, 2, 1))[0]
        plans.append({"key": t["key"], "receiving": receiving, "form": rng.choice(FORMS),
                      "start": start, "end": end, "state": state})
        if state not in ("REJECTED", "COMPLETED", "CANCELLED"):
            busy.add(t["key"])
    return plans


def school_year_of(day):
    return day.year if day >= first_day(day.year) else day.year - 1


def schools_by_key():
    return {s[0]: s for s in SCHOOLS}


def make_mentorship(rng, index0, today):
    """New teachers hired at the boundaries of being new on a pairing day, and mentors whose
    years and vetoes end at those days; plus the pairing attempts, in order."""
    days = [dt.date(2025, 2, 28), dt.date(2025, 3, 1), dt.date(2025, 9, 1), dt.date(2026, 2, 28),
            dt.date(2026, 3, 1), dt.date(2026, 9, 1), today - DAY * 3]
    mentee_schools = ("U1", "T1", "R1")
    mentees, mentors = [], []
    i = index0
    for _ in range(18):
        d = rng.choice(days)
        hire = rng.choice([shift_years(d, -5), shift_years(d, -5) + DAY, d, d + DAY,
                           dt.date(2020, 2, 29)] + [rand_date(rng, shift_years(d, -4), d)] * 5)
        hire = min(hire, today)
        t = base_teacher(rng, i, rng.choice(mentee_schools), hire)
        t["pair_day"] = d
        mentees.append(t)
        i += 1
    # Mentors who differ from a mentor meeting every rule in one fact each: their years, a
    # veto, their title (or a backbone designation instead), or a title conferred on the day.
    for n in range(24):
        d = rng.choice(days)
        t = base_teacher(rng, i, rng.choice(mentee_schools), dt.date(2006, 3, 1))
        t["title"] = ("SENIOR", dt.date(2012, 1, 1))
        fact = ("years", "veto", "veto", "title", "title_on_day")[n % 5]
        if fact == "years":
            t["hire"] = t["joined"] = rng.choice([shift_years(d, -5), shift_years(d, -5) + DAY,
                                                  dt.date(2020, 2, 29)])
            t["title"] = ("SENIOR", t["hire"] + DAY * 100)
        elif fact == "veto":
            severity, months = rng.choice((("WARNING", 6), ("DEMERIT", 12), ("DEMOTION", 24)))
            # Ending the day before d or on d, starting on d or the day after, or ending on a
            # shift onto a day the month lacks (2025-08-31 + 6 months: the 28 February).
            found = rng.choice([shift_months(d, -months), shift_months(d, -months) + DAY, d,
                                d + DAY, dt.date(2025, 8, 31)])
            if found <= today:
                t["vetoes"].append((found, severity))
        elif fact == "title":
            t["title"] = (rng.choice(("SECOND_GRADE", "FIRST_GRADE", "THIRD_GRADE")),
                          dt.date(2012, 1, 1))
            if rng.random() < 0.4:
                t["backbone"] = (rng.choice(("COUNTY", "CITY")), dt.date(2024, 6, 1))
        else:
            t["title"] = ("FIRST_GRADE", d)
        t["pair_day"] = d
        mentors.append(t)
        i += 1
    return mentees, mentors, days


def targeted_pairings(rng, mentees, mentors, index0):
    """Attempts where one fact decides: each boundary mentor on the day before, of and after
    their boundary day with a fresh new teacher of their school and subject; each boundary
    mentee on their day with a fresh mentor who meets every rule. Returns the fresh teachers
    and the attempts."""
    fresh, attempts = [], []
    i = index0
    for m in mentors:
        for n, day in enumerate((m["pair_day"] - DAY, m["pair_day"], m["pair_day"] + DAY)):
            mentee = base_teacher(rng, i, m["school"], shift_years(day, -2))
            mentee["subjects"] = [m["subjects"][0]]
            fresh.append(mentee)
            attempts.append({"mentee": mentee["key"], "mentor": m["key"],
                             "role": ("TEACHING", "SECOND")[n % 2], "start": day})
            i += 1
    for e in mentees:
        mentor = base_teacher(rng, i, e["school"], dt.date(2005, 9, 1))
        mentor["subjects"] = list(e["subjects"])
        mentor["title"] = ("SENIOR", dt.date(2012, 1, 1))
        fresh.append(mentor)
        attempts.append({"mentee": e["key"], "mentor": mentor["key"], "role": "TEACHING",
                         "start": e["pair_day"]})
        i += 1
    return fresh, attempts


def base_teacher(rng, index, school_key, hire):
    return {"key": f"t{index}", "school": school_key, "posts": [], "status_change": None,
            "joined": hire, "hire": hire, "female": rng.random() < 0.6,
            "birth": shift_years(hire, -rng.randint(22, 30)), "staffed": True,
            "status": "ON_DUTY", "backbone": None, "backbone_later": None, "title": None,
            "subjects": rng.sample(SUBJECTS, rng.randint(1, 2)), "vetoes": [], "move": None}


def pairing_attempts(rng, mentees, mentors, others, days, count):
    attempts = []
    for _ in range(count):
        mentee = rng.choice(mentees if rng.random() < 0.9 else others)
        pool = mentors if rng.random() < 0.8 else others
        if rng.random() < 0.7:
            same = [m for m in pool if m["school"] == mentee["school"]]
            mentor = rng.choice(same or pool)
        else:
            mentor = rng.choice(pool)
        if rng.random() < 0.03:
            mentor = mentee
        day = mentee.get("pair_day") if rng.random() < 0.8 else None
        day = day or mentor.get("pair_day") or rng.choice(days)
        attempts.append({"mentee": mentee["key"], "mentor": mentor["key"],
                         "role": rng.choice(("TEACHING", "SECOND")), "start": day})
    return attempts

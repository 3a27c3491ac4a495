#include "services/profile/teacher_input.h"

#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/dates.h"
#include "services/common/digest.h"
#include "services/common/status.h"
#include "services/profile/rules.h"

namespace shidang::profile {
namespace {

// Collects the problems of one teacher's input.
class Problems {
 public:
  void Add(absl::string_view field, absl::string_view rule, std::string description) {
    list_.push_back({std::string(field), std::string(rule), std::move(description)});
  }
  std::vector<InputProblem> Take() { return std::move(list_); }

 private:
  std::vector<InputProblem> list_;
};

// Name, sex, and the dates of birth, hire, joining the school and the training cycle's anchor.
void CheckPersonAndDates(const v1::Teacher& t, absl::CivilDay today, Problems& problems) {
  size_t name_length = CodePointCount(t.name());
  if (name_length == 0 || name_length > 50 || absl::StrContains(t.name(), "\n")) {
    problems.Add("name", "length", "required: 1 to 50 characters on one line");
  }
  if (t.sex() == common::v1::SEX_UNSPECIFIED) problems.Add("sex", "required", "required: 男 or 女");
  absl::StatusOr<absl::CivilDay> birth = dates::ParseDate(t.birth_date(), "birth_date");
  if (!birth.ok()) problems.Add("birth_date", "date_format", "required: a date YYYY-MM-DD");
  absl::StatusOr<absl::CivilDay> hire = dates::ParseDate(t.hire_date(), "hire_date");
  if (!hire.ok()) {
    problems.Add("hire_date", "date_format", "required: a date YYYY-MM-DD (参加工作时间)");
  } else if (*hire > today) {
    problems.Add("hire_date", "not_future", "must not be after today");
  }
  if (birth.ok() && hire.ok() && dates::ShiftYears(*birth, 16) > *hire) {
    problems.Add("hire_date", "after_birth", "must be at least 16 years after the birth date");
  }
  if (!t.school_joined_on().empty()) {
    absl::StatusOr<absl::CivilDay> joined =
        dates::ParseDate(t.school_joined_on(), "school_joined_on");
    if (!joined.ok()) {
      problems.Add("school_joined_on", "date_format", "must be a date YYYY-MM-DD");
    } else if (hire.ok() && *joined < *hire) {
      problems.Add("school_joined_on", "after_hire", "must not be before the hire date");
    } else if (*joined > today) {
      problems.Add("school_joined_on", "not_future", "must not be after today");
    }
  }
  if (!t.training_cycle_anchor().empty() &&
      !dates::ParseDate(t.training_cycle_anchor(), "training_cycle_anchor").ok()) {
    problems.Add("training_cycle_anchor", "date_format", "must be a date YYYY-MM-DD or empty");
  }
}

// The ID-card number: present, valid, and agreeing with the birth date and sex.
void CheckIdCardNumber(const v1::Teacher& t, Problems& problems) {
  if (t.id_card_number().empty()) {
    problems.Add("id_card_number", "required", "required: the 18-character 身份证号");
    return;
  }
  IdCardExpectations expect;
  absl::StatusOr<absl::CivilDay> birth = dates::ParseDate(t.birth_date());
  if (birth.ok()) expect.birth_date = *birth;
  expect.sex = t.sex();
  IdCardRule rule = CheckIdCard(t.id_card_number(), expect);
  if (rule != IdCardRule::kOk) {
    problems.Add("id_card_number", IdCardRuleName(rule),
                 "must be 18 characters (17 digits and a check digit 0-9 or X) with a valid GB "
                 "11643 check digit, matching the birth date and sex");
  }
}

// Stage, subjects, post status, and the contact fields' shapes.
void CheckPostAndContact(const v1::Teacher& t, Problems& problems) {
  if (t.stage() == common::v1::STAGE_UNSPECIFIED) {
    problems.Add("stage", "required", "required: 学前, 小学, 初中, 高中 or 九年一贯");
  }
  if (t.subjects().empty() || t.subjects_size() > 10) {
    problems.Add("subjects", "count", "required: 1 to 10 subjects");
  }
  for (int i = 0; i < t.subjects_size(); ++i) {
    size_t n = CodePointCount(t.subjects(i));
    if (n == 0 || n > 20) {
      problems.Add(absl::StrCat("subjects[", i, "]"), "length", "1 to 20 characters");
    }
  }
  if (t.post_status() == v1::POST_STATUS_UNSPECIFIED) {
    problems.Add("post_status", "required", "required: 在岗, 借调, 病休, 产假, 退休 or 离职");
  }
  if (!t.phone().empty() && (t.phone().size() < 7 || t.phone().size() > 20 ||
                             t.phone().find_first_not_of("0123456789+- ") != std::string::npos)) {
    problems.Add("phone", "format", "7 to 20 digits (with + - or spaces)");
  }
  if (!t.email().empty() && (!absl::StrContains(t.email(), "@") || t.email().size() > 100)) {
    problems.Add("email", "format", "an e-mail address of at most 100 characters");
  }
}

// Head-teacher periods and leadership posts: real dates in order, a post named.
void CheckPeriods(const v1::Teacher& t, Problems& problems) {
  for (int i = 0; i < t.head_teacher_periods_size(); ++i) {
    const v1::DatePeriod& p = t.head_teacher_periods(i);
    auto from = dates::ParseDate(p.from_date());
    if (!from.ok()) {
      problems.Add(absl::StrCat("head_teacher_periods[", i, "].from_date"), "date_format",
                   "must be a date YYYY-MM-DD");
    }
    if (!p.to_date().empty()) {
      auto to = dates::ParseDate(p.to_date());
      if (!to.ok() || (from.ok() && *to < *from)) {
        problems.Add(absl::StrCat("head_teacher_periods[", i, "].to_date"), "date_range",
                     "empty, or a date YYYY-MM-DD not before from_date");
      }
    }
  }
  for (int i = 0; i < t.leadership_posts_size(); ++i) {
    const v1::LeadershipPost& p = t.leadership_posts(i);
    if (p.post() == v1::LEADERSHIP_POST_KIND_UNSPECIFIED) {
      problems.Add(absl::StrCat("leadership_posts[", i, "].post"), "required", "校长 or 副校长");
    }
    if (!dates::ParseDate(p.from_date()).ok()) {
      problems.Add(absl::StrCat("leadership_posts[", i, "].from_date"), "date_format",
                   "must be a date YYYY-MM-DD");
    }
  }
}

// The qualification certificate's registrations happened: real dates, not after today, the
// latest not before the first.
void CheckQualification(const v1::Teacher& t, absl::CivilDay today, Problems& problems) {
  std::optional<absl::CivilDay> first;
  for (const auto& [field, text] :
       {std::pair<const char*, const std::string&>{"qualification.first_registered_on",
                                                   t.qualification().first_registered_on()},
        std::pair<const char*, const std::string&>{"qualification.last_registered_on",
                                                   t.qualification().last_registered_on()}}) {
    if (text.empty()) continue;
    absl::StatusOr<absl::CivilDay> day = dates::ParseDate(text);
    if (!day.ok()) {
      problems.Add(field, "date_format", "must be a date YYYY-MM-DD");
    } else if (*day > today) {
      problems.Add(field, "not_future",
                   absl::StrCat("must not be after today (", dates::FormatDate(today), ")"));
    } else if (first.has_value() && *day < *first) {
      problems.Add(field, "order", "must not be before first_registered_on");
    } else if (!first.has_value()) {
      first = *day;
    }
  }
}

// Output-only and derived fields must be empty.
void CheckDerivedEmpty(const v1::Teacher& t, Problems& problems) {
  if (!t.id_card_masked().empty() || t.title() != 0 || !t.title_conferred_on().empty() ||
      t.backbone_tier() != 0 || !t.backbone_designated_on().empty() || !t.designations().empty() ||
      !t.honours().empty() || t.has_latest_appraisal() || t.has_ethics_veto() ||
      !t.expected_retirement_date().empty() || !t.etag().empty()) {
    problems.Add("teacher", "derived_fields",
                 "derived fields (title, backbone, designations, honours, appraisal, veto, "
                 "retirement, etag, id_card_masked) are read-only: record titles and "
                 "designations as timeline entries");
  }
}

}  // namespace

std::vector<InputProblem> CheckTeacherInput(const v1::Teacher& t, absl::CivilDay today) {
  Problems problems;
  CheckPersonAndDates(t, today, problems);
  CheckIdCardNumber(t, problems);
  CheckPostAndContact(t, problems);
  CheckPeriods(t, problems);
  CheckQualification(t, today, problems);
  CheckDerivedEmpty(t, problems);
  return problems.Take();
}

absl::Status ProblemsToStatus(const std::vector<InputProblem>& problems, absl::string_view prefix) {
  absl::Status status;
  for (const InputProblem& p : problems) {
    AddFieldViolation(&status, absl::StrCat(prefix, p.field), p.rule, p.description);
  }
  return status;
}

std::string IdSeed(absl::string_view actor, absl::string_view method, absl::string_view request_id,
                   absl::string_view part) {
  if (request_id.empty()) return "";
  return absl::StrCat(actor, "\x1f", method, "\x1f", request_id, "\x1f", part);
}

std::string MakeTeacherId(absl::string_view seed) { return absl::StrCat("T", HexId(seed, 16)); }
std::string MakeSchoolId(absl::string_view county_id, absl::string_view seed) {
  return absl::StrCat("S", county_id, "-", HexId(seed, 10));
}
std::string MakeEntryId(absl::string_view seed) { return absl::StrCat("E", HexId(seed, 16)); }

}  // namespace shidang::profile

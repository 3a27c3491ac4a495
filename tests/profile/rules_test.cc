#include "services/profile/rules.h"

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/violations.h"
#include "shidang/rotation/v1/rotation.pb.h"

namespace shidang::profile {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

namespace cv1 = ::shidang::common::v1;

absl::CivilDay D(int y, int m, int d) { return absl::CivilDay(y, m, d); }

// An independent formulation of the GB 11643 check (ISO 7064 MOD 11-2): weight of position i is
// 2^(17-i) mod 11 and the check value is (12 - sum mod 11) mod 11, 10 written X. The library
// uses the table "10X98765432" and fixed weights; the two must agree.
char Mod11_2(const std::string& first17) {
  int sum = 0;
  int weight = 1;  // 2^0 for the check position itself, then doubling leftwards
  for (int i = 16; i >= 0; --i) {
    weight = weight * 2 % 11;
    sum += (first17[i] - '0') * weight;
  }
  const int value = (12 - sum % 11) % 11;
  return value == 10 ? 'X' : static_cast<char>('0' + value);
}

// ---------------------------------------------------------------------------------------------
// ID cards.

TEST(TextLimitTest, CountsCodePointsNotBytes) {
  EXPECT_EQ(CodePointCount(""), 0u);
  EXPECT_EQ(CodePointCount("abc"), 3u);
  EXPECT_EQ(CodePointCount("武义县"), 3u);  // 3 bytes each
  EXPECT_EQ(CodePointCount("𠮷野家"), 3u);  // 𠮷 is 4 bytes
  EXPECT_EQ(CodePointCount("第1小学"), 4u);
  std::string fifty;
  for (int i = 0; i < 50; ++i) fifty += "𠮷";  // 200 bytes
  EXPECT_TRUE(IsSchoolNameLength(fifty));
  EXPECT_FALSE(IsSchoolNameLength(fifty + "校"));
  EXPECT_FALSE(IsSchoolNameLength(std::string(51, 'a')));
  EXPECT_TRUE(IsSchoolNameLength(std::string(50, 'a')));
  EXPECT_FALSE(IsSchoolNameLength(""));
}

TEST(IdCardTest, PublishedSamplesAreValid) {
  // Widely circulated sample numbers (the first is the standard's own example).
  for (const std::string n : {"11010519491231002X", "440524188001010014", "110101199003074477"}) {
    EXPECT_EQ(CheckIdCard(n), IdCardRule::kOk) << n;
    EXPECT_EQ(IdCardCheckCharacter(n.substr(0, 17)), n[17]) << n;
    EXPECT_EQ(Mod11_2(n.substr(0, 17)), n[17]) << n;
  }
  EXPECT_EQ(IdCardBirthDate("11010519491231002X"), D(1949, 12, 31));
  EXPECT_EQ(IdCardSex("11010519491231002X"), cv1::SEX_FEMALE);  // 17th digit 2
  EXPECT_EQ(IdCardSex("110101199003074477"), cv1::SEX_MALE);    // 17th digit 7
}

TEST(IdCardTest, CheckCharacterAgreesWithIndependentAlgorithmOnRandomNumbers) {
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<int> digit(0, 9);
  std::uniform_int_distribution<int> year(1940, 2005), month(1, 12), day(1, 28);
  int x_seen = 0;
  for (int round = 0; round < 5000; ++round) {
    std::string first17;
    for (int i = 0; i < 6; ++i) first17 += static_cast<char>('0' + digit(rng));
    first17 += absl::StrFormat("%04d%02d%02d", year(rng), month(rng), day(rng));
    for (int i = 0; i < 3; ++i) first17 += static_cast<char>('0' + digit(rng));
    const char check = Mod11_2(first17);
    ASSERT_EQ(IdCardCheckCharacter(first17), check) << first17;
    if (check == 'X') ++x_seen;
    EXPECT_EQ(CheckIdCard(first17 + check), IdCardRule::kOk) << first17 << check;
    // Every other check character is refused.
    for (char other : std::string("0123456789X")) {
      if (other == check) continue;
      ASSERT_EQ(CheckIdCard(first17 + other), IdCardRule::kCheckDigit) << first17 << other;
    }
  }
  EXPECT_GT(x_seen, 0);  // the X branch was exercised
}

TEST(IdCardTest, EverySingleDigitChangeIsCaught) {
  const std::string good = "11010519491231002X";
  for (size_t pos = 0; pos < 17; ++pos) {
    for (char c = '0'; c <= '9'; ++c) {
      if (c == good[pos]) continue;
      std::string bad = good;
      bad[pos] = c;
      // Either the embedded date is no longer a date, or the check digit catches it.
      EXPECT_NE(CheckIdCard(bad), IdCardRule::kOk) << bad;
    }
  }
}

TEST(IdCardTest, ReportsWhichRuleFailed) {
  EXPECT_EQ(CheckIdCard(""), IdCardRule::kLength);
  EXPECT_EQ(CheckIdCard("11010519491231002"), IdCardRule::kLength);
  EXPECT_EQ(CheckIdCard("11010519491231002X0"), IdCardRule::kLength);
  EXPECT_EQ(CheckIdCard("110105194912310"), IdCardRule::kLength);  // old 15-digit numbers
  EXPECT_EQ(CheckIdCard("11010519491231002x"), IdCardRule::kCharacters);
  EXPECT_EQ(CheckIdCard("1101051949123100AX"), IdCardRule::kCharacters);
  EXPECT_EQ(CheckIdCard("11010519491231002Y"), IdCardRule::kCharacters);
  EXPECT_EQ(CheckIdCard("X10105194912310020"), IdCardRule::kCharacters);
  // A date that does not exist, with a correct check character, fails on the date.
  for (const std::string date : {"19490230", "19491301", "19490000", "20230229", "17991231"}) {
    const std::string first17 = "110105" + date + "002";
    EXPECT_EQ(CheckIdCard(first17 + Mod11_2(first17)), IdCardRule::kBirthDate) << date;
  }
  // 29 February of a leap year is a date.
  const std::string leap = "110105" + std::string("20000229") + "003";
  EXPECT_EQ(CheckIdCard(leap + Mod11_2(leap)), IdCardRule::kOk);

  IdCardExpectations expect;
  expect.birth_date = D(1949, 12, 31);
  expect.sex = cv1::SEX_FEMALE;
  EXPECT_EQ(CheckIdCard("11010519491231002X", expect), IdCardRule::kOk);
  expect.birth_date = D(1949, 12, 30);
  EXPECT_EQ(CheckIdCard("11010519491231002X", expect), IdCardRule::kBirthDateMismatch);
  expect.birth_date = D(1949, 12, 31);
  expect.sex = cv1::SEX_MALE;
  EXPECT_EQ(CheckIdCard("11010519491231002X", expect), IdCardRule::kSexMismatch);
  EXPECT_EQ(IdCardRuleName(IdCardRule::kCheckDigit), "check_digit");
}

TEST(IdCardTest, ValidateNamesFieldButNeverTheNumber) {
  const std::string bad = "11010519491231003X";  // check digit wrong
  absl::Status s = ValidateIdCard(bad, "teacher.id_card_number");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("teacher.id_card_number"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("check digit"));
  EXPECT_THAT(std::string(s.message()), Not(HasSubstr("1101051949")));
  EXPECT_TRUE(ValidateIdCard("11010519491231002X", "id").ok());
  absl::Status length = ValidateIdCard("123", "id");
  EXPECT_THAT(std::string(length.message()), HasSubstr("18"));
  EXPECT_THAT(std::string(length.message()), Not(HasSubstr("123")));
}

TEST(IdCardTest, NormalizeAcceptsLowerCaseXAndSpaces) {
  EXPECT_EQ(NormalizeIdCardNumber(" 11010519491231002x\t"), "11010519491231002X");
  EXPECT_EQ(CheckIdCard(NormalizeIdCardNumber("11010519491231002x")), IdCardRule::kOk);
  EXPECT_EQ(NormalizeIdCardNumber("x"), "x");  // only the 18th character is touched
}

TEST(MaskIdCardTest, ShowsFirstFourAndLastFour) {
  EXPECT_EQ(MaskIdCard("11010519491231002X"), "1101**********002X");
  EXPECT_EQ(MaskIdCard("110101199003074477"), "1101**********4477");
}

TEST(MaskIdCardTest, NeverRevealsMoreThanEightCharacters) {
  const std::string digits = "123456789012345678901234567890123456789";
  for (size_t len = 0; len <= digits.size(); ++len) {
    const std::string input = digits.substr(0, len);
    const std::string masked = MaskIdCard(input);
    size_t shown = 0;
    for (char c : masked) shown += c != '*';
    EXPECT_LE(shown, 8u) << len;
    EXPECT_EQ(masked.size(), 18u) << len;  // the length of bad input is not hinted at
    if (len != 18) {
      EXPECT_EQ(masked, std::string(18, '*')) << len;
    }
  }
  // 18 bytes that are not 18 ASCII characters (UTF-8 Chinese) are masked whole.
  EXPECT_EQ(MaskIdCard("身份证号码11010519"), std::string(18, '*'));
  EXPECT_EQ(MaskIdCard(std::string("1101051949\n231002X", 18)), std::string(18, '*'));
}

// ---------------------------------------------------------------------------------------------
// Timeline derivation.

v1::TimelineEntry Title(const std::string& id, int64_t seq, const std::string& on,
                        cv1::ProfessionalTitle title) {
  v1::TimelineEntry e;
  e.set_entry_id(id);
  e.set_sequence(seq);
  e.set_kind(v1::TIMELINE_ENTRY_KIND_TITLE_CONFERRED);
  e.set_occurred_on(on);
  e.mutable_title_conferred()->set_title(title);
  return e;
}

v1::TimelineEntry Correction(const std::string& id, int64_t seq, const std::string& on,
                             const std::string& target) {
  v1::TimelineEntry e;
  e.set_entry_id(id);
  e.set_sequence(seq);
  e.set_kind(v1::TIMELINE_ENTRY_KIND_CORRECTION);
  e.set_occurred_on(on);
  e.set_supersedes_entry_id(target);
  e.set_correction_reason("录入错误");
  return e;
}

v1::TimelineEntry Finding(const std::string& id, int64_t seq, const std::string& on,
                          cv1::EthicsSeverity severity) {
  v1::TimelineEntry e;
  e.set_entry_id(id);
  e.set_sequence(seq);
  e.set_kind(v1::TIMELINE_ENTRY_KIND_ETHICS_FINDING);
  e.set_occurred_on(on);
  e.mutable_ethics_finding()->set_severity(severity);
  return e;
}

cv1::EthicsPolicy DefaultEthics() {
  cv1::EthicsPolicy p;
  p.set_warning_months(6);
  p.set_demerit_months(12);
  p.set_demotion_months(24);
  p.set_dismissal_months(24);
  return p;
}

cv1::ProfessionalTitle TitleOn(const std::vector<v1::TimelineEntry>& entries, absl::CivilDay day) {
  absl::StatusOr<DerivedValues> d = DeriveCurrentValues(entries, DefaultEthics(), day);
  EXPECT_TRUE(d.ok()) << d.status();
  if (!d.ok() || !d->title) return cv1::PROFESSIONAL_TITLE_UNSPECIFIED;
  return d->title->title_conferred().title();
}

TEST(DeriveTest, LatestOccurredOnWinsWhateverTheRecordedOrder) {
  // Recorded out of date order: the 2015 title was entered after the 2020 one.
  std::vector<v1::TimelineEntry> entries = {
      Title("t2", 1, "2020-09-01", cv1::PROFESSIONAL_TITLE_FIRST_GRADE),
      Title("t1", 2, "2015-09-01", cv1::PROFESSIONAL_TITLE_SECOND_GRADE),
  };
  EXPECT_EQ(TitleOn(entries, D(2024, 1, 1)), cv1::PROFESSIONAL_TITLE_FIRST_GRADE);
  // As of a day between them, the earlier one was current; before both, none.
  EXPECT_EQ(TitleOn(entries, D(2020, 8, 31)), cv1::PROFESSIONAL_TITLE_SECOND_GRADE);
  EXPECT_EQ(TitleOn(entries, D(2020, 9, 1)), cv1::PROFESSIONAL_TITLE_FIRST_GRADE);
  EXPECT_EQ(TitleOn(entries, D(2015, 8, 31)), cv1::PROFESSIONAL_TITLE_UNSPECIFIED);
}

TEST(DeriveTest, TiesOnOneDayGoToTheEntryRecordedLater) {
  std::vector<v1::TimelineEntry> entries = {
      Title("b", 7, "2020-09-01", cv1::PROFESSIONAL_TITLE_SENIOR),
      Title("a", 3, "2020-09-01", cv1::PROFESSIONAL_TITLE_FIRST_GRADE),
  };
  EXPECT_EQ(TitleOn(entries, D(2024, 1, 1)), cv1::PROFESSIONAL_TITLE_SENIOR);
  entries[0].set_sequence(2);  // now "b" was recorded first
  EXPECT_EQ(TitleOn(entries, D(2024, 1, 1)), cv1::PROFESSIONAL_TITLE_FIRST_GRADE);
  // Without sequences (not yet stored), the position in the list is the recorded order.
  entries[0].set_sequence(0);
  entries[1].set_sequence(0);
  EXPECT_EQ(TitleOn(entries, D(2024, 1, 1)), cv1::PROFESSIONAL_TITLE_FIRST_GRADE);
  std::swap(entries[0], entries[1]);
  EXPECT_EQ(TitleOn(entries, D(2024, 1, 1)), cv1::PROFESSIONAL_TITLE_SENIOR);
}

TEST(DeriveTest, SupersessionChainsReplaceRetractAndRestore) {
  std::vector<v1::TimelineEntry> entries = {
      Title("old", 1, "2016-09-01", cv1::PROFESSIONAL_TITLE_SECOND_GRADE),
      Title("a", 2, "2021-09-01", cv1::PROFESSIONAL_TITLE_SENIOR),
  };
  const absl::CivilDay today = D(2024, 6, 1);
  EXPECT_EQ(TitleOn(entries, today), cv1::PROFESSIONAL_TITLE_SENIOR);

  // b replaces a (it was 一级, not 高级).
  v1::TimelineEntry b = Title("b", 3, "2021-09-01", cv1::PROFESSIONAL_TITLE_FIRST_GRADE);
  b.set_supersedes_entry_id("a");
  b.set_correction_reason("职称录入错误");
  entries.push_back(b);
  EXPECT_EQ(TitleOn(entries, today), cv1::PROFESSIONAL_TITLE_FIRST_GRADE);
  EXPECT_THAT(SupersededEntries(entries), ElementsAre(Pair("a", "b")));

  // c retracts b: with b out of effect nothing supersedes a, so a is restored (retracting a
  // correction restores what it corrected).
  entries.push_back(Correction("c", 4, "2024-05-01", "b"));
  EXPECT_EQ(TitleOn(entries, today), cv1::PROFESSIONAL_TITLE_SENIOR);
  EXPECT_THAT(SupersededEntries(entries), ElementsAre(Pair("b", "c")));

  // d retracts a as well: the earlier title is current again.
  entries.push_back(Correction("d", 5, "2024-05-02", "a"));
  EXPECT_EQ(TitleOn(entries, today), cv1::PROFESSIONAL_TITLE_SECOND_GRADE);
  EXPECT_THAT(SupersededEntries(entries), UnorderedElementsAre(Pair("a", "d"), Pair("b", "c")));

  // e retracts c: b is back in effect and, being in effect, supersedes a again.
  entries.push_back(Correction("e", 6, "2024-05-03", "c"));
  EXPECT_EQ(TitleOn(entries, today), cv1::PROFESSIONAL_TITLE_FIRST_GRADE);
  EXPECT_THAT(SupersededEntries(entries), UnorderedElementsAre(Pair("a", "d"), Pair("c", "e")));

  MarkSuperseded(&entries);
  EXPECT_EQ(entries[1].superseded_by_entry_id(), "d");  // a
  EXPECT_EQ(entries[2].superseded_by_entry_id(), "");   // b
  EXPECT_EQ(entries[3].superseded_by_entry_id(), "e");  // c
  EXPECT_EQ(entries[4].superseded_by_entry_id(), "");   // d
  EXPECT_EQ(entries[0].superseded_by_entry_id(), "");   // old
}

TEST(DeriveTest, SupersessionOfLaterOrUnknownEntryIsIgnored) {
  std::vector<v1::TimelineEntry> entries = {
      Correction("c", 1, "2020-01-01", "t"),  // recorded before t: cannot supersede it
      Title("t", 2, "2020-09-01", cv1::PROFESSIONAL_TITLE_FIRST_GRADE),
      Correction("x", 3, "2021-01-01", "no-such-entry"),
  };
  EXPECT_EQ(TitleOn(entries, D(2024, 1, 1)), cv1::PROFESSIONAL_TITLE_FIRST_GRADE);
  EXPECT_TRUE(SupersededEntries(entries).empty());
}

// A timeline of every other kind, in sequence: a city backbone designation (first), two
// appraisals (2023's filed after 2024's), two honours, a designation and a retracted one, a
// post status change and a demerit.
std::vector<v1::TimelineEntry> OtherKindsTimeline() {
  std::vector<v1::TimelineEntry> entries;
  v1::TimelineEntry bb;
  bb.set_entry_id("bb");
  bb.set_sequence(1);
  bb.set_kind(v1::TIMELINE_ENTRY_KIND_BACKBONE_DESIGNATED);
  bb.set_occurred_on("2020-02-29");
  bb.mutable_backbone_designated()->set_tier(cv1::BACKBONE_TIER_CITY);
  entries.push_back(bb);

  auto appraisal = [](const std::string& id, int64_t seq, const std::string& on, int year,
                      v1::AppraisalResult r) {
    v1::TimelineEntry e;
    e.set_entry_id(id);
    e.set_sequence(seq);
    e.set_kind(v1::TIMELINE_ENTRY_KIND_APPRAISAL);
    e.set_occurred_on(on);
    e.mutable_appraisal()->set_year(year);
    e.mutable_appraisal()->set_result(r);
    return e;
  };
  // 2023's result was filed late, after 2024's: the latest year still wins.
  entries.push_back(appraisal("ap24", 2, "2025-01-10", 2024, v1::APPRAISAL_RESULT_EXCELLENT));
  entries.push_back(appraisal("ap23", 3, "2025-03-01", 2023, v1::APPRAISAL_RESULT_QUALIFIED));

  v1::TimelineEntry hon1, hon2, des;
  hon1.set_entry_id("h1");
  hon1.set_sequence(4);
  hon1.set_kind(v1::TIMELINE_ENTRY_KIND_HONOUR);
  hon1.set_occurred_on("2022-09-10");
  hon1.mutable_honour()->set_name("市优秀教师");
  hon1.mutable_honour()->set_level(v1::AWARD_LEVEL_CITY);
  hon2 = hon1;
  hon2.set_entry_id("h2");
  hon2.set_sequence(5);
  hon2.set_occurred_on("2019-09-10");
  hon2.mutable_honour()->set_name("县优秀班主任");
  des.set_entry_id("d1");
  des.set_sequence(6);
  des.set_kind(v1::TIMELINE_ENTRY_KIND_DESIGNATION);
  des.set_occurred_on("2023-04-01");
  des.mutable_designation()->set_kind(v1::DESIGNATION_KIND_SUBJECT_LEADER);
  des.mutable_designation()->set_level(v1::AWARD_LEVEL_COUNTY);
  entries.push_back(hon1);
  entries.push_back(hon2);
  entries.push_back(des);
  // A designation entered by mistake and retracted does not show.
  v1::TimelineEntry des2 = des;
  des2.set_entry_id("d2");
  des2.set_sequence(7);
  entries.push_back(des2);
  entries.push_back(Correction("c", 8, "2023-05-01", "d2"));

  v1::TimelineEntry status;
  status.set_entry_id("ps");
  status.set_sequence(9);
  status.set_kind(v1::TIMELINE_ENTRY_KIND_POST_STATUS_CHANGED);
  status.set_occurred_on("2024-03-01");
  status.mutable_post_status_changed()->set_from_status(v1::POST_STATUS_ON_DUTY);
  status.mutable_post_status_changed()->set_to_status(v1::POST_STATUS_MATERNITY_LEAVE);
  entries.push_back(status);
  entries.push_back(Finding("f", 10, "2025-01-15", cv1::ETHICS_SEVERITY_DEMERIT));

  return entries;
}

// The teacher as ApplyDerivedValues leaves it from OtherKindsTimeline() on 2025-06-01.
void ExpectOtherKindsApplied(const v1::Teacher& teacher) {
  EXPECT_EQ(teacher.name(), "张老师");
  EXPECT_EQ(teacher.title(), cv1::PROFESSIONAL_TITLE_UNSPECIFIED);
  EXPECT_EQ(teacher.backbone_tier(), cv1::BACKBONE_TIER_CITY);
  EXPECT_EQ(teacher.backbone_designated_on(), "2020-02-29");
  EXPECT_EQ(teacher.backbone_review_due_on(), "2025-03-01");  // 2025 has no 29 February
  EXPECT_EQ(teacher.latest_appraisal().year(), 2024);
  EXPECT_EQ(teacher.latest_appraisal().result(), v1::APPRAISAL_RESULT_EXCELLENT);
  ASSERT_EQ(teacher.honours_size(), 2);
  EXPECT_EQ(teacher.honours(1).name(), "市优秀教师");
  EXPECT_EQ(teacher.honours(1).awarded_on(), "2022-09-10");
  ASSERT_EQ(teacher.designations_size(), 1);
  EXPECT_EQ(teacher.designations(0).designated_on(), "2023-04-01");
  EXPECT_EQ(teacher.designations(0).entry_id(), "d1");
  EXPECT_EQ(teacher.post_status(), v1::POST_STATUS_MATERNITY_LEAVE);
  EXPECT_EQ(teacher.ethics_veto().severity(), cv1::ETHICS_SEVERITY_DEMERIT);
  EXPECT_EQ(teacher.ethics_veto().from_date(), "2025-01-15");
  EXPECT_EQ(teacher.ethics_veto().until_date(), "2026-01-14");
}

TEST(DeriveTest, OtherKindsAndApply) {
  std::vector<v1::TimelineEntry> entries = OtherKindsTimeline();

  absl::StatusOr<DerivedValues> d = DeriveCurrentValues(entries, DefaultEthics(), D(2025, 6, 1));
  ASSERT_TRUE(d.ok()) << d.status();
  ASSERT_TRUE(d->latest_appraisal);
  EXPECT_EQ(d->latest_appraisal->entry_id(), "ap24");
  ASSERT_EQ(d->honours.size(), 2u);
  EXPECT_EQ(d->honours[0].entry_id(), "h2");  // by date
  EXPECT_EQ(d->honours[1].entry_id(), "h1");
  ASSERT_EQ(d->designations.size(), 1u);
  EXPECT_EQ(d->designations[0].entry_id(), "d1");

  v1::Teacher teacher;
  teacher.set_name("张老师");
  teacher.set_post_status(v1::POST_STATUS_ON_DUTY);
  teacher.set_title(cv1::PROFESSIONAL_TITLE_FULL_SENIOR);  // stale, must be cleared
  ApplyDerivedValues(*d, &teacher);
  ASSERT_NO_FATAL_FAILURE(ExpectOtherKindsApplied(teacher));

  // The backbone designation lapses at review: the tier is cleared.
  v1::TimelineEntry lapse = entries.front();  // the backbone designation
  lapse.set_entry_id("lapse");
  lapse.set_sequence(11);
  lapse.set_occurred_on("2025-03-01");
  lapse.mutable_backbone_designated()->set_tier(cv1::BACKBONE_TIER_UNSPECIFIED);
  entries.push_back(lapse);
  d = DeriveCurrentValues(entries, DefaultEthics(), D(2025, 6, 1));
  ASSERT_TRUE(d.ok());
  ApplyDerivedValues(*d, &teacher);
  EXPECT_EQ(teacher.backbone_tier(), cv1::BACKBONE_TIER_UNSPECIFIED);
  EXPECT_EQ(teacher.backbone_review_due_on(), "");
}

TEST(DeriveTest, BadDateIsInvalidArgumentNamingTheEntry) {
  std::vector<v1::TimelineEntry> entries = {
      Title("a", 1, "2020-09-01", cv1::PROFESSIONAL_TITLE_FIRST_GRADE),
      Title("b", 2, "2020-02-30", cv1::PROFESSIONAL_TITLE_SENIOR),
  };
  absl::StatusOr<DerivedValues> d = DeriveCurrentValues(entries, DefaultEthics(), D(2024, 1, 1));
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(d.status().message()), HasSubstr("entries[1].occurred_on"));
}

TEST(DeriveTest, SortByDateUsesSequenceForTies) {
  std::vector<v1::TimelineEntry> entries = {
      Title("c", 3, "2021-01-01", cv1::PROFESSIONAL_TITLE_FIRST_GRADE),
      Title("b", 5, "2020-01-01", cv1::PROFESSIONAL_TITLE_FIRST_GRADE),
      Title("a", 2, "2020-01-01", cv1::PROFESSIONAL_TITLE_FIRST_GRADE),
  };
  SortByDate(&entries);
  EXPECT_EQ(entries[0].entry_id(), "a");
  EXPECT_EQ(entries[1].entry_id(), "b");
  EXPECT_EQ(entries[2].entry_id(), "c");
}

// ---------------------------------------------------------------------------------------------
// Ethics veto.

struct VetoCase {
  cv1::EthicsSeverity severity;
  absl::CivilDay found_on;
  absl::CivilDay last_day;  // worked out by hand from DOMAIN §6
};

TEST(VetoTest, EverySeverityBoundaryDay) {
  const std::vector<VetoCase> cases = {
      // 警告 6 months.
      {cv1::ETHICS_SEVERITY_WARNING, D(2023, 3, 15), D(2023, 9, 14)},
      {cv1::ETHICS_SEVERITY_WARNING, D(2023, 8, 31), D(2024, 2, 29)},  // 2024-02-31 -> 03-01
      {cv1::ETHICS_SEVERITY_WARNING, D(2023, 1, 1), D(2023, 6, 30)},
      // 记过 12 months.
      {cv1::ETHICS_SEVERITY_DEMERIT, D(2023, 8, 31), D(2024, 8, 30)},
      {cv1::ETHICS_SEVERITY_DEMERIT, D(2024, 2, 29), D(2025, 2, 28)},  // 2025-02-29 -> 03-01
      // 降低岗位等级 24 months.
      {cv1::ETHICS_SEVERITY_DEMOTION, D(2024, 2, 29), D(2026, 2, 28)},
      {cv1::ETHICS_SEVERITY_DEMOTION, D(2022, 12, 31), D(2024, 12, 30)},
      // 撤职 24 months.
      {cv1::ETHICS_SEVERITY_DISMISSAL, D(2022, 1, 1), D(2023, 12, 31)},
      {cv1::ETHICS_SEVERITY_DISMISSAL, D(2021, 10, 31), D(2023, 10, 30)},
  };
  for (const VetoCase& c : cases) {
    SCOPED_TRACE(absl::StrFormat("%s found %s", cv1::EthicsSeverity_Name(c.severity),
                                 dates::FormatDate(c.found_on)));
    absl::StatusOr<std::optional<Veto>> veto = VetoOf(c.found_on, c.severity, DefaultEthics());
    ASSERT_TRUE(veto.ok()) << veto.status();
    ASSERT_TRUE(veto->has_value());
    EXPECT_EQ((*veto)->period.first, c.found_on);
    EXPECT_EQ((*veto)->period.last, c.last_day);

    // Through the timeline: inactive the day before, active on the first and last day, gone the
    // day after.
    const std::vector<v1::TimelineEntry> entries = {
        Finding("f", 1, dates::FormatDate(c.found_on), c.severity)};
    auto active_on = [&](absl::CivilDay day) {
      absl::StatusOr<DerivedValues> d = DeriveCurrentValues(entries, DefaultEthics(), day);
      EXPECT_TRUE(d.ok()) << d.status();
      return d.ok() && d->active_veto.has_value();
    };
    EXPECT_FALSE(active_on(c.found_on - 1));
    EXPECT_TRUE(active_on(c.found_on));
    EXPECT_TRUE(active_on(c.last_day));
    EXPECT_FALSE(active_on(c.last_day + 1));
  }
}

TEST(VetoTest, PolicyDecidesTheMonths) {
  cv1::EthicsPolicy p = DefaultEthics();
  p.set_warning_months(3);
  absl::StatusOr<std::optional<Veto>> v = VetoOf(D(2023, 11, 30), cv1::ETHICS_SEVERITY_WARNING, p);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)->period.last, D(2024, 2, 29));  // 2024-02-30 -> 03-01, minus one day
  p.set_warning_months(0);
  v = VetoOf(D(2023, 11, 30), cv1::ETHICS_SEVERITY_WARNING, p);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->has_value());

  cv1::EthicsPolicy unset;
  EXPECT_EQ(VetoMonths(cv1::ETHICS_SEVERITY_DEMERIT, unset).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(VetoMonths(cv1::ETHICS_SEVERITY_DEMERIT, unset).status().message()),
              HasSubstr("demerit_months"));
  EXPECT_EQ(VetoMonths(cv1::ETHICS_SEVERITY_UNSPECIFIED, DefaultEthics()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*VetoMonths(cv1::ETHICS_SEVERITY_DISMISSAL, DefaultEthics()), 24);
  // A finding without a severity (an evaluation that found nothing) starts no veto.
  v = VetoOf(D(2023, 1, 1), cv1::ETHICS_SEVERITY_UNSPECIFIED, unset);
  ASSERT_TRUE(v.ok());
  EXPECT_FALSE(v->has_value());
}

// The field and rule of the one field violation `s` carries ("none" without one).
std::string ViolationOf(const absl::Status& s) {
  std::optional<cv1::BadRequest> bad = BadRequestOf(s);
  if (!bad.has_value() || bad->field_violations_size() != 1) return "none";
  return absl::StrCat(bad->field_violations(0).field(), " ", bad->field_violations(0).rule());
}

// A title, designation, honour, appraisal or ethics finding happened: not after today. A post
// status change may be recorded ahead.
TEST(TimelineEntryTest, WhatHappenedIsNotDatedAfterToday) {
  const absl::CivilDay today(2025, 11, 25);
  EXPECT_TRUE(
      CheckEntryHappened(Title("", 0, "2025-11-25", cv1::PROFESSIONAL_TITLE_FIRST_GRADE), today)
          .ok());
  absl::Status late =
      CheckEntryHappened(Title("", 0, "2025-11-26", cv1::PROFESSIONAL_TITLE_FIRST_GRADE), today);
  EXPECT_EQ(late.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(late.message()), HasSubstr("2025-11-25"));
  EXPECT_EQ(ViolationOf(late), "entry.occurred_on not_future");
  EXPECT_EQ(ViolationOf(CheckEntryHappened(
                Finding("", 0, "2026-01-01", cv1::ETHICS_SEVERITY_WARNING), today)),
            "entry.occurred_on not_future");
  v1::TimelineEntry appraisal;
  appraisal.set_kind(v1::TIMELINE_ENTRY_KIND_APPRAISAL);
  appraisal.set_occurred_on("2025-11-25");
  appraisal.mutable_appraisal()->set_year(2026);
  appraisal.mutable_appraisal()->set_result(v1::APPRAISAL_RESULT_QUALIFIED);
  EXPECT_EQ(ViolationOf(CheckEntryHappened(appraisal, today)), "entry.appraisal.year not_future");
  appraisal.mutable_appraisal()->set_year(2025);
  EXPECT_TRUE(CheckEntryHappened(appraisal, today).ok());
  v1::TimelineEntry leave;
  leave.set_kind(v1::TIMELINE_ENTRY_KIND_POST_STATUS_CHANGED);
  leave.set_occurred_on("2026-01-01");
  leave.mutable_post_status_changed()->set_to_status(v1::POST_STATUS_MATERNITY_LEAVE);
  EXPECT_TRUE(CheckEntryHappened(leave, today).ok());
}

// A refused entry or update mask names its field and rule in the error's details, not only in
// the text.
TEST(TimelineEntryTest, RefusalsNameTheirRule) {
  v1::TimelineEntry made = Title("e1", 0, "2025-11-25", cv1::PROFESSIONAL_TITLE_FIRST_GRADE);
  EXPECT_EQ(ViolationOf(ValidateNewTimelineEntry(made)), "entry.entry_id output_only");
  v1::TimelineEntry no_title = Title("", 0, "2025-11-25", cv1::PROFESSIONAL_TITLE_UNSPECIFIED);
  EXPECT_EQ(ViolationOf(ValidateNewTimelineEntry(no_title)), "entry.title_conferred.title enum");
  google::protobuf::FieldMask mask;
  mask.add_paths("title");
  EXPECT_EQ(ViolationOf(ValidateTeacherUpdateMask(mask)), "update_mask derived");
  mask.set_paths(0, "nickname");
  EXPECT_EQ(ViolationOf(ValidateTeacherUpdateMask(mask)), "update_mask unknown_field");
  EXPECT_EQ(ViolationOf(ValidateIdCard("1234", "teacher.id_card_number", {})),
            absl::StrCat("teacher.id_card_number ", IdCardRuleName(IdCardRule::kLength)));
}

// DOMAIN §1: a veto disqualifies from promotion, title review, designation and excellence
// ratings. 警告 of 2025-03-15 (6 months) covers 2025-03-15 through 2025-09-14.
TEST(VetoTest, NoPromotionDesignationOrExcellenceWhileActive) {
  const std::vector<v1::TimelineEntry> timeline = {
      Title("t", 1, "2018-12-01", cv1::PROFESSIONAL_TITLE_SECOND_GRADE),
      Finding("f", 2, "2025-03-15", cv1::ETHICS_SEVERITY_WARNING)};
  auto check = [&](const v1::TimelineEntry& e) {
    return CheckEthicsVeto(e, timeline, DefaultEthics());
  };
  const auto first = [](const std::string& on) {
    return Title("", 0, on, cv1::PROFESSIONAL_TITLE_FIRST_GRADE);
  };
  EXPECT_TRUE(check(first("2025-03-14")).ok());
  absl::Status refused = check(first("2025-03-15"));
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("2025-09-14"));
  std::optional<cv1::BadRequest> details = BadRequestOf(refused);
  ASSERT_TRUE(details.has_value());
  ASSERT_EQ(details->field_violations_size(), 1);
  EXPECT_EQ(details->field_violations(0).field(), "entry.occurred_on");
  EXPECT_EQ(details->field_violations(0).rule(), "ethics_veto");
  EXPECT_EQ(check(first("2025-09-14")).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(check(first("2025-09-15")).ok());
  // A title not above the one held is no promotion.
  EXPECT_TRUE(check(Title("", 0, "2025-06-01", cv1::PROFESSIONAL_TITLE_SECOND_GRADE)).ok());

  v1::TimelineEntry backbone;
  backbone.set_kind(v1::TIMELINE_ENTRY_KIND_BACKBONE_DESIGNATED);
  backbone.set_occurred_on("2025-06-01");
  backbone.mutable_backbone_designated()->set_tier(cv1::BACKBONE_TIER_COUNTY);
  EXPECT_EQ(check(backbone).code(), absl::StatusCode::kFailedPrecondition);
  backbone.mutable_backbone_designated()->set_tier(cv1::BACKBONE_TIER_UNSPECIFIED);  // lapsed
  EXPECT_TRUE(check(backbone).ok());

  v1::TimelineEntry appraisal;
  appraisal.set_kind(v1::TIMELINE_ENTRY_KIND_APPRAISAL);
  appraisal.set_occurred_on("2025-06-01");
  appraisal.mutable_appraisal()->set_year(2025);
  appraisal.mutable_appraisal()->set_result(v1::APPRAISAL_RESULT_QUALIFIED);
  EXPECT_TRUE(check(appraisal).ok());
  appraisal.mutable_appraisal()->set_result(v1::APPRAISAL_RESULT_EXCELLENT);
  EXPECT_EQ(check(appraisal).code(), absl::StatusCode::kFailedPrecondition);

  v1::TimelineEntry designation;
  designation.set_kind(v1::TIMELINE_ENTRY_KIND_DESIGNATION);
  designation.set_occurred_on("2025-06-01");
  EXPECT_EQ(check(designation).code(), absl::StatusCode::kFailedPrecondition);
  designation.set_kind(v1::TIMELINE_ENTRY_KIND_HONOUR);
  EXPECT_EQ(check(designation).code(), absl::StatusCode::kFailedPrecondition);

  // Other entries are never refused; a retracted finding vetoes nothing.
  EXPECT_TRUE(check(Finding("", 0, "2025-06-01", cv1::ETHICS_SEVERITY_DEMERIT)).ok());
  std::vector<v1::TimelineEntry> retracted = timeline;
  retracted.push_back(Correction("c", 3, "2025-04-01", "f"));
  EXPECT_TRUE(CheckEthicsVeto(first("2025-06-01"), retracted, DefaultEthics()).ok());
}

TEST(VetoTest, OverlappingVetoesShowTheOneEndingLastAndCorrectionsLiftThem) {
  std::vector<v1::TimelineEntry> entries = {
      Finding("w", 1, "2024-01-10", cv1::ETHICS_SEVERITY_WARNING),  // to 2024-07-09
      Finding("m", 2, "2023-06-01", cv1::ETHICS_SEVERITY_DEMERIT),  // to 2024-05-31
  };
  absl::StatusOr<DerivedValues> d = DeriveCurrentValues(entries, DefaultEthics(), D(2024, 3, 1));
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->active_veto);
  EXPECT_EQ(d->active_veto->entry_id, "w");
  EXPECT_EQ(d->active_veto->period.last, D(2024, 7, 9));
  EXPECT_EQ(d->vetoes.size(), 2u);
  EXPECT_EQ(d->vetoes[0].entry_id, "m");  // by date

  entries.push_back(Correction("c", 3, "2024-02-01", "w"));
  d = DeriveCurrentValues(entries, DefaultEthics(), D(2024, 6, 1));
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->active_veto);  // m ended 2024-05-31 and w was retracted
  d = DeriveCurrentValues(entries, DefaultEthics(), D(2024, 5, 31));
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(d->active_veto);
  EXPECT_EQ(d->active_veto->entry_id, "m");
}

// ---------------------------------------------------------------------------------------------
// Retirement.

cv1::RetirementPolicy NationalRetirement() {
  cv1::RetirementPolicy p;
  p.mutable_male()->set_base_age_years(60);
  p.mutable_male()->set_cohort_start_month("1965-01");
  p.mutable_male()->set_months_per_step(4);
  p.mutable_male()->set_max_delay_months(36);
  p.mutable_female()->set_base_age_years(55);
  p.mutable_female()->set_cohort_start_month("1970-01");
  p.mutable_female()->set_months_per_step(4);
  p.mutable_female()->set_max_delay_months(36);
  return p;
}

absl::CivilDay Retires(absl::CivilDay born, cv1::Sex sex) {
  absl::StatusOr<absl::CivilDay> r = RetirementDate(born, sex, NationalRetirement());
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : absl::CivilDay();
}

TEST(RetirementTest, MenUnderTheNationalRule) {
  // Born 1964-12: 60 years 0 months, reached in 2024-12; retires the 1st of the month after.
  EXPECT_EQ(Retires(D(1964, 12, 15), cv1::SEX_MALE), D(2025, 1, 1));
  EXPECT_EQ(Retires(D(1964, 12, 31), cv1::SEX_MALE), D(2025, 1, 1));
  // 1965-01: the first cohort, +1 month: 60y1m reached 2025-02.
  EXPECT_EQ(Retires(D(1965, 1, 1), cv1::SEX_MALE), D(2025, 3, 1));
  // 1965-04: still +1: reached 2025-05.
  EXPECT_EQ(Retires(D(1965, 4, 30), cv1::SEX_MALE), D(2025, 6, 1));
  // 1965-05: +2: reached 2025-07.
  EXPECT_EQ(Retires(D(1965, 5, 1), cv1::SEX_MALE), D(2025, 8, 1));
  // 1976-08: k = 139, +35: 62y11m reached 2039-07.
  EXPECT_EQ(Retires(D(1976, 8, 20), cv1::SEX_MALE), D(2039, 8, 1));
  // 1976-12: capped at +36, i.e. 63: reached 2039-12.
  EXPECT_EQ(Retires(D(1976, 12, 3), cv1::SEX_MALE), D(2040, 1, 1));
  // Later cohorts stay at 63.
  EXPECT_EQ(Retires(D(1990, 6, 9), cv1::SEX_MALE), D(2053, 7, 1));
}

TEST(RetirementTest, WomenUnderTheNationalRule) {
  EXPECT_EQ(Retires(D(1969, 12, 1), cv1::SEX_FEMALE), D(2025, 1, 1));  // 55
  EXPECT_EQ(Retires(D(1970, 1, 31), cv1::SEX_FEMALE), D(2025, 3, 1));  // 55y1m
  EXPECT_EQ(Retires(D(1970, 5, 2), cv1::SEX_FEMALE), D(2025, 8, 1));   // 55y2m
  EXPECT_EQ(Retires(D(1981, 12, 2), cv1::SEX_FEMALE), D(2040, 1, 1));  // capped: 58
}

TEST(RetirementTest, DelayStepsByFourMonthCohorts) {
  const absl::CivilMonth start(1965, 1);
  std::vector<int64_t> delays;
  for (int i = -2; i < 10; ++i) delays.push_back(RetirementDelayMonths(start + i, start, 4, 36));
  EXPECT_THAT(delays, ElementsAre(0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3));
  EXPECT_EQ(RetirementDelayMonths(absl::CivilMonth(1976, 8), start, 4, 36), 35);
  EXPECT_EQ(RetirementDelayMonths(absl::CivilMonth(1976, 9), start, 4, 36), 36);
  EXPECT_EQ(RetirementDelayMonths(absl::CivilMonth(2000, 1), start, 4, 36), 36);
}

TEST(RetirementTest, ConfiguredRuleAndBadRules) {
  cv1::RetirementPolicy::Rule rule;  // a province's own: 62, from 1970-01, one month per 2
  rule.set_base_age_years(62);
  rule.set_cohort_start_month("1970-01");
  rule.set_months_per_step(2);
  rule.set_max_delay_months(12);
  // k = 2: delay 2/2 + 1 = 2 months; 62y2m is reached in 2032-05.
  EXPECT_EQ(*RetirementDate(D(1970, 3, 5), rule), D(2032, 6, 1));
  rule.clear_months_per_step();
  absl::StatusOr<absl::CivilDay> r = RetirementDate(D(1970, 3, 5), rule);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("months_per_step"));
  rule.set_months_per_step(2);
  rule.set_cohort_start_month("1970-13");
  EXPECT_EQ(RetirementDate(D(1970, 3, 5), rule).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(
      RetirementDate(D(1970, 3, 5), cv1::SEX_UNSPECIFIED, NationalRetirement()).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RetirementDate(D(1970, 3, 5), cv1::SEX_MALE, cv1::RetirementPolicy()).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------------------------------------
// Years, new teachers, rural or weak service.

TEST(YearsTest, NewTeacherBoundaries) {
  EXPECT_FALSE(IsNewTeacher(D(2021, 9, 1), D(2021, 8, 31)));
  EXPECT_TRUE(IsNewTeacher(D(2021, 9, 1), D(2021, 9, 1)));
  EXPECT_TRUE(IsNewTeacher(D(2021, 9, 1), D(2026, 8, 31)));
  EXPECT_FALSE(IsNewTeacher(D(2021, 9, 1), D(2026, 9, 1)));
  // Hired 29 February: five years later is 1 March.
  EXPECT_TRUE(IsNewTeacher(D(2020, 2, 29), D(2025, 2, 28)));
  EXPECT_FALSE(IsNewTeacher(D(2020, 2, 29), D(2025, 3, 1)));
  EXPECT_TRUE(IsNewTeacher(D(2020, 2, 29), D(2022, 2, 28), 3));
}

TEST(YearsTest, WholeYearsAtSchool) {
  EXPECT_EQ(WholeYearsSince(D(2019, 9, 1), D(2025, 8, 31)), 5);
  EXPECT_EQ(WholeYearsSince(D(2019, 9, 1), D(2025, 9, 1)), 6);  // exactly 6 on 1 September
  EXPECT_EQ(WholeYearsSince(D(2019, 9, 1), D(2019, 9, 1)), 0);
  EXPECT_EQ(WholeYearsSince(D(2019, 9, 1), D(2018, 1, 1)), 0);
  EXPECT_EQ(WholeYearsSince(D(2020, 2, 29), D(2021, 2, 28)), 0);
  EXPECT_EQ(WholeYearsSince(D(2020, 2, 29), D(2021, 3, 1)), 1);
  EXPECT_EQ(WholeYearsSince(D(2020, 2, 29), D(2024, 2, 29)), 4);
  // Agrees with the shared "N whole years since" predicate, weekly over eight years.
  for (absl::CivilDay day = D(2020, 1, 1); day <= D(2027, 12, 31); day += 7) {
    const int64_t n = WholeYearsSince(D(2020, 2, 29), day);
    EXPECT_TRUE(n == 0 || dates::WholeYearsSince(D(2020, 2, 29), n, day));
    EXPECT_FALSE(dates::WholeYearsSince(D(2020, 2, 29), n + 1, day));
  }
}

v1::SchoolStint Stint(const std::string& school, v1::SchoolLocation loc, v1::SchoolQuality q,
                      v1::SchoolKind kind, const std::string& from, const std::string& to) {
  v1::SchoolStint s;
  s.set_school_id(school);
  s.set_location(loc);
  s.set_quality(q);
  s.set_kind(kind);
  s.set_from_date(from);
  s.set_to_date(to);
  return s;
}

TEST(RuralServiceTest, FromSchoolHistory) {
  const std::vector<v1::SchoolStint> history = {
      Stint("urban", v1::SCHOOL_LOCATION_URBAN, v1::SCHOOL_QUALITY_STRONG, v1::SCHOOL_KIND_REGULAR,
            "2010-09-01", "2015-08-31"),
      Stint("village", v1::SCHOOL_LOCATION_RURAL, v1::SCHOOL_QUALITY_ORDINARY,
            v1::SCHOOL_KIND_VILLAGE_SCHOOL, "2015-09-01", "2016-08-31"),
      // Follows without a gap: merged with the village school into one span.
      Stint("weak", v1::SCHOOL_LOCATION_TOWN, v1::SCHOOL_QUALITY_WEAK, v1::SCHOOL_KIND_REGULAR,
            "2016-09-01", "2017-02-28"),
      Stint("town", v1::SCHOOL_LOCATION_TOWN, v1::SCHOOL_QUALITY_ORDINARY,
            v1::SCHOOL_KIND_CENTRAL_SCHOOL, "2017-03-01", "2020-08-31"),
      Stint("point", v1::SCHOOL_LOCATION_TOWN, v1::SCHOOL_QUALITY_ORDINARY,
            v1::SCHOOL_KIND_TEACHING_POINT, "2020-09-01", ""),
  };
  absl::StatusOr<v1::RuralOrWeakService> r = RuralOrWeakServiceOf(history, D(2022, 9, 1));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->served());
  ASSERT_EQ(r->periods_size(), 3);
  EXPECT_EQ(r->periods(0).school_id(), "village");
  EXPECT_TRUE(r->periods(0).rural());
  EXPECT_TRUE(r->periods(0).village_or_teaching_point());
  EXPECT_FALSE(r->periods(0).weak());
  EXPECT_EQ(r->periods(0).to_date(), "2016-08-31");
  EXPECT_EQ(r->periods(1).school_id(), "weak");
  EXPECT_TRUE(r->periods(1).weak());
  EXPECT_FALSE(r->periods(1).rural());
  EXPECT_EQ(r->periods(2).school_id(), "point");
  EXPECT_EQ(r->periods(2).to_date(), "");  // still there
  EXPECT_EQ(r->periods(2).source(), "school_history");
  // 2015-09-01..2017-02-28 is 1 whole year; 2020-09-01..2022-09-01 is 2 (on 2022-09-01 the
  // day after is 09-02, and 2 years were complete on 09-01).
  EXPECT_EQ(r->whole_years(), 3);

  // Before the village school: not yet served.
  r = RuralOrWeakServiceOf(history, D(2015, 8, 31));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->served());
  EXPECT_EQ(r->periods_size(), 0);
  // On the village school's first day: served, and the stint is still going.
  r = RuralOrWeakServiceOf(history, D(2015, 9, 1));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->served());
  EXPECT_EQ(r->periods(0).to_date(), "");
  EXPECT_EQ(r->whole_years(), 0);
  // One day short of a year, then a whole year.
  r = RuralOrWeakServiceOf(history, D(2016, 8, 30));
  EXPECT_EQ(r->whole_years(), 0);
  r = RuralOrWeakServiceOf(history, D(2016, 8, 31));
  EXPECT_EQ(r->whole_years(), 1);
}

TEST(RuralServiceTest, UrbanOnlyAndBadDates) {
  std::vector<v1::SchoolStint> history = {
      Stint("a", v1::SCHOOL_LOCATION_URBAN, v1::SCHOOL_QUALITY_ORDINARY, v1::SCHOOL_KIND_REGULAR,
            "2010-09-01", ""),
  };
  absl::StatusOr<v1::RuralOrWeakService> r = RuralOrWeakServiceOf(history, D(2024, 1, 1));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->served());
  EXPECT_EQ(r->whole_years(), 0);

  history.push_back(Stint("b", v1::SCHOOL_LOCATION_RURAL, v1::SCHOOL_QUALITY_ORDINARY,
                          v1::SCHOOL_KIND_REGULAR, "2012-09-01", "2012-08-31"));
  r = RuralOrWeakServiceOf(history, D(2024, 1, 1));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("school_history[1].to_date"));
  history[1].set_from_date("2012-9-1");
  r = RuralOrWeakServiceOf(history, D(2024, 1, 1));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("school_history[1].from_date"));
}

TEST(SchoolHistoryTest, FromJoinMoveAndTransferEntries) {
  auto move = [](const std::string& id, int64_t seq, v1::TimelineEntryKind kind,
                 const std::string& on, const std::string& to) {
    v1::TimelineEntry e;
    e.set_entry_id(id);
    e.set_sequence(seq);
    e.set_kind(kind);
    e.set_occurred_on(on);
    if (kind == v1::TIMELINE_ENTRY_KIND_TRANSFERRED) {
      e.mutable_transfer()->set_to_county_id("110102");
      e.mutable_transfer()->set_to_school_id(to);
    } else {
      e.mutable_school_change()->set_to_school_id(to);
    }
    return e;
  };
  std::vector<v1::TimelineEntry> entries = {
      move("j", 1, v1::TIMELINE_ENTRY_KIND_SCHOOL_JOINED, "2010-09-01", "s1"),
      move("t", 4, v1::TIMELINE_ENTRY_KIND_TRANSFERRED, "2020-09-01", "s9"),
      move("m", 2, v1::TIMELINE_ENTRY_KIND_SCHOOL_MOVED, "2015-09-01", "s2"),
      move("wrong", 3, v1::TIMELINE_ENTRY_KIND_SCHOOL_MOVED, "2018-09-01", "s3"),
      Correction("c", 5, "2018-10-01", "wrong"),
      Title("x", 6, "2019-01-01", cv1::PROFESSIONAL_TITLE_SENIOR),
  };
  std::vector<v1::SchoolStint> h = SchoolHistoryFromTimeline(entries);
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[0].school_id(), "s1");
  EXPECT_EQ(h[0].from_date(), "2010-09-01");
  EXPECT_EQ(h[0].to_date(), "2015-08-31");
  EXPECT_EQ(h[1].school_id(), "s2");
  EXPECT_EQ(h[1].to_date(), "2020-08-31");
  EXPECT_EQ(h[2].school_id(), "s9");
  EXPECT_EQ(h[2].county_id(), "110102");
  EXPECT_EQ(h[2].to_date(), "");
}

// ---------------------------------------------------------------------------------------------
// Validation of requests.

TEST(UpdateMaskTest, IdentityAndContactOnly) {
  google::protobuf::FieldMask mask;
  for (const char* p : {"name", "phone", "email", "id_card_number", "qualification",
                        "qualification.last_registered_on", "subjects", "staffed"}) {
    mask.add_paths(p);
  }
  EXPECT_TRUE(ValidateTeacherUpdateMask(mask).ok()) << ValidateTeacherUpdateMask(mask);

  auto refused = [](const std::string& path, const std::string& why) {
    google::protobuf::FieldMask m;
    m.add_paths("name");
    m.add_paths(path);
    absl::Status s = ValidateTeacherUpdateMask(m);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << path;
    EXPECT_THAT(std::string(s.message()), HasSubstr("update_mask")) << path;
    EXPECT_THAT(std::string(s.message()), HasSubstr(why)) << path;
  };
  refused("title", "derived");
  refused("backbone_tier", "derived");
  refused("ethics_veto.until_date", "derived");
  refused("expected_retirement_date", "derived");
  refused("school_id", "MoveTeacher");
  refused("county_id", "TransferTeacher");
  refused("post_status", "POST_STATUS_CHANGED");
  refused("etag", "read-only");
  refused("teacher_id", "read-only");
  refused("shoe_size", "allowed:");
  refused("qualification.colour", "unknown");
  refused("name.first", "unknown");
  EXPECT_EQ(ValidateTeacherUpdateMask(google::protobuf::FieldMask()).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(NewTimelineEntryTest, ChecksKindDetailAndCorrections) {
  v1::TimelineEntry e;
  e.set_kind(v1::TIMELINE_ENTRY_KIND_TITLE_CONFERRED);
  e.set_occurred_on("2020-09-01");
  e.mutable_title_conferred()->set_title(cv1::PROFESSIONAL_TITLE_FIRST_GRADE);
  EXPECT_TRUE(ValidateNewTimelineEntry(e).ok());

  auto message = [](const v1::TimelineEntry& entry) {
    absl::Status s = ValidateNewTimelineEntry(entry);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  v1::TimelineEntry bad = e;
  bad.set_occurred_on("2020-02-30");
  EXPECT_THAT(message(bad), HasSubstr("entry.occurred_on"));
  bad = e;
  bad.mutable_appraisal()->set_year(2020);  // the oneof now holds the wrong detail
  EXPECT_THAT(message(bad), HasSubstr("entry.title_conferred"));
  bad = e;
  bad.mutable_title_conferred()->set_title(cv1::PROFESSIONAL_TITLE_UNSPECIFIED);
  EXPECT_THAT(message(bad), HasSubstr("entry.title_conferred.title"));
  bad = e;
  bad.set_supersedes_entry_id("e1");
  EXPECT_THAT(message(bad), HasSubstr("entry.correction_reason"));
  bad.set_correction_reason("职称等级录错");
  EXPECT_TRUE(ValidateNewTimelineEntry(bad).ok());
  bad = e;
  bad.set_sequence(3);
  EXPECT_THAT(message(bad), HasSubstr("output only"));
  bad = e;
  bad.set_kind(v1::TIMELINE_ENTRY_KIND_UNSPECIFIED);
  EXPECT_THAT(message(bad), HasSubstr("entry.kind"));

  v1::TimelineEntry correction;
  correction.set_kind(v1::TIMELINE_ENTRY_KIND_CORRECTION);
  correction.set_occurred_on("2024-01-01");
  EXPECT_THAT(message(correction), HasSubstr("entry.supersedes_entry_id"));
  correction.set_supersedes_entry_id("e1");
  correction.set_correction_reason("重复录入");
  EXPECT_TRUE(ValidateNewTimelineEntry(correction).ok());
  correction.mutable_honour()->set_name("x");
  EXPECT_THAT(message(correction), HasSubstr("no detail"));

  v1::TimelineEntry appraisal;
  appraisal.set_kind(v1::TIMELINE_ENTRY_KIND_APPRAISAL);
  appraisal.set_occurred_on("2024-01-10");
  appraisal.mutable_appraisal()->set_year(2023);
  EXPECT_THAT(message(appraisal), HasSubstr("entry.appraisal.result"));
  appraisal.mutable_appraisal()->set_result(v1::APPRAISAL_RESULT_EXCELLENT);
  EXPECT_TRUE(ValidateNewTimelineEntry(appraisal).ok());

  v1::TimelineEntry designation;
  designation.set_kind(v1::TIMELINE_ENTRY_KIND_DESIGNATION);
  designation.set_occurred_on("2024-01-10");
  designation.mutable_designation()->set_kind(v1::DESIGNATION_KIND_OTHER);
  EXPECT_THAT(message(designation), HasSubstr("entry.designation.name"));
}

// A secondment (the personnel relation stays) filed from the rotation service's events.
v1::TimelineEntry RotationEntry(const std::string& type, const std::string& id, bool moves,
                                const std::string& started, const std::string& completed,
                                const std::string& occurred) {
  rotation::v1::Rotation r;
  r.set_rotation_id(id);
  r.set_receiving_school_id("R1");
  r.set_relation_moves(moves);
  r.set_started_on(started);
  r.set_completed_on(completed);
  v1::TimelineEntry e;
  e.set_kind(v1::TIMELINE_ENTRY_KIND_EXTERNAL);
  e.set_occurred_on(occurred);
  e.mutable_external()->set_source("rotation");
  e.mutable_external()->set_type(type);
  e.mutable_external()->mutable_payload()->PackFrom(r);
  return e;
}

TEST(RuralServiceTest, SecondmentsFromRotationEvents) {
  std::vector<v1::TimelineEntry> entries = {
      RotationEntry("rotation.proposed", "RT1", false, "", "", "2023-06-01"),
      RotationEntry("rotation.started", "RT1", false, "2023-09-01", "", "2023-09-01"),
      RotationEntry("rotation.completed", "RT1", false, "2023-09-01", "2024-08-31", "2024-08-31"),
      // A relation-moving one is in the school history instead.
      RotationEntry("rotation.started", "RT2", true, "2024-09-01", "", "2024-09-01"),
      // Started, then cancelled: served until the cancellation.
      RotationEntry("rotation.started", "RT3", false, "2025-03-01", "", "2025-03-01"),
      RotationEntry("rotation.cancelled", "RT3", false, "2025-03-01", "", "2025-05-10")};
  std::vector<v1::SchoolStint> stints = SecondmentStintsFromTimeline(entries);
  ASSERT_EQ(stints.size(), 2u);
  EXPECT_EQ(stints[0].school_id(), "R1");
  EXPECT_EQ(stints[0].from_date(), "2023-09-01");
  EXPECT_EQ(stints[0].to_date(), "2024-08-31");
  EXPECT_EQ(stints[1].from_date(), "2025-03-01");
  EXPECT_EQ(stints[1].to_date(), "2025-05-10");
  for (v1::SchoolStint& s : stints) s.set_location(v1::SCHOOL_LOCATION_RURAL);
  std::vector<v1::SchoolStint> history = {Stint("U1", v1::SCHOOL_LOCATION_URBAN,
                                                v1::SCHOOL_QUALITY_STRONG, v1::SCHOOL_KIND_REGULAR,
                                                "2010-09-01", "")};
  absl::StatusOr<v1::RuralOrWeakService> r = RuralOrWeakServiceOf(history, stints, D(2025, 9, 1));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->served());
  ASSERT_EQ(r->periods_size(), 2);
  EXPECT_EQ(r->periods(0).source(), "rotation");
  EXPECT_TRUE(r->periods(0).rural());
  EXPECT_EQ(r->whole_years(), 1);  // 2023-09-01 .. 2024-08-31 is one whole year
  // Without the secondments the urban teacher has not served rurally.
  EXPECT_FALSE(RuralOrWeakServiceOf(history, D(2025, 9, 1))->served());
}

}  // namespace
}  // namespace shidang::profile

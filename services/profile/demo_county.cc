#include "services/profile/demo_county.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "services/common/csv.h"
#include "services/common/dates.h"
#include "services/profile/roster_columns.h"
#include "services/profile/rules.h"

namespace shidang::profile {
namespace {

using common::v1::BackboneTier;
using common::v1::ProfessionalTitle;
using common::v1::Sex;
using common::v1::Stage;

// A non-negative share of a count, rounded half up: floor(x + 0.5), as the demo has always
// rounded (std::lround differs only for x just below one half, e.g. 0.49999999999999994, whose
// x + 0.5 is 1.0), so the same options and seed still give the same county byte for byte.
int64_t RoundHalfUp(double x) { return static_cast<int64_t>(std::floor(x + 0.5)); }

// Sampling with results fixed by the seed on every platform: std::mt19937_64's sequence is fixed
// by the standard, but the std:: distributions are not, so we sample with our own arithmetic.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  // Uniform in [lo, hi] (the modulo bias is below 2^-40 for our ranges).
  int64_t Between(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(engine_() % span);
  }

  // True with probability `p`.
  bool Chance(double p) { return static_cast<double>(engine_() >> 11) * 0x1.0p-53 < p; }

  // An index drawn with the given integer weights.
  size_t Weighted(const std::vector<int>& weights) {
    int64_t total = 0;
    for (int w : weights) total += w;
    int64_t pick = Between(0, total - 1);
    for (size_t i = 0; i < weights.size(); ++i) {
      if (pick < weights[i]) return i;
      pick -= weights[i];
    }
    return weights.size() - 1;
  }

  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[static_cast<size_t>(Between(0, static_cast<int64_t>(items.size()) - 1))];
  }

  template <typename T>
  void Shuffle(std::vector<T>* items) {
    for (size_t i = items->size(); i > 1; --i) {
      std::swap((*items)[i - 1], (*items)[static_cast<size_t>(Between(0, i - 1))]);
    }
  }

 private:
  std::mt19937_64 engine_;
};

// ---------------------------------------------------------------------------------------------
// Tables.

// The most common surnames, weighted by their approximate share of the population (per mille).
const std::vector<std::pair<const char*, int>>& Surnames() {
  static const auto* table = new std::vector<std::pair<const char*, int>>{
      {"王", 74}, {"李", 72}, {"张", 68}, {"刘", 54}, {"陈", 45}, {"杨", 31}, {"黄", 22},
      {"赵", 20}, {"吴", 20}, {"周", 19}, {"徐", 15}, {"孙", 15}, {"马", 13}, {"朱", 13},
      {"胡", 12}, {"郭", 12}, {"何", 11}, {"林", 10}, {"高", 10}, {"罗", 10}, {"郑", 9},
      {"梁", 9},  {"谢", 8},  {"宋", 7},  {"唐", 7},  {"许", 7},  {"韩", 6},  {"冯", 6},
      {"邓", 6},  {"曹", 6},  {"彭", 6},  {"曾", 6},  {"肖", 5},  {"田", 5},  {"董", 5},
      {"潘", 5},  {"袁", 5},  {"蔡", 4},  {"蒋", 4},  {"余", 4},  {"于", 4},  {"杜", 4},
      {"叶", 4},  {"程", 4},  {"魏", 4},  {"苏", 4},  {"吕", 4},  {"丁", 3},  {"任", 3},
      {"卢", 3},  {"姚", 3},  {"沈", 3},  {"钟", 3},  {"姜", 3},  {"崔", 3},  {"谭", 3},
      {"陆", 3},  {"范", 3},  {"汪", 3},  {"廖", 3},  {"石", 3},  {"金", 3},  {"贾", 3},
      {"夏", 3},  {"方", 3},  {"邹", 2},  {"熊", 2},  {"白", 2},  {"孟", 2},  {"秦", 2},
      {"邱", 2},  {"侯", 2},  {"江", 2},  {"尹", 2},  {"薛", 2},  {"段", 2},  {"雷", 2},
      {"龙", 2},  {"史", 2},  {"陶", 2},  {"贺", 2},  {"毛", 2},  {"顾", 2},  {"邵", 2},
      {"钱", 2},  {"戴", 2},  {"严", 2},  {"应", 2},  {"楼", 1},  {"欧阳", 1}};
  return *table;
}

const std::vector<std::string>& FemaleGivenChars() {
  static const auto* chars = new std::vector<std::string>{
      "丽", "敏", "静", "燕", "艳", "娟", "霞", "芳", "婷", "雪", "慧", "玲", "红", "洁",
      "琳", "颖", "倩", "晶", "萍", "莉", "佳", "琴", "欣", "怡", "璐", "梅", "云", "兰",
      "悦", "思", "雨", "晨", "瑶", "嘉", "诗", "婉", "露", "秀", "英", "华"};
  return *chars;
}

const std::vector<std::string>& MaleGivenChars() {
  static const auto* chars = new std::vector<std::string>{
      "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏",
      "华", "飞", "鑫", "波", "宇", "浩", "凯", "健", "俊", "帆", "旭", "宁", "龙", "林",
      "峰", "建", "国", "文", "博", "轩", "成", "志", "海", "东", "晓", "新"};
  return *chars;
}

// Township seats and villages (the names of 武义县's streets, towns and townships; synthetic
// villages). Used for whatever county the options name: the data is synthetic.
const std::vector<std::string>& UrbanStreets() {
  static const auto* names = new std::vector<std::string>{"熟溪", "白洋", "壶山"};
  return *names;
}
const std::vector<std::string>& Towns() {
  static const auto* names =
      new std::vector<std::string>{"履坦", "桐琴", "泉溪", "王宅", "桃溪", "茭道", "柳城", "新宅"};
  return *names;
}
const std::vector<std::string>& Townships() {
  static const auto* names =
      new std::vector<std::string>{"大田", "白姆", "俞源", "坦洪", "西联", "三港", "大溪口"};
  return *names;
}
const std::vector<std::string>& VillageFirst() {
  static const auto* names = new std::vector<std::string>{
      "上", "下", "前", "后", "东", "西", "南", "北", "新", "大", "小", "高", "石", "岭", "溪"};
  return *names;
}
const std::vector<std::string>& VillageSecond() {
  static const auto* names = new std::vector<std::string>{"塘", "溪", "坑", "山", "坞", "岭", "田",
                                                          "湾", "源", "桥", "宅", "畈", "垄", "店"};
  return *names;
}

constexpr char kOrdinals[][4] = {"一", "二", "三", "四", "五", "六", "七", "八", "九", "十"};

// Subjects by stage, weighted by their share of teaching posts.
const std::vector<std::pair<std::string, int>>& SubjectWeights(Stage stage) {
  static const auto* preschool = new std::vector<std::pair<std::string, int>>{{"学前教育", 1}};
  static const auto* primary = new std::vector<std::pair<std::string, int>>{
      {"语文", 35}, {"数学", 30}, {"英语", 9}, {"科学", 5},    {"道德与法治", 4},
      {"音乐", 4},  {"体育", 6},  {"美术", 4}, {"信息技术", 3}};
  static const auto* junior = new std::vector<std::pair<std::string, int>>{
      {"语文", 17}, {"数学", 17}, {"英语", 15},    {"物理", 8},       {"化学", 5},
      {"生物", 5},  {"历史", 6},  {"地理", 5},     {"道德与法治", 6}, {"音乐", 3},
      {"体育", 7},  {"美术", 3},  {"信息技术", 2}, {"科学", 1}};
  static const auto* senior = new std::vector<std::pair<std::string, int>>{
      {"语文", 14}, {"数学", 15}, {"英语", 14},   {"物理", 10},    {"化学", 8},
      {"生物", 7},  {"历史", 6},  {"地理", 6},    {"思想政治", 6}, {"音乐", 2},
      {"体育", 6},  {"美术", 2},  {"信息技术", 4}};
  switch (stage) {
    case common::v1::STAGE_PRESCHOOL:
      return *preschool;
    case common::v1::STAGE_JUNIOR_SECONDARY:
      return *junior;
    case common::v1::STAGE_SENIOR_SECONDARY:
      return *senior;
    default:
      return *primary;
  }
}

std::string PickSubject(Stage stage, Rng& rng) {
  // A nine-year school has primary and junior classes.
  if (stage == common::v1::STAGE_NINE_YEAR) {
    stage = rng.Chance(0.6) ? common::v1::STAGE_PRIMARY : common::v1::STAGE_JUNIOR_SECONDARY;
  }
  const auto& table = SubjectWeights(stage);
  std::vector<int> weights;
  weights.reserve(table.size());
  for (const auto& [subject, weight] : table) weights.push_back(weight);
  return table[rng.Weighted(weights)].first;
}

// ---------------------------------------------------------------------------------------------
// Schools.

// How many teachers a school of this shape has, relative to the others.
int SizeWeight(Stage stage, v1::SchoolLocation location, v1::SchoolKind kind) {
  using namespace v1;  // NOLINT: enum values
  if (kind == SCHOOL_KIND_TEACHING_POINT) return 3;
  if (kind == SCHOOL_KIND_VILLAGE_SCHOOL) return 12;
  const bool urban = location == SCHOOL_LOCATION_URBAN;
  const bool rural = location == SCHOOL_LOCATION_RURAL;
  switch (stage) {
    case common::v1::STAGE_SENIOR_SECONDARY:
      return urban ? 160 : 120;
    case common::v1::STAGE_JUNIOR_SECONDARY:
      return urban ? 90 : rural ? 40 : 70;
    case common::v1::STAGE_NINE_YEAR:
      return urban ? 110 : 50;
    case common::v1::STAGE_PRESCHOOL:
      return urban ? 30 : rural ? 8 : 18;
    default:
      if (kind == SCHOOL_KIND_CENTRAL_SCHOOL) return rural ? 35 : 55;
      return urban ? 80 : 45;
  }
}

struct SchoolPlan {
  DemoSchool school;
  int weight = 0;
};

class SchoolMaker {
 public:
  SchoolMaker(const DemoCountyOptions& options, Rng& rng) : options_(options), rng_(rng) {
    county_short_ = options.county_name;
    for (absl::string_view suffix : {"自治县", "县", "市", "区", "旗"}) {
      if (absl::EndsWith(county_short_, suffix) && county_short_.size() > suffix.size() + 3) {
        county_short_.resize(county_short_.size() - suffix.size());
        break;
      }
    }
  }

  DemoSchool Make(v1::SchoolLocation location) {
    using namespace v1;  // NOLINT: enum values
    DemoSchool s;
    s.code = absl::StrFormat("%s%04d", options_.county_id, ++serial_);
    s.location = location;
    s.kind = SCHOOL_KIND_REGULAR;
    std::string place;  // the street, town or township the school is in
    std::string name;
    if (location == SCHOOL_LOCATION_URBAN) {
      static const std::vector<int> kStageWeights = {20, 35, 20, 15, 10};
      s.stage = StageAt(rng_.Weighted(kStageWeights));
      place = rng_.Pick(UrbanStreets());
      name = UrbanName(s.stage, place);
    } else if (location == SCHOOL_LOCATION_TOWN) {
      static const std::vector<int> kStageWeights = {20, 40, 30, 5, 5};
      s.stage = StageAt(rng_.Weighted(kStageWeights));
      place = rng_.Pick(Towns());
      if (s.stage == common::v1::STAGE_PRIMARY && central_.insert(place).second) {
        s.kind = SCHOOL_KIND_CENTRAL_SCHOOL;
      }
      name = TownName(s.stage, s.kind, place, "镇");
    } else {
      static const std::vector<int> kStageWeights = {15, 60, 15, 0, 10};
      s.stage = StageAt(rng_.Weighted(kStageWeights));
      place = rng_.Pick(Townships());
      if (s.stage == common::v1::STAGE_PRIMARY) {
        if (central_.insert(place).second) {
          s.kind = SCHOOL_KIND_CENTRAL_SCHOOL;
        } else {
          s.kind = rng_.Chance(0.3) ? SCHOOL_KIND_TEACHING_POINT : SCHOOL_KIND_VILLAGE_SCHOOL;
        }
      }
      name = TownName(s.stage, s.kind, place, "乡");
    }
    s.name = Unique(std::move(name));

    // Quality leans strong in town and weak in the country; a teaching point is rarely strong.
    std::vector<int> quality_weights =
        location == SCHOOL_LOCATION_URBAN  ? std::vector<int>{45, 45, 10}
        : location == SCHOOL_LOCATION_TOWN ? std::vector<int>{25, 55, 20}
                                           : std::vector<int>{5, 45, 50};
    if (s.kind == SCHOOL_KIND_TEACHING_POINT) quality_weights = {0, 20, 80};
    static const SchoolQuality kQualities[] = {SCHOOL_QUALITY_STRONG, SCHOOL_QUALITY_ORDINARY,
                                               SCHOOL_QUALITY_WEAK};
    s.quality = kQualities[rng_.Weighted(quality_weights)];

    // Private (民办) schools are mostly kindergartens; a township's own schools are public.
    const double private_chance = s.stage == common::v1::STAGE_PRESCHOOL ? 0.35
                                  : s.kind == SCHOOL_KIND_REGULAR        ? 0.03
                                                                         : 0.0;
    s.ownership = rng_.Chance(private_chance) ? SCHOOL_OWNERSHIP_PRIVATE : SCHOOL_OWNERSHIP_PUBLIC;
    if (s.ownership == SCHOOL_OWNERSHIP_PRIVATE) s.name = Unique(PrivateName(s.name));
    s.compulsory_education = s.stage == common::v1::STAGE_PRIMARY ||
                             s.stage == common::v1::STAGE_JUNIOR_SECONDARY ||
                             s.stage == common::v1::STAGE_NINE_YEAR;
    return s;
  }

 private:
  static Stage StageAt(size_t i) {
    static const Stage kStages[] = {
        common::v1::STAGE_PRESCHOOL, common::v1::STAGE_PRIMARY, common::v1::STAGE_JUNIOR_SECONDARY,
        common::v1::STAGE_SENIOR_SECONDARY, common::v1::STAGE_NINE_YEAR};
    return kStages[i];
  }

  std::string Ordinal(absl::string_view kind) {
    const int n = ++ordinal_[std::string(kind)];
    return n <= 10 ? kOrdinals[n - 1] : absl::StrCat(n);
  }

  std::string UrbanName(Stage stage, const std::string& street) {
    const std::string& county = options_.county_name;
    switch (stage) {
      case common::v1::STAGE_SENIOR_SECONDARY:
        return absl::StrCat(county, "第", Ordinal("high"), "中学");
      case common::v1::STAGE_JUNIOR_SECONDARY:
        return FirstFree(
            {absl::StrCat(county, "实验中学"), absl::StrCat(county, street, "初级中学")},
            [&] { return absl::StrCat(county, "第", Ordinal("junior"), "初级中学"); });
      case common::v1::STAGE_NINE_YEAR:
        return absl::StrCat(county, street, "九年一贯制学校");
      case common::v1::STAGE_PRESCHOOL:
        return FirstFree({absl::StrCat(county, "实验幼儿园")}, [&] {
          return absl::StrCat(county, "第", Ordinal("kindergarten"), "幼儿园");
        });
      default:
        return FirstFree({absl::StrCat(county, "实验小学"), absl::StrCat(county, street, "小学")},
                         [&] { return absl::StrCat(county, "第", Ordinal("primary"), "小学"); });
    }
  }

  // The first of `candidates` no school has yet, else what `fallback` makes.
  template <typename Fallback>
  std::string FirstFree(std::initializer_list<std::string> candidates, Fallback fallback) {
    for (const std::string& name : candidates) {
      if (!names_.contains(name)) return name;
    }
    return fallback();
  }

  std::string TownName(Stage stage, v1::SchoolKind kind, const std::string& place,
                       absl::string_view unit) {
    const std::string prefix = absl::StrCat(options_.county_name, place, unit);
    switch (stage) {
      case common::v1::STAGE_SENIOR_SECONDARY:
        return absl::StrCat(county_short_, place, "高级中学");
      case common::v1::STAGE_JUNIOR_SECONDARY:
        return absl::StrCat(options_.county_name, place, "初级中学");
      case common::v1::STAGE_NINE_YEAR:
        return absl::StrCat(prefix, "九年一贯制学校");
      case common::v1::STAGE_PRESCHOOL:
        return absl::StrCat(prefix, "中心幼儿园");
      default:
        break;
    }
    switch (kind) {
      case v1::SCHOOL_KIND_CENTRAL_SCHOOL:
        return absl::StrCat(prefix, "中心小学");
      case v1::SCHOOL_KIND_TEACHING_POINT:
        return absl::StrCat(prefix, Village(), "教学点");
      default:
        return absl::StrCat(prefix, Village(), "小学");
    }
  }

  std::string Village() { return rng_.Pick(VillageFirst()) + rng_.Pick(VillageSecond()); }

  std::string PrivateName(const std::string& name) {
    // 民办 schools carry a founder's name rather than the place's: 武义县育才幼儿园.
    static const std::vector<std::string> kSchoolBrands = {"育才", "启明", "博雅", "英才", "明德"};
    static const std::vector<std::string> kKindergartenBrands = {"春蕾", "蓝天", "阳光", "金色童年",
                                                                 "小太阳"};
    std::string suffix = "学校";
    for (absl::string_view s : {"幼儿园", "小学", "初级中学", "中学", "九年一贯制学校"}) {
      if (absl::EndsWith(name, s)) {
        suffix = std::string(s);
        break;
      }
    }
    const auto& brands = suffix == "幼儿园" ? kKindergartenBrands : kSchoolBrands;
    return absl::StrCat(options_.county_name, rng_.Pick(brands), suffix);
  }

  // Names are unique in a county; a second school of the same name gets a branch number.
  std::string Unique(std::string name) {
    if (names_.insert(name).second) return name;
    for (int branch = 2;; ++branch) {
      std::string candidate = absl::StrCat(name, "（", branch, "校区）");
      if (names_.insert(candidate).second) return candidate;
    }
  }

  const DemoCountyOptions& options_;
  Rng& rng_;
  std::string county_short_;
  int serial_ = 0;
  absl::flat_hash_set<std::string> central_;
  absl::flat_hash_set<std::string> names_;
  absl::flat_hash_map<std::string, int> ordinal_;
};

// Splits `total` into parts proportional to `weights`, each at least 1 (largest remainder).
std::vector<int> Apportion(int total, const std::vector<int>& weights) {
  const size_t n = weights.size();
  std::vector<int> parts(n, 1);
  int64_t rest = total - static_cast<int64_t>(n);
  int64_t sum = 0;
  for (int w : weights) sum += w;
  std::vector<std::pair<int64_t, size_t>> remainders;
  int64_t given = 0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t exact = rest * weights[i];
    parts[i] += static_cast<int>(exact / sum);
    given += exact / sum;
    remainders.emplace_back(exact % sum, i);
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (int64_t k = 0; k < rest - given; ++k) ++parts[remainders[static_cast<size_t>(k)].second];
  return parts;
}

// ---------------------------------------------------------------------------------------------
// Teachers.

// A uniformly random day in [first, last].
absl::CivilDay DayBetween(absl::CivilDay first, absl::CivilDay last, Rng& rng) {
  if (last <= first) return first;
  return first + rng.Between(0, last - first);
}

// Whole years from `since` to `day` (DOMAIN §6: shift(since, n) <= day).
int WholeYears(absl::CivilDay since, absl::CivilDay day) {
  int years = 0;
  while (dates::ShiftYears(since, years + 1) <= day) ++years;
  return years;
}

ProfessionalTitle PickTitle(int service_years, Rng& rng) {
  using namespace common::v1;  // NOLINT: enum values
  if (service_years < 1) return PROFESSIONAL_TITLE_UNSPECIFIED;
  // Each bracket starts a year after the title's earliest service year (TitleDate), so the
  // conferral date has room before today.
  if (service_years < 6) {
    static const std::vector<int> w = {15, 5, 80};
    static const ProfessionalTitle t[] = {PROFESSIONAL_TITLE_UNSPECIFIED,
                                          PROFESSIONAL_TITLE_THIRD_GRADE,
                                          PROFESSIONAL_TITLE_SECOND_GRADE};
    return t[rng.Weighted(w)];
  }
  if (service_years < 13) {
    static const std::vector<int> w = {3, 42, 55};
    static const ProfessionalTitle t[] = {PROFESSIONAL_TITLE_THIRD_GRADE,
                                          PROFESSIONAL_TITLE_SECOND_GRADE,
                                          PROFESSIONAL_TITLE_FIRST_GRADE};
    return t[rng.Weighted(w)];
  }
  if (service_years < 21) {
    static const std::vector<int> w = {10, 70, 20};
    static const ProfessionalTitle t[] = {
        PROFESSIONAL_TITLE_SECOND_GRADE, PROFESSIONAL_TITLE_FIRST_GRADE, PROFESSIONAL_TITLE_SENIOR};
    return t[rng.Weighted(w)];
  }
  static const std::vector<int> w = {3, 60, 36, 1};
  static const ProfessionalTitle t[] = {PROFESSIONAL_TITLE_SECOND_GRADE,
                                        PROFESSIONAL_TITLE_FIRST_GRADE, PROFESSIONAL_TITLE_SENIOR,
                                        PROFESSIONAL_TITLE_FULL_SENIOR};
  return t[rng.Weighted(w)];
}

// When a title was conferred: the earliest and latest service years it plausibly comes at.
absl::CivilDay TitleDate(ProfessionalTitle title, absl::CivilDay hire, absl::CivilDay today,
                         Rng& rng) {
  int min_years = 1, max_years = 4;
  switch (title) {
    case common::v1::PROFESSIONAL_TITLE_FIRST_GRADE:
      min_years = 5, max_years = 12;
      break;
    case common::v1::PROFESSIONAL_TITLE_SENIOR:
      min_years = 12, max_years = 25;
      break;
    case common::v1::PROFESSIONAL_TITLE_FULL_SENIOR:
      min_years = 20, max_years = 35;
      break;
    default:
      break;
  }
  const absl::CivilDay earliest = dates::ShiftYears(hire, min_years);
  const absl::CivilDay latest = std::min(today, dates::ShiftYears(hire, max_years));
  // Titles are conferred once a year, on 1 December here, when one falls in the range.
  const int first_year =
      absl::CivilDay(earliest.year(), 12, 1) >= earliest ? earliest.year() : earliest.year() + 1;
  const int last_year =
      absl::CivilDay(latest.year(), 12, 1) <= latest ? latest.year() : latest.year() - 1;
  if (first_year > last_year) return DayBetween(earliest, latest, rng);
  return absl::CivilDay(rng.Between(first_year, last_year), 12, 1);
}

class TeacherMaker {
 public:
  TeacherMaker(const DemoCountyOptions& options, Rng& rng) : options_(options), rng_(rng) {
    for (const auto& [name, weight] : Surnames()) surname_weights_.push_back(weight);
  }

  DemoTeacher Make(const DemoSchool& school) {
    using namespace common::v1;  // NOLINT: enum values
    const absl::CivilDay today = options_.today;
    DemoTeacher t;
    const double female_share = school.stage == STAGE_PRESCHOOL          ? 0.97
                                : school.stage == STAGE_PRIMARY          ? 0.72
                                : school.stage == STAGE_NINE_YEAR        ? 0.63
                                : school.stage == STAGE_JUNIOR_SECONDARY ? 0.58
                                                                         : 0.48;
    t.sex = rng_.Chance(female_share) ? SEX_FEMALE : SEX_MALE;
    t.name = Name(t.sex);

    // Ages 22..59 (women to 54: they retire at 55 and later, DOMAIN §1).
    const int age = static_cast<int>(rng_.Between(22, t.sex == SEX_FEMALE ? 54 : 59));
    const absl::CivilDay born_after = dates::ShiftYears(today, -(age + 1));
    t.birth_date = DayBetween(born_after + 1, dates::ShiftYears(today, -age), rng_);

    // Hired on 1 August or 1 September at 21..25 (most straight from a 4-year degree at 22).
    static const std::vector<int> kHireAgeWeights = {15, 40, 25, 12, 8};
    const int hire_age = 21 + static_cast<int>(rng_.Weighted(kHireAgeWeights));
    const int month = rng_.Chance(0.5) ? 8 : 9;
    const absl::CivilDay adult = dates::ShiftYears(t.birth_date, 21);
    absl::CivilDay first(adult.year(), month, 1);
    if (first < adult) first = absl::CivilDay(adult.year() + 1, month, 1);
    t.hire_date = std::max(first, absl::CivilDay(t.birth_date.year() + hire_age, month, 1));
    while (t.hire_date > today) t.hire_date = absl::CivilDay(t.hire_date.year() - 1, month, 1);
    if (t.hire_date < first) t.hire_date = first;
    const int service_years = WholeYears(t.hire_date, today);

    // About half never moved school; the others joined theirs on a 1 September since.
    t.school_code = school.code;
    t.school_joined_on = t.hire_date;
    if (!rng_.Chance(0.5) && today.year() > t.hire_date.year()) {
      absl::CivilDay joined(rng_.Between(t.hire_date.year() + 1, today.year()), 9, 1);
      if (joined > today) joined = absl::CivilDay(joined.year() - 1, 9, 1);
      t.school_joined_on = std::max(joined, t.hire_date);
    }

    t.stage = school.stage;
    t.subjects.push_back(PickSubject(school.stage, rng_));
    // Small village schools need teachers who take a class in more than one subject (包班).
    const bool small = school.kind == v1::SCHOOL_KIND_VILLAGE_SCHOOL ||
                       school.kind == v1::SCHOOL_KIND_TEACHING_POINT;
    if (school.stage != STAGE_PRESCHOOL && rng_.Chance(small ? 0.5 : 0.08)) {
      std::string second = PickSubject(school.stage, rng_);
      if (second != t.subjects.front()) t.subjects.push_back(std::move(second));
    }

    t.staffed = school.ownership == v1::SCHOOL_OWNERSHIP_PUBLIC && rng_.Chance(0.92);
    t.post_status = v1::POST_STATUS_ON_DUTY;
    if (t.sex == SEX_FEMALE && age >= 24 && age <= 40 && rng_.Chance(0.06)) {
      t.post_status = v1::POST_STATUS_MATERNITY_LEAVE;
    } else if (rng_.Chance(0.02)) {
      t.post_status = v1::POST_STATUS_SECONDED;
    } else if (rng_.Chance(0.01)) {
      t.post_status = v1::POST_STATUS_SICK_LEAVE;
    }

    t.education = Education(school.stage, t.hire_date);
    t.title = PickTitle(service_years, rng_);
    if (t.title != PROFESSIONAL_TITLE_UNSPECIFIED) {
      t.title_conferred_on = TitleDate(t.title, t.hire_date, today, rng_);
    }
    t.id_card_number = IdCard(t.birth_date, t.sex);
    ++serial_;
    t.national_teacher_id =
        absl::StrFormat("%s%04d%06d", options_.county_id, t.hire_date.year(), serial_);
    t.phone = absl::StrFormat("199%08d", serial_ - 1);
    return t;
  }

 private:
  std::string Name(Sex sex) {
    std::string name = Surnames()[rng_.Weighted(surname_weights_)].first;
    const auto& chars = sex == common::v1::SEX_FEMALE ? FemaleGivenChars() : MaleGivenChars();
    name += rng_.Pick(chars);
    if (rng_.Chance(0.7)) name += rng_.Pick(chars);
    return name;
  }

  v1::Education Education(Stage stage, absl::CivilDay hire) {
    using namespace v1;  // NOLINT: enum values
    static const v1::Education kLevels[] = {EDUCATION_SECONDARY, EDUCATION_ASSOCIATE,
                                            EDUCATION_BACHELOR, EDUCATION_MASTER};
    std::vector<int> weights;
    if (hire.year() < 2000) {
      weights = {25, 45, 30, 0};
    } else if (stage == common::v1::STAGE_PRESCHOOL) {
      weights = {5, 50, 45, 0};
    } else if (stage == common::v1::STAGE_SENIOR_SECONDARY) {
      weights = {0, 0, 75, 25};
    } else {
      weights = {0, 15, 77, 8};
    }
    return kLevels[rng_.Weighted(weights)];
  }

  // 6-digit area code, birth date, 3-digit sequence (odd for men, even for women), check
  // character; unique in the county.
  std::string IdCard(absl::CivilDay birth, Sex sex) {
    const int parity = sex == common::v1::SEX_MALE ? 1 : 0;
    const int start = static_cast<int>(rng_.Between(0, 499));
    for (absl::CivilDay day = birth;; ++day) {
      for (int k = 0; k < 500; ++k) {
        const int sequence = ((start + k) % 500) * 2 + parity;
        std::string first17 = absl::StrFormat("%s%04d%02d%02d%03d", options_.county_id, day.year(),
                                              day.month(), day.day(), sequence);
        if (issued_.insert(first17).second) return first17 + IdCardCheckCharacter(first17);
      }
      // 500 people of one sex born on one day: unreachable at county sizes, but stay unique.
    }
  }

  const DemoCountyOptions& options_;
  Rng& rng_;
  std::vector<int> surname_weights_;
  absl::flat_hash_set<std::string> issued_;
  int serial_ = 0;
};

// Backbone tiers by quota: province first among 高级 and up (falling back to anyone eligible),
// then city, then county among the rest. Eligible: 5+ years of service and 一级 or higher.
void DesignateBackbone(const DemoCountyOptions& options, std::vector<DemoTeacher>* teachers,
                       Rng& rng) {
  using namespace common::v1;  // NOLINT: enum values
  const absl::CivilDay today = options.today;
  std::vector<size_t> senior, others;
  for (size_t i = 0; i < teachers->size(); ++i) {
    const DemoTeacher& t = (*teachers)[i];
    if (WholeYears(t.hire_date, today) < 5 || t.title < PROFESSIONAL_TITLE_FIRST_GRADE) continue;
    (t.title >= PROFESSIONAL_TITLE_SENIOR ? senior : others).push_back(i);
  }
  rng.Shuffle(&senior);
  rng.Shuffle(&others);
  // Province picks from the senior pool first; what is left of it joins the others for the rest.
  std::vector<size_t> pool = senior;
  pool.insert(pool.end(), others.begin(), others.end());
  const auto count = [&](double share) {
    return static_cast<size_t>(RoundHalfUp(share * static_cast<double>(teachers->size())));
  };
  const std::pair<BackboneTier, size_t> quotas[] = {
      {BACKBONE_TIER_PROVINCE, count(options.province_backbone_share)},
      {BACKBONE_TIER_CITY, count(options.city_backbone_share)},
      {BACKBONE_TIER_COUNTY, count(options.county_backbone_share)},
  };
  size_t next = 0;
  for (const auto& [tier, quota] : quotas) {
    if (tier == BACKBONE_TIER_CITY) {
      // Below province level, seniority matters less: mix what is left.
      std::vector<size_t> rest(pool.begin() + static_cast<std::ptrdiff_t>(next), pool.end());
      rng.Shuffle(&rest);
      std::copy(rest.begin(), rest.end(), pool.begin() + static_cast<std::ptrdiff_t>(next));
    }
    for (size_t k = 0; k < quota && next < pool.size(); ++k, ++next) {
      DemoTeacher& t = (*teachers)[pool[next]];
      t.backbone_tier = tier;
      // Designations are reviewed every 5 years: the current one is from the last five.
      const absl::CivilDay earliest =
          std::max(dates::ShiftYears(t.hire_date, 5), dates::ShiftYears(today, -5) + 1);
      t.backbone_designated_on = DayBetween(earliest, today, rng);
    }
  }
}

absl::Status CheckCode(absl::string_view name, absl::string_view code) {
  if (code.size() != 6 || !std::all_of(code.begin(), code.end(), [](char c) {
        return absl::ascii_isdigit(static_cast<unsigned char>(c));
      })) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": '", code, "' is not a GB/T 2260 code; want 6 digits"));
  }
  return absl::OkStatus();
}

absl::Status CheckShare(absl::string_view name, double share) {
  if (!(share >= 0.0 && share <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": ", share, " is not a share; want 0..1"));
  }
  return absl::OkStatus();
}

void EnsureLabels() {
  static const bool registered = [] {
    absl::Status status = roster::RegisterRosterEnumLabels();
    if (!status.ok()) {
      std::fprintf(stderr, "demo county: roster labels: %s\n", status.ToString().c_str());
    }
    return status.ok();
  }();
  (void)registered;
}

std::string YesNo(bool yes) { return yes ? roster::kYes : roster::kNo; }

std::string OptionalDate(const std::optional<absl::CivilDay>& day) {
  return day.has_value() ? dates::FormatDate(*day) : "";
}

}  // namespace

absl::StatusOr<DemoCounty> GenerateDemoCounty(const DemoCountyOptions& options) {
  for (const auto& [name, code] :
       {std::pair<absl::string_view, absl::string_view>{"county_id", options.county_id},
        {"city_id", options.city_id},
        {"province_id", options.province_id}}) {
    if (absl::Status s = CheckCode(name, code); !s.ok()) return s;
  }
  if (options.schools < 1 || options.schools > 10000) {
    return absl::InvalidArgumentError(
        absl::StrCat("schools: ", options.schools, " is out of range; want 1..10000"));
  }
  if (options.teachers < options.schools || options.teachers > 1000000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "teachers: ", options.teachers, " is out of range; want at least one per school (",
        options.schools, ") and at most 1000000"));
  }
  if (options.today < absl::CivilDay(2000, 1, 1) || options.today > absl::CivilDay(2199, 1, 1)) {
    return absl::InvalidArgumentError(absl::StrCat("today: ", dates::FormatDate(options.today),
                                                   " is not set; want a day in 2000..2198"));
  }
  for (const auto& [name, share] :
       {std::pair<absl::string_view, double>{"urban_share", options.urban_share},
        {"town_share", options.town_share},
        {"county_backbone_share", options.county_backbone_share},
        {"city_backbone_share", options.city_backbone_share},
        {"province_backbone_share", options.province_backbone_share}}) {
    if (absl::Status s = CheckShare(name, share); !s.ok()) return s;
  }
  if (options.urban_share + options.town_share > 1.0) {
    return absl::InvalidArgumentError("urban_share + town_share: more than 1; want at most 1");
  }
  if (options.county_backbone_share + options.city_backbone_share +
          options.province_backbone_share >
      1.0) {
    return absl::InvalidArgumentError("backbone shares: add up to more than 1; want at most 1");
  }

  Rng rng(options.seed);
  DemoCounty county;
  county.county_id = options.county_id;
  county.county_name = options.county_name;
  county.city_id = options.city_id;
  county.city_name = options.city_name;
  county.province_id = options.province_id;
  county.province_name = options.province_name;

  // Locations by quota, then shuffled so codes do not sort by location.
  const int urban = static_cast<int>(RoundHalfUp(options.urban_share * options.schools));
  const int town = std::min(options.schools - urban,
                            static_cast<int>(RoundHalfUp(options.town_share * options.schools)));
  std::vector<v1::SchoolLocation> locations;
  locations.insert(locations.end(), urban, v1::SCHOOL_LOCATION_URBAN);
  locations.insert(locations.end(), town, v1::SCHOOL_LOCATION_TOWN);
  locations.insert(locations.end(), options.schools - urban - town, v1::SCHOOL_LOCATION_RURAL);
  rng.Shuffle(&locations);

  SchoolMaker school_maker(options, rng);
  std::vector<int> weights;
  for (v1::SchoolLocation location : locations) {
    county.schools.push_back(school_maker.Make(location));
    const DemoSchool& s = county.schools.back();
    weights.push_back(SizeWeight(s.stage, s.location, s.kind));
  }

  const std::vector<int> sizes = Apportion(options.teachers, weights);
  TeacherMaker teacher_maker(options, rng);
  county.teachers.reserve(static_cast<size_t>(options.teachers));
  for (size_t i = 0; i < county.schools.size(); ++i) {
    for (int k = 0; k < sizes[i]; ++k) {
      county.teachers.push_back(teacher_maker.Make(county.schools[i]));
    }
  }
  DesignateBackbone(options, &county.teachers, rng);
  return county;
}

std::string SchoolsCsv(const DemoCounty& county) {
  EnsureLabels();
  std::vector<std::vector<std::string>> rows;
  rows.reserve(county.schools.size());
  for (const DemoSchool& s : county.schools) {
    // In roster::SchoolColumns() order.
    rows.push_back({s.code, s.name, csv::EnumLabel(s.stage), csv::EnumLabel(s.ownership),
                    csv::EnumLabel(s.location), csv::EnumLabel(s.quality), csv::EnumLabel(s.kind),
                    YesNo(s.compulsory_education)});
  }
  return csv::WriteCsv(roster::ExportHeader(roster::SchoolColumns()), rows);
}

std::string TeachersCsv(const DemoCounty& county, SchoolReference school_reference) {
  EnsureLabels();
  absl::flat_hash_map<std::string, std::string> school_names;
  for (const DemoSchool& s : county.schools) school_names[s.code] = s.name;
  std::vector<std::vector<std::string>> rows;
  rows.reserve(county.teachers.size());
  for (const DemoTeacher& t : county.teachers) {
    const std::string school =
        school_reference == SchoolReference::kCode ? t.school_code : school_names[t.school_code];
    // In roster::TeacherColumns() order.
    rows.push_back({t.national_teacher_id, t.name, csv::EnumLabel(t.sex),
                    dates::FormatDate(t.birth_date), t.id_card_number,
                    dates::FormatDate(t.hire_date), school, dates::FormatDate(t.school_joined_on),
                    csv::EnumLabel(t.stage), absl::StrJoin(t.subjects, roster::kSubjectSeparator),
                    YesNo(t.staffed), csv::EnumLabel(t.post_status), csv::EnumLabel(t.education),
                    csv::EnumLabel(t.title), OptionalDate(t.title_conferred_on),
                    csv::EnumLabel(t.backbone_tier), OptionalDate(t.backbone_designated_on),
                    t.phone, /*email=*/""});
  }
  return csv::WriteCsv(roster::ExportHeader(roster::TeacherColumns()), rows);
}

}  // namespace shidang::profile

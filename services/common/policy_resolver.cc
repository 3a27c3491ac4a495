#include "services/common/policy_resolver.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "services/common/dates.h"
#include "services/common/violations.h"

namespace shidang::policy {
namespace {

namespace pb = ::google::protobuf;
using ::shidang::common::v1::POLICY_LEVEL_CITY;
using ::shidang::common::v1::POLICY_LEVEL_COUNTY;
using ::shidang::common::v1::POLICY_LEVEL_NATIONAL;
using ::shidang::common::v1::POLICY_LEVEL_PROVINCE;

// ---------------------------------------------------------------------------------------------
// Regions

bool SixDigits(absl::string_view s) {
  if (s.size() != 6) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Validation. Each number or string field of the policy tree has one check, keyed by the field's
// full name, so the message names what is allowed. Enums need no entry: any set enum must be one of
// its declared values other than *_UNSPECIFIED. Bools take either value.

enum class Check {
  kHalfSteps,          // double: 0..kMaxNumber in steps of 0.5
  kPositiveHalfSteps,  // double: > 0, in steps of 0.5
  kPercent,            // int: 0..100
  kPositive,           // int: >= 1
  kNonNegative,        // int: >= 0
  kDate,               // string: YYYY-MM-DD
  kMonth,              // string: YYYY-MM
  kMonthDay,           // string: MM-DD that every year has
  kSchoolKind,         // string: one of kSchoolKinds
  kName,               // string: non-empty
  kText,               // string: anything (empty allowed)
};

constexpr double kMaxNumber = 100000;
constexpr size_t kMaxText = 200;

const std::map<std::string, Check>& Checks() {
  static const auto* const kChecks = new std::map<std::string, Check>{
      {"shidang.common.v1.RetirementPolicy.Rule.base_age_years", Check::kPositive},
      {"shidang.common.v1.RetirementPolicy.Rule.cohort_start_month", Check::kMonth},
      {"shidang.common.v1.RetirementPolicy.Rule.months_per_step", Check::kPositive},
      {"shidang.common.v1.RetirementPolicy.Rule.max_delay_months", Check::kNonNegative},
      {"shidang.common.v1.EthicsPolicy.warning_months", Check::kNonNegative},
      {"shidang.common.v1.EthicsPolicy.demerit_months", Check::kNonNegative},
      {"shidang.common.v1.EthicsPolicy.demotion_months", Check::kNonNegative},
      {"shidang.common.v1.EthicsPolicy.dismissal_months", Check::kNonNegative},
      {"shidang.common.v1.HourRule.name", Check::kName},
      {"shidang.common.v1.HourRule.activity", Check::kText},
      {"shidang.common.v1.HourRule.hours", Check::kHalfSteps},
      {"shidang.common.v1.CreditRate.hours_per_credit", Check::kPositiveHalfSteps},
      {"shidang.common.v1.CreditCap.activity", Check::kName},
      {"shidang.common.v1.CreditCap.credits", Check::kHalfSteps},
      {"shidang.common.v1.TrainingPolicy.cycle_years", Check::kPositive},
      {"shidang.common.v1.TrainingPolicy.fixed_cycle_start", Check::kDate},
      {"shidang.common.v1.TrainingPolicy.required_hours", Check::kHalfSteps},
      {"shidang.common.v1.TrainingPolicy.induction_hours", Check::kHalfSteps},
      {"shidang.common.v1.TrainingPolicy.yearly_minimum_hours", Check::kHalfSteps},
      {"shidang.common.v1.TrainingPolicy.head_teacher_hours", Check::kHalfSteps},
      {"shidang.common.v1.TrainingPolicy.grace_days", Check::kNonNegative},
      {"shidang.common.v1.TrainingPolicy.warn_days", Check::kNonNegative},
      {"shidang.common.v1.RotationDirection.from_kind", Check::kSchoolKind},
      {"shidang.common.v1.RotationDirection.to_kind", Check::kSchoolKind},
      {"shidang.common.v1.RotationPolicy.min_years_at_school", Check::kPositive},
      {"shidang.common.v1.RotationPolicy.leader_terms", Check::kPositive},
      {"shidang.common.v1.RotationPolicy.leader_term_years", Check::kPositive},
      {"shidang.common.v1.RotationPolicy.retirement_exclusion_years", Check::kNonNegative},
      {"shidang.common.v1.RotationPolicy.ratio_percent", Check::kPercent},
      {"shidang.common.v1.RotationPolicy.backbone_ratio_percent", Check::kPercent},
      {"shidang.common.v1.RotationPolicy.school_year_start", Check::kMonthDay},
      {"shidang.common.v1.RotationPolicy.min_duration_years", Check::kNonNegative},
      {"shidang.common.v1.MentorshipPolicy.new_teacher_years", Check::kPositive},
      {"shidang.common.v1.MentorshipPolicy.mentor_min_teaching_years", Check::kNonNegative},
      {"shidang.common.v1.MentorshipPolicy.max_mentees", Check::kPositive},
      {"shidang.common.v1.MentorshipPolicy.min_lessons_observed_per_term", Check::kNonNegative},
      {"shidang.common.v1.MentorshipPolicy.min_lessons_coached_per_term", Check::kNonNegative},
      {"shidang.common.v1.MentorshipPolicy.min_public_lessons_per_term", Check::kNonNegative},
      {"shidang.common.v1.MentorshipPolicy.min_guidance_sessions_per_term", Check::kNonNegative},
      {"shidang.common.v1.MentorshipPolicy.evaluations_per_term", Check::kNonNegative},
      {"shidang.common.v1.MentorshipTerm.start", Check::kMonthDay},
  };
  return *kChecks;
}

absl::Status Bad(absl::string_view path, absl::string_view shown, absl::string_view want) {
  return InvalidField(path, "policy_value", absl::StrCat(shown, " is not allowed; want ", want));
}

std::string Quoted(absl::string_view s) {
  if (s.size() > 40) return absl::StrCat("'", s.substr(0, 40), "...'");
  return absl::StrCat("'", s, "'");
}

absl::Status CheckDouble(absl::string_view path, double value, Check check) {
  const std::string shown = absl::StrCat(value);
  const bool half_steps = std::isfinite(value) && value >= 0 && value <= kMaxNumber &&
                          std::floor(value * 2) == value * 2;
  switch (check) {
    case Check::kHalfSteps:
      if (!half_steps) {
        return Bad(path, shown,
                   absl::StrCat("a number from 0 to ", kMaxNumber, " in steps of 0.5"));
      }
      return absl::OkStatus();
    case Check::kPositiveHalfSteps:
      if (!half_steps || value == 0) {
        return Bad(path, shown,
                   absl::StrCat("a number above 0, at most ", kMaxNumber, ", in steps of 0.5"));
      }
      return absl::OkStatus();
    default:
      return absl::InternalError(absl::StrCat(path, ": no number check for a double"));
  }
}

absl::Status CheckInteger(absl::string_view path, int64_t value, Check check) {
  const std::string shown = absl::StrCat(value);
  switch (check) {
    case Check::kPercent:
      if (value < 0 || value > 100) return Bad(path, shown, "a percentage from 0 to 100");
      return absl::OkStatus();
    case Check::kPositive:
      if (value < 1) return Bad(path, shown, "a whole number of at least 1");
      return absl::OkStatus();
    case Check::kNonNegative:
      if (value < 0) return Bad(path, shown, "a whole number of at least 0");
      return absl::OkStatus();
    default:
      return absl::InternalError(absl::StrCat(path, ": no check for an integer"));
  }
}

absl::Status CheckMonthDay(absl::string_view path, absl::string_view text) {
  int month = 0, day = 0;
  const bool shaped = text.size() == 5 && text[2] == '-' &&
                      absl::ascii_isdigit(static_cast<unsigned char>(text[0])) &&
                      absl::ascii_isdigit(static_cast<unsigned char>(text[1])) &&
                      absl::ascii_isdigit(static_cast<unsigned char>(text[3])) &&
                      absl::ascii_isdigit(static_cast<unsigned char>(text[4])) &&
                      absl::SimpleAtoi(text.substr(0, 2), &month) &&
                      absl::SimpleAtoi(text.substr(3, 2), &day);
  // 2001 is not a leap year, so 02-29 (a day most years lack) is refused.
  if (!shaped || month < 1 || month > 12 || day < 1 ||
      absl::CivilDay(2001, month, day).month() != month) {
    return Bad(path, Quoted(text), "MM-DD, a day every year has (e.g. 09-01)");
  }
  return absl::OkStatus();
}

absl::Status CheckString(absl::string_view path, absl::string_view text, Check check) {
  if (text.size() > kMaxText) {
    return Bad(path, Quoted(text), absl::StrCat("at most ", kMaxText, " bytes"));
  }
  switch (check) {
    case Check::kDate:
      if (!dates::ParseDate(text, path).ok()) {
        return Bad(path, Quoted(text), "a real date YYYY-MM-DD between 1900 and 2199");
      }
      return absl::OkStatus();
    case Check::kMonth:
      if (!dates::ParseMonth(text, path).ok()) {
        return Bad(path, Quoted(text), "a month YYYY-MM between 1900 and 2199");
      }
      return absl::OkStatus();
    case Check::kMonthDay:
      return CheckMonthDay(path, text);
    case Check::kSchoolKind: {
      for (absl::string_view kind : kSchoolKinds) {
        if (text == kind) return absl::OkStatus();
      }
      std::string allowed;
      for (absl::string_view kind : kSchoolKinds) {
        absl::StrAppend(&allowed, allowed.empty() ? "" : ", ", kind);
      }
      return Bad(path, Quoted(text), absl::StrCat("one of ", allowed));
    }
    case Check::kName:
      if (text.empty()) return Bad(path, "''", "a non-empty name");
      return absl::OkStatus();
    case Check::kText:
      return absl::OkStatus();
    default:
      return absl::InternalError(absl::StrCat(path, ": no check for a string"));
  }
}

// Enum fields whose UNSPECIFIED value has a meaning, and the meaning, for the message.
const std::map<std::string, std::string>& UnspecifiedMeanings() {
  static const auto* const kMeanings = new std::map<std::string, std::string>{
      // training's rules (services/training/rules.h): the rate of every mode without its own.
      {"shidang.common.v1.CreditRate.mode", "every mode without a rate of its own"},
  };
  return *kMeanings;
}

absl::Status CheckEnum(absl::string_view path, const pb::FieldDescriptor* field, int number) {
  const pb::EnumDescriptor* type = field->enum_type();
  const pb::EnumValueDescriptor* value = type->FindValueByNumber(number);
  auto meaning = UnspecifiedMeanings().find(field->full_name());
  const bool unspecified_allowed = meaning != UnspecifiedMeanings().end();
  if (value != nullptr && (number != 0 || unspecified_allowed)) return absl::OkStatus();
  std::string allowed;
  for (int i = 0; i < type->value_count(); ++i) {
    if (type->value(i)->number() == 0) continue;
    absl::StrAppend(&allowed, allowed.empty() ? "" : ", ", type->value(i)->name());
  }
  if (unspecified_allowed) {
    absl::StrAppend(&allowed, ", or ", type->FindValueByNumber(0)->name(), " for ",
                    meaning->second);
  }
  return Bad(path, value == nullptr ? absl::StrCat(number) : value->name(),
             absl::StrCat("one of ", allowed));
}

// Lists whose items must differ in one field: one credit rate per mode, one cap per activity.
const std::map<std::string, std::string>& UniqueKeys() {
  static const auto* const kKeys = new std::map<std::string, std::string>{
      {"shidang.common.v1.CreditRateList.rates", "mode"},
      {"shidang.common.v1.CreditCapList.caps", "activity"},
      {"shidang.common.v1.MentorshipTermList.terms", "start"},
  };
  return *kKeys;
}

// The key of one item of a list in UniqueKeys, as text.
std::string ItemKey(const pb::Message& item, const pb::FieldDescriptor* key) {
  const pb::Reflection* r = item.GetReflection();
  if (key->cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM) return r->GetEnum(item, key)->name();
  return r->GetString(item, key);
}

absl::Status CheckUnique(const pb::Message& message, const pb::FieldDescriptor* list,
                         const std::string& path) {
  auto it = UniqueKeys().find(list->full_name());
  if (it == UniqueKeys().end()) return absl::OkStatus();
  const pb::Reflection* r = message.GetReflection();
  std::map<std::string, int> first;
  for (int j = 0; j < r->FieldSize(message, list); ++j) {
    const pb::Message& item = r->GetRepeatedMessage(message, list, j);
    const pb::FieldDescriptor* key = item.GetDescriptor()->FindFieldByName(it->second);
    auto [at, inserted] = first.emplace(ItemKey(item, key), j);
    if (!inserted) {
      return Bad(
          absl::StrCat(path, "[", j, "].", it->second), Quoted(at->first),
          absl::StrCat("one item per ", it->second, "; [", at->second, "] has this one already"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckValue(const pb::Message& message, const pb::FieldDescriptor* field, int index,
                        const std::string& path);

absl::Status CheckMessage(const pb::Message& message, const std::string& path) {
  const pb::Descriptor* type = message.GetDescriptor();
  const pb::Reflection* reflection = message.GetReflection();
  for (int i = 0; i < type->field_count(); ++i) {
    const pb::FieldDescriptor* field = type->field(i);
    const std::string field_path = absl::StrCat(path, ".", field->name());
    if (field->is_repeated()) {
      for (int j = 0; j < reflection->FieldSize(message, field); ++j) {
        absl::Status status = CheckValue(message, field, j, absl::StrCat(field_path, "[", j, "]"));
        if (!status.ok()) return status;
      }
      SHIDANG_RETURN_IF_ERROR(CheckUnique(message, field, field_path));
    } else if (!field->has_presence() || reflection->HasField(message, field)) {
      // Fields without presence (inside list items) are checked even at their zero value, so an
      // HourRule with no name or a CreditRate with no mode is refused.
      absl::Status status = CheckValue(message, field, -1, field_path);
      if (!status.ok()) return status;
    }
  }
  return absl::OkStatus();
}

// Checks one value: the singular field when `index` < 0, else element `index`.
absl::Status CheckValue(const pb::Message& message, const pb::FieldDescriptor* field, int index,
                        const std::string& path) {
  const pb::Reflection* r = message.GetReflection();
  const bool rep = index >= 0;
  auto check = [&]() -> absl::StatusOr<Check> {
    auto it = Checks().find(field->full_name());
    if (it == Checks().end()) {
      return absl::InternalError(
          absl::StrCat(path, ": no validation rule for ", field->full_name()));
    }
    return it->second;
  };
  switch (field->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      return CheckMessage(
          rep ? r->GetRepeatedMessage(message, field, index) : r->GetMessage(message, field), path);
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      return CheckEnum(
          path, field,
          rep ? r->GetRepeatedEnumValue(message, field, index) : r->GetEnumValue(message, field));
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      return absl::OkStatus();
    case pb::FieldDescriptor::CPPTYPE_DOUBLE: {
      absl::StatusOr<Check> c = check();
      if (!c.ok()) return c.status();
      return CheckDouble(
          path, rep ? r->GetRepeatedDouble(message, field, index) : r->GetDouble(message, field),
          *c);
    }
    case pb::FieldDescriptor::CPPTYPE_INT32: {
      absl::StatusOr<Check> c = check();
      if (!c.ok()) return c.status();
      return CheckInteger(
          path, rep ? r->GetRepeatedInt32(message, field, index) : r->GetInt32(message, field), *c);
    }
    case pb::FieldDescriptor::CPPTYPE_INT64: {
      absl::StatusOr<Check> c = check();
      if (!c.ok()) return c.status();
      return CheckInteger(
          path, rep ? r->GetRepeatedInt64(message, field, index) : r->GetInt64(message, field), *c);
    }
    case pb::FieldDescriptor::CPPTYPE_STRING: {
      absl::StatusOr<Check> c = check();
      if (!c.ok()) return c.status();
      std::string scratch;
      const std::string& text = rep ? r->GetRepeatedStringReference(message, field, index, &scratch)
                                    : r->GetStringReference(message, field, &scratch);
      return CheckString(path, text, *c);
    }
    default:
      // The policy tree uses no unsigned or float fields; one added must get a check here.
      return absl::InternalError(absl::StrCat(path, ": no validation for its type"));
  }
}

// ---------------------------------------------------------------------------------------------
// Resolution

// A message holding a repeated field is a wrapped list: one value, replaced whole.
bool IsListValue(const pb::Descriptor* type) {
  for (int i = 0; i < type->field_count(); ++i) {
    if (type->field(i)->is_repeated()) return true;
  }
  return false;
}

bool IsLeaf(const pb::FieldDescriptor* field) {
  return field->is_repeated() || field->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE ||
         IsListValue(field->message_type());
}

bool IsSet(const pb::Message& message, const pb::FieldDescriptor* field) {
  const pb::Reflection* r = message.GetReflection();
  return field->is_repeated() ? r->FieldSize(message, field) > 0 : r->HasField(message, field);
}

// Copies one field's whole value (every element, for a repeated field).
void CopyField(const pb::Message& from, const pb::FieldDescriptor* field, pb::Message* to) {
  const pb::Reflection* r = from.GetReflection();
  const pb::Reflection* w = to->GetReflection();
  w->ClearField(to, field);
  if (field->is_repeated()) {
    for (int i = 0; i < r->FieldSize(from, field); ++i) {
      switch (field->cpp_type()) {
        case pb::FieldDescriptor::CPPTYPE_INT32:
          w->AddInt32(to, field, r->GetRepeatedInt32(from, field, i));
          break;
        case pb::FieldDescriptor::CPPTYPE_INT64:
          w->AddInt64(to, field, r->GetRepeatedInt64(from, field, i));
          break;
        case pb::FieldDescriptor::CPPTYPE_UINT32:
          w->AddUInt32(to, field, r->GetRepeatedUInt32(from, field, i));
          break;
        case pb::FieldDescriptor::CPPTYPE_UINT64:
          w->AddUInt64(to, field, r->GetRepeatedUInt64(from, field, i));
          break;
        case pb::FieldDescriptor::CPPTYPE_DOUBLE:
          w->AddDouble(to, field, r->GetRepeatedDouble(from, field, i));
          break;
        case pb::FieldDescriptor::CPPTYPE_FLOAT:
          w->AddFloat(to, field, r->GetRepeatedFloat(from, field, i));
          break;
        case pb::FieldDescriptor::CPPTYPE_BOOL:
          w->AddBool(to, field, r->GetRepeatedBool(from, field, i));
          break;
        case pb::FieldDescriptor::CPPTYPE_ENUM:
          w->AddEnumValue(to, field, r->GetRepeatedEnumValue(from, field, i));
          break;
        case pb::FieldDescriptor::CPPTYPE_STRING:
          w->AddString(to, field, r->GetRepeatedString(from, field, i));
          break;
        case pb::FieldDescriptor::CPPTYPE_MESSAGE:
          w->AddMessage(to, field)->CopyFrom(r->GetRepeatedMessage(from, field, i));
          break;
      }
    }
    return;
  }
  switch (field->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_INT32:
      w->SetInt32(to, field, r->GetInt32(from, field));
      break;
    case pb::FieldDescriptor::CPPTYPE_INT64:
      w->SetInt64(to, field, r->GetInt64(from, field));
      break;
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      w->SetUInt32(to, field, r->GetUInt32(from, field));
      break;
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      w->SetUInt64(to, field, r->GetUInt64(from, field));
      break;
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      w->SetDouble(to, field, r->GetDouble(from, field));
      break;
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
      w->SetFloat(to, field, r->GetFloat(from, field));
      break;
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      w->SetBool(to, field, r->GetBool(from, field));
      break;
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      w->SetEnumValue(to, field, r->GetEnumValue(from, field));
      break;
    case pb::FieldDescriptor::CPPTYPE_STRING:
      w->SetString(to, field, r->GetString(from, field));
      break;
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      w->MutableMessage(to, field)->CopyFrom(r->GetMessage(from, field));
      break;
  }
}

// One version's contribution (or the built-in defaults'): its (sub)message at the current depth.
struct Layer {
  const pb::Message* message;
  PolicyLevel level;
  const std::string* region;
  const std::string* effective_from;
  bool built_in;
};

void ResolveInto(const std::vector<Layer>& layers, const std::string& prefix, pb::Message* out,
                 ResolvedPolicy* resolved) {
  const pb::Descriptor* type = out->GetDescriptor();
  for (int i = 0; i < type->field_count(); ++i) {
    const pb::FieldDescriptor* field = type->field(i);
    const std::string path =
        prefix.empty() ? field->name() : absl::StrCat(prefix, ".", field->name());
    if (!IsLeaf(field)) {
      // A nested message: its fields resolve one by one, each from its own most local level.
      std::vector<Layer> inner;
      for (const Layer& layer : layers) {
        if (!IsSet(*layer.message, field)) continue;
        inner.push_back(Layer{&layer.message->GetReflection()->GetMessage(*layer.message, field),
                              layer.level, layer.region, layer.effective_from, layer.built_in});
      }
      if (inner.empty()) continue;
      ResolveInto(inner, path, out->GetReflection()->MutableMessage(out, field), resolved);
      continue;
    }
    for (const Layer& layer : layers) {
      if (!IsSet(*layer.message, field)) continue;
      CopyField(*layer.message, field, out);
      PolicySource* source = resolved->add_sources();
      source->set_field(path);
      source->set_level(layer.level);
      source->set_region(*layer.region);
      source->set_effective_from(*layer.effective_from);
      source->set_built_in(layer.built_in);
      break;
    }
  }
}

bool SetsAnyLeaf(const pb::Message& message) {
  const pb::Descriptor* type = message.GetDescriptor();
  for (int i = 0; i < type->field_count(); ++i) {
    const pb::FieldDescriptor* field = type->field(i);
    if (!IsSet(message, field)) continue;
    if (IsLeaf(field)) return true;
    if (SetsAnyLeaf(message.GetReflection()->GetMessage(message, field))) return true;
  }
  return false;
}

// Where a version stands in a county's chain: 0 county, 1 city, 2 province, 3 national; -1 when
// it belongs to another region.
int RankIn(const RegionChain& chain, const PolicyVersion& v) {
  switch (v.level()) {
    case POLICY_LEVEL_COUNTY:
      return v.region() == chain.county ? 0 : -1;
    case POLICY_LEVEL_CITY:
      return !chain.city.empty() && v.region() == chain.city ? 1 : -1;
    case POLICY_LEVEL_PROVINCE:
      return v.region() == chain.province ? 2 : -1;
    case POLICY_LEVEL_NATIONAL:
      return 3;
    default:
      return -1;
  }
}

void CollectLeafPaths(const pb::Descriptor* type, const std::string& prefix,
                      std::vector<std::string>* out) {
  for (int i = 0; i < type->field_count(); ++i) {
    const pb::FieldDescriptor* field = type->field(i);
    const std::string path =
        prefix.empty() ? field->name() : absl::StrCat(prefix, ".", field->name());
    if (IsLeaf(field)) {
      out->push_back(path);
    } else {
      CollectLeafPaths(field->message_type(), path, out);
    }
  }
}

}  // namespace

absl::StatusOr<RegionChain> ChainOf(absl::string_view county_id, absl::string_view field) {
  absl::Status status = ValidateRegion(POLICY_LEVEL_COUNTY, county_id, field);
  if (!status.ok()) return status;
  RegionChain chain;
  chain.county = std::string(county_id);
  if (county_id.substr(2, 2) != "00") chain.city = absl::StrCat(county_id.substr(0, 4), "00");
  chain.province = absl::StrCat(county_id.substr(0, 2), "0000");
  return chain;
}

absl::Status ValidateRegion(PolicyLevel level, absl::string_view region, absl::string_view field) {
  if (level == POLICY_LEVEL_NATIONAL) {
    if (!region.empty()) return Bad(field, Quoted(region), "'' for a NATIONAL version");
    return absl::OkStatus();
  }
  const bool digits = SixDigits(region) && region.substr(0, 2) != "00";
  const bool ends_00 = digits && region.substr(4) == "00";
  const bool ends_0000 = digits && region.substr(2) == "0000";
  switch (level) {
    case POLICY_LEVEL_PROVINCE:
      if (!ends_0000) {
        return Bad(field, Quoted(region), "a 6-digit GB/T 2260 province code ending 0000 (440000)");
      }
      return absl::OkStatus();
    case POLICY_LEVEL_CITY:
      if (!ends_00 || ends_0000) {
        return Bad(field, Quoted(region),
                   "a 6-digit GB/T 2260 city code ending 00 but not 0000 (440300)");
      }
      return absl::OkStatus();
    case POLICY_LEVEL_COUNTY:
      if (!digits || ends_00) {
        return Bad(field, Quoted(region), "a 6-digit GB/T 2260 county code not ending 00 (440305)");
      }
      return absl::OkStatus();
    default:
      return Bad("level", absl::StrCat(static_cast<int>(level)),
                 "one of POLICY_LEVEL_NATIONAL, POLICY_LEVEL_PROVINCE, POLICY_LEVEL_CITY, "
                 "POLICY_LEVEL_COUNTY");
  }
}

absl::Status ValidateVersion(const PolicyVersion& version) {
  absl::Status status = ValidateRegion(version.level(), version.region(), "region");
  if (!status.ok()) return status;
  if (!dates::ParseDate(version.effective_from(), "effective_from").ok()) {
    return Bad("effective_from", Quoted(version.effective_from()),
               "a real date YYYY-MM-DD between 1900 and 2199");
  }
  // request_id is checked by AttachIdempotency (mutation.h) when the version is stored.
  if (version.actor().size() > kMaxText) return Bad("actor", "its length", "at most 200 bytes");
  if (!SetsAnyLeaf(version.policy())) {
    return absl::InvalidArgumentError(
        "policy: sets no field; a version must set at least one policy value");
  }
  return CheckMessage(version.policy(), "policy");
}

std::vector<std::string> LeafFieldPaths() {
  std::vector<std::string> paths;
  CollectLeafPaths(Policy::descriptor(), "", &paths);
  return paths;
}

absl::StatusOr<ResolvedPolicy> ResolvePolicy(absl::string_view county_id,
                                             const std::vector<PolicyVersion>& versions,
                                             absl::CivilDay date) {
  SHIDANG_ASSIGN_OR_RETURN(RegionChain chain, ChainOf(county_id));

  // Every version in force that takes part, most local level first, and within a level the
  // latest first (on one date, the later in `versions` first): the first that sets a field gives
  // its value, so a level's older versions still answer for the fields its newer ones leave out.
  struct InForce {
    int rank;  // 0 county, 1 city, 2 province, 3 national
    absl::CivilDay day;
    size_t index;
  };
  std::vector<InForce> in_force;
  for (size_t i = 0; i < versions.size(); ++i) {
    const PolicyVersion& v = versions[i];
    const int rank = RankIn(chain, v);
    if (rank < 0) continue;
    SHIDANG_ASSIGN_OR_RETURN(
        absl::CivilDay day,
        dates::ParseDate(v.effective_from(), absl::StrCat("versions[", i, "].effective_from")));
    if (day <= date) in_force.push_back(InForce{rank, day, i});
  }
  std::sort(in_force.begin(), in_force.end(), [](const InForce& a, const InForce& b) {
    if (a.rank != b.rank) return a.rank < b.rank;
    if (a.day != b.day) return a.day > b.day;
    return a.index > b.index;
  });

  static const std::string* const kBuiltIn = new std::string();
  std::vector<Layer> layers;
  for (const InForce& f : in_force) {
    const PolicyVersion& v = versions[f.index];
    if (!v.has_policy()) continue;
    layers.push_back(Layer{&v.policy(), v.level(), &v.region(), &v.effective_from(), false});
  }
  layers.push_back(Layer{&NationalDefaults(), POLICY_LEVEL_NATIONAL, kBuiltIn, kBuiltIn, true});

  ResolvedPolicy resolved;
  ResolveInto(layers, "", resolved.mutable_policy(), &resolved);
  return resolved;
}

std::vector<std::string> SectionsSet(const Policy& policy) {
  std::vector<std::string> sections;
  for (const pb::FieldDescriptor* section : SectionFields()) {
    if (SetsSection(policy, section)) sections.push_back(section->name());
  }
  return sections;
}

std::vector<PolicyVersion> CountyVersions::Setting(absl::string_view section) const {
  std::vector<PolicyVersion> out;
  const pb::FieldDescriptor* field = Policy::descriptor()->FindFieldByName(std::string(section));
  if (field == nullptr) return out;
  for (const PolicyVersion& v : versions) {
    if (SetsSection(v.policy(), field)) out.push_back(v);
  }
  return out;
}

absl::StatusOr<ResolvedPolicy> CountyVersions::Resolve(absl::CivilDay date) const {
  return ResolvePolicy(chain.county, versions, date);
}

// The sections: every top-level field of Policy (each a message), in declaration order.
const std::vector<const pb::FieldDescriptor*>& SectionFields() {
  static const auto* const kSections = [] {
    auto* sections = new std::vector<const pb::FieldDescriptor*>();
    for (int i = 0; i < Policy::descriptor()->field_count(); ++i) {
      sections->push_back(Policy::descriptor()->field(i));
    }
    return sections;
  }();
  return *kSections;
}

// Whether `policy` sets a leaf of `section` (a section present but empty sets nothing).
bool SetsSection(const Policy& policy, const pb::FieldDescriptor* section) {
  return IsSet(policy, section) && SetsAnyLeaf(policy.GetReflection()->GetMessage(policy, section));
}

}  // namespace shidang::policy

#include "services/rotation/county_cache.h"

#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/rotation/facts.h"

namespace shidang::rotation {
namespace {

using county_delta::CountyRead;
using county_delta::Field;

template <typename T>
absl::StatusOr<T> Parse(absl::string_view bytes, absl::string_view what) {
  return county_delta::ParseStored<T>(bytes, what);
}

// `base` (null: empty) with `fields` applied: a field without bytes is gone.
absl::StatusOr<std::shared_ptr<const std::map<std::string, CountyTeacher>>> PatchTeachers(
    const std::map<std::string, CountyTeacher>* base, const std::vector<Field>& fields) {
  auto teachers = base == nullptr ? std::make_shared<std::map<std::string, CountyTeacher>>()
                                  : std::make_shared<std::map<std::string, CountyTeacher>>(*base);
  for (const Field& f : fields) {
    if (!f.bytes.has_value()) {
      teachers->erase(f.id);
      continue;
    }
    SHIDANG_ASSIGN_OR_RETURN(v1::TeacherCopy copy, Parse<v1::TeacherCopy>(*f.bytes, "teacher"));
    auto shared = std::make_shared<const v1::TeacherCopy>(std::move(copy));
    TeacherFacts facts = ToTeacherFacts(*shared);
    (*teachers)[f.id] = CountyTeacher{std::move(shared), std::move(facts)};
  }
  return std::shared_ptr<const std::map<std::string, CountyTeacher>>(std::move(teachers));
}

absl::StatusOr<std::shared_ptr<const std::map<std::string, SchoolFacts>>> PatchSchools(
    const std::map<std::string, SchoolFacts>* base, const std::vector<Field>& fields) {
  auto schools = base == nullptr ? std::make_shared<std::map<std::string, SchoolFacts>>()
                                 : std::make_shared<std::map<std::string, SchoolFacts>>(*base);
  for (const Field& f : fields) {
    if (!f.bytes.has_value()) {
      schools->erase(f.id);
      continue;
    }
    SHIDANG_ASSIGN_OR_RETURN(profile::v1::School s, Parse<profile::v1::School>(*f.bytes, "school"));
    (*schools)[f.id] = ToSchoolFacts(s);
  }
  return std::shared_ptr<const std::map<std::string, SchoolFacts>>(std::move(schools));
}

// Deferrals are few: the spans are derived again from all of them.
absl::StatusOr<std::shared_ptr<const CountyDeferrals>> PatchDeferrals(
    const CountyDeferrals* base, const std::vector<Field>& fields) {
  auto deferrals = std::make_shared<CountyDeferrals>();
  if (base != nullptr) deferrals->stored = base->stored;
  for (const Field& f : fields) {
    if (!f.bytes.has_value()) {
      deferrals->stored.erase(f.id);
      continue;
    }
    SHIDANG_ASSIGN_OR_RETURN(deferrals->stored[f.id], Parse<v1::Deferral>(*f.bytes, "deferral"));
  }
  for (const auto& [id, d] : deferrals->stored) {
    std::vector<DeferralSpan> spans = DeferralsOf({d}, d.teacher_id());
    auto& of_teacher = deferrals->spans[d.teacher_id()];
    of_teacher.insert(of_teacher.end(), spans.begin(), spans.end());
  }
  return std::shared_ptr<const CountyDeferrals>(std::move(deferrals));
}

// The changed rotations replace theirs in place; new ones go last, deleted ones go.
absl::StatusOr<std::shared_ptr<const CountyRotations>> PatchRotations(
    const CountyRotations* base, const std::vector<Field>& fields) {
  absl::flat_hash_map<std::string, const Field*> changed;
  for (const Field& f : fields) changed[f.id] = &f;
  auto rotations = std::make_shared<CountyRotations>();
  if (base != nullptr) {
    rotations->rotations.reserve(base->rotations.size() + fields.size());
    for (const v1::Rotation& r : base->rotations) {
      if (!changed.contains(r.rotation_id())) rotations->rotations.push_back(r);
    }
  }
  for (const Field& f : fields) {
    if (!f.bytes.has_value()) continue;
    SHIDANG_ASSIGN_OR_RETURN(v1::Rotation r, Parse<v1::Rotation>(*f.bytes, "rotation"));
    rotations->rotations.push_back(std::move(r));
  }
  return std::shared_ptr<const CountyRotations>(std::move(rotations));
}

}  // namespace

CountySnapshot::CountySnapshot(CountyParts parts_in)
    : parts(std::move(parts_in)),
      teachers(*parts.teachers),
      schools(*parts.schools),
      deferrals(parts.deferrals->spans),
      data(*parts.rotations) {}

absl::StatusOr<std::shared_ptr<const CountySnapshot>> BuildSnapshot(const CountyRead& read,
                                                                    const CountySnapshot* base) {
  CountyParts parts;
  if (base != nullptr) parts = base->parts;
  // A part no change touched is the base's, shared.
  if (base == nullptr || !read.Of(RotationStore::kTeacherKind).empty()) {
    SHIDANG_ASSIGN_OR_RETURN(parts.teachers,
                             PatchTeachers(base == nullptr ? nullptr : parts.teachers.get(),
                                           read.Of(RotationStore::kTeacherKind)));
  }
  if (base == nullptr || !read.Of(RotationStore::kSchoolKind).empty()) {
    SHIDANG_ASSIGN_OR_RETURN(parts.schools,
                             PatchSchools(base == nullptr ? nullptr : parts.schools.get(),
                                          read.Of(RotationStore::kSchoolKind)));
  }
  if (base == nullptr || !read.Of(RotationStore::kDeferralKind).empty()) {
    SHIDANG_ASSIGN_OR_RETURN(parts.deferrals,
                             PatchDeferrals(base == nullptr ? nullptr : parts.deferrals.get(),
                                            read.Of(RotationStore::kDeferralKind)));
  }
  if (base == nullptr || !read.Of(RotationStore::kRotationKind).empty()) {
    SHIDANG_ASSIGN_OR_RETURN(parts.rotations,
                             PatchRotations(base == nullptr ? nullptr : parts.rotations.get(),
                                            read.Of(RotationStore::kRotationKind)));
  }
  return std::make_shared<const CountySnapshot>(std::move(parts));
}

CountyCache::CountyCache(redis::Pool& pool, size_t max_counties)
    : cache_(pool, BuildSnapshot, max_counties) {}

absl::StatusOr<std::shared_ptr<const CountySnapshot>> CountyCache::Read(
    absl::string_view county_id) {
  return cache_.Read(std::string(county_id), RotationStore::CountyKeysOf(county_id));
}

}  // namespace shidang::rotation

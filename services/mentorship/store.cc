#include "services/mentorship/store.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "services/common/county_delta.h"
#include "services/common/events.h"
#include "services/common/keys.h"
#include "services/common/parallel.h"
#include "services/common/status.h"
#include "services/mentorship/convert.h"
#include "services/mentorship/lua_scripts.h"

namespace shidang::mentorship {
namespace {

constexpr char kPrefix[] = "mentorship:";
// Counties whose parsed copies ReadCounty keeps (the least recently read is dropped first).
constexpr size_t kCachedCounties = 16;

const Mutation& CreatePairingScript() {
  static const Mutation* script = new Mutation(lua::kCreatePairing);
  return *script;
}
const Mutation& EndPairingScript() {
  static const Mutation* script = new Mutation(lua::kEndPairing);
  return *script;
}
const Mutation& LogActivityScript() {
  static const Mutation* script = new Mutation(lua::kLogActivity);
  return *script;
}

bool IsCountyCode(absl::string_view code) {
  return code.size() == 6 && code.find_first_not_of("0123456789") == absl::string_view::npos &&
         !absl::EndsWith(code, "00");
}

template <typename T>
absl::StatusOr<T> Parse(absl::string_view bytes, absl::string_view what) {
  return county_delta::ParseStored<T>(bytes, what);
}

// Teacher copies decoded per thread (ForEachSlice): below this many, one thread does them all.
constexpr size_t kTeachersPerSlice = 2000;

absl::Status TeacherUnreadable() { return absl::DataLossError("stored teacher unreadable"); }

// What places a stored teacher copy in a county's copy (by school, then id) and whether it is left
// out (the teacher moved to another county), read off the copy's wire format without decoding it:
// a copy is decoded once it is known where it goes, straight into its place. The fields are read
// as protobuf reads them (the last occurrence counts; one of another wire type is unknown). Bytes
// protobuf would refuse may still be placed: every copy is parsed whole afterwards, which reports
// them.
struct Placement {
  absl::string_view teacher_id;
  absl::string_view school_id;
  absl::string_view transferred_to_county_id;

  // Keeps `text` when field `number` is one of the above.
  void Take(uint64_t number, absl::string_view text) {
    if (number == v1::TeacherCopy::kTeacherIdFieldNumber) teacher_id = text;
    if (number == v1::TeacherCopy::kSchoolIdFieldNumber) school_id = text;
    if (number == v1::TeacherCopy::kTransferredToCountyIdFieldNumber) {
      transferred_to_county_id = text;
    }
  }
};

// PlacementOf for copies holding groups (unknown fields of a wire type no copy is written with,
// which protobuf skips): read with protobuf's own field skipping.
absl::StatusOr<Placement> PlacementSkippingGroups(absl::string_view bytes) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  Placement p;
  for (uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
    if (WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (!WireFormatLite::SkipField(&in, tag)) return TeacherUnreadable();
      continue;
    }
    uint32_t size = 0;
    if (!in.ReadVarint32(&size)) return TeacherUnreadable();
    const size_t at = static_cast<size_t>(in.CurrentPosition());
    if (size > bytes.size() - at || !in.Skip(static_cast<int>(size))) return TeacherUnreadable();
    p.Take(WireFormatLite::GetTagFieldNumber(tag), bytes.substr(at, size));
  }
  return p;
}

// Reads the varint at bytes[at] into `value`, moving `at` past it; false when the bytes end inside
// it or it runs over ten bytes.
bool ReadVarint(absl::string_view bytes, size_t& at, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64 && at < bytes.size(); shift += 7) {
    const auto byte = static_cast<uint8_t>(bytes[at++]);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) return true;
  }
  return false;
}

// A loop over the wire format rather than protobuf's CodedInputStream: a county's 10,000 copies
// are scanned on the request path, and this costs a fraction of it.
absl::StatusOr<Placement> PlacementOf(absl::string_view bytes) {
  Placement p;
  size_t at = 0;
  while (at < bytes.size()) {
    uint64_t tag = 0;
    uint64_t value = 0;
    if (!ReadVarint(bytes, at, tag)) return TeacherUnreadable();
    switch (tag & 7) {
      case 0:  // varint
        if (!ReadVarint(bytes, at, value)) return TeacherUnreadable();
        break;
      case 1:  // 64-bit
      case 5:  // 32-bit
        value = (tag & 7) == 1 ? 8 : 4;
        if (value > bytes.size() - at) return TeacherUnreadable();
        at += value;
        break;
      case 2:  // length-delimited
        if (!ReadVarint(bytes, at, value) || value > bytes.size() - at) {
          return TeacherUnreadable();
        }
        p.Take(tag >> 3, bytes.substr(at, value));
        at += value;
        break;
      default:
        return PlacementSkippingGroups(bytes);
    }
  }
  return p;
}

// One teacher of a county's new copy: a stored copy to decode, or a teacher of the copy patched;
// with what orders it, taken while its bytes are at hand (sorting by views into 10,000 scattered
// replies would miss the cache at every comparison).
struct Source {
  absl::string_view teacher_id;
  uint64_t id_prefix;                // IdPrefix(teacher_id)
  size_t school;                     // its school's index in Sources::schools
  const county_delta::Field* field;  // null: the base copy's teachers[base_index]
  size_t base_index;
};

struct Sources {
  std::vector<Source> teachers;
  std::vector<absl::string_view> schools;  // the school ids, each once
};

// The first eight bytes of `id`, big-endian, padded with zeros: two ids whose prefixes differ
// compare as their prefixes do (bytes compare unsigned, as in std::string).
uint64_t IdPrefix(absl::string_view id) {
  uint64_t prefix = 0;
  for (size_t i = 0; i < 8; ++i) {
    prefix = (prefix << 8) | (i < id.size() ? static_cast<uint8_t>(id[i]) : 0);
  }
  return prefix;
}

// The teachers of the copy `fields` make of `base` (null: empty): every stored copy read (those of
// teachers who moved away left out, but still parsed, so an unreadable one is still reported), and
// the base's teachers no field names.
absl::StatusOr<Sources> SourcesOf(const CountyPeople* base,
                                  const std::vector<county_delta::Field>& fields) {
  Sources sources;
  sources.teachers.reserve(fields.size() + (base == nullptr ? 0 : base->teachers.size()));
  absl::flat_hash_map<absl::string_view, size_t> school_index;
  auto add = [&](absl::string_view school_id, absl::string_view teacher_id,
                 const county_delta::Field* field, size_t base_index) {
    auto [it, added] = school_index.emplace(school_id, sources.schools.size());
    if (added) sources.schools.push_back(school_id);
    sources.teachers.push_back(
        Source{teacher_id, IdPrefix(teacher_id), it->second, field, base_index});
  };
  v1::TeacherCopy moved;
  for (const county_delta::Field& f : fields) {
    if (!f.bytes.has_value()) continue;
    SHIDANG_ASSIGN_OR_RETURN(Placement p, PlacementOf(*f.bytes));
    if (!p.transferred_to_county_id.empty()) {
      if (!moved.ParseFromArray(f.bytes->data(), static_cast<int>(f.bytes->size()))) {
        return TeacherUnreadable();
      }
      continue;
    }
    add(p.school_id, p.teacher_id, &f, 0);
  }
  if (base == nullptr) return sources;
  absl::flat_hash_set<absl::string_view> changed;
  for (const county_delta::Field& f : fields) changed.insert(f.id);
  for (size_t i = 0; i < base->teachers.size(); ++i) {
    const TeacherFacts& t = base->teachers[i];
    if (!changed.contains(t.teacher_id)) add(t.school_id, t.teacher_id, nullptr, i);
  }
  return sources;
}

// The teachers by school, then id: the schools (a few hundred) sorted by id, the teachers laid out
// school by school in that order, and each school's few teachers sorted apart.
void SortByPlace(Sources& sources) {
  const size_t schools = sources.schools.size();
  std::vector<size_t> by_id(schools);
  std::iota(by_id.begin(), by_id.end(), size_t{0});
  std::sort(by_id.begin(), by_id.end(),
            [&](size_t a, size_t b) { return sources.schools[a] < sources.schools[b]; });
  std::vector<size_t> rank(schools);
  for (size_t r = 0; r < schools; ++r) rank[by_id[r]] = r;
  std::vector<size_t> start(schools + 1, 0);  // where each rank's teachers begin
  for (const Source& s : sources.teachers) ++start[rank[s.school] + 1];
  std::partial_sum(start.begin(), start.end(), start.begin());
  std::vector<size_t> next(start.begin(), start.end() - 1);
  std::vector<Source> placed(sources.teachers.size());
  for (const Source& s : sources.teachers) placed[next[rank[s.school]]++] = s;
  const auto id_less = [](const Source& a, const Source& b) {
    return a.id_prefix != b.id_prefix ? a.id_prefix < b.id_prefix : a.teacher_id < b.teacher_id;
  };
  for (size_t r = 0; r < schools; ++r) {
    std::sort(placed.begin() + start[r], placed.begin() + start[r + 1], id_less);
  }
  sources.teachers = std::move(placed);
}

// Frees replaced copies off the request path. A county's copy is released when the cache keeps
// a newer one, inside the listing that read it, and freeing 10,000 teachers' facts costs that
// listing about a tenth of a cold read; one thread of the process frees them instead.
class CopyReclaimer {
 public:
  static CopyReclaimer& Get() {
    static CopyReclaimer* reclaimer = new CopyReclaimer();  // never destroyed: its thread runs on
    return *reclaimer;
  }

  void Free(const CountyPeople* people) {
    absl::MutexLock lock(&mu_);
    queue_.push_back(people);
  }

 private:
  CopyReclaimer() {
    std::thread([this] { Run(); }).detach();
  }

  void Run() {
    const auto handed = [](std::vector<const CountyPeople*>* queue) { return !queue->empty(); };
    while (true) {
      std::vector<const CountyPeople*> batch;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(+handed, &queue_));
        batch.swap(queue_);
      }
      for (const CountyPeople* people : batch) delete people;
    }
  }

  absl::Mutex mu_;
  std::vector<const CountyPeople*> queue_ ABSL_GUARDED_BY(mu_);
};

// Each school's location, by id.
using Locations = absl::flat_hash_map<absl::string_view, profile::v1::SchoolLocation>;

profile::v1::SchoolLocation LocationIn(const Locations& locations, absl::string_view school_id) {
  auto found = locations.find(school_id);
  return found == locations.end() ? profile::v1::SCHOOL_LOCATION_UNSPECIFIED : found->second;
}

// Fills teachers and names [begin, end) of `people` from sources[begin, end): a stored copy
// decoded, or the base's teacher copied (their school's location looked up again when
// `relocate`: a school changed). One message parses every copy of the slice, so each copy's
// strings reuse the memory of the one before.
absl::Status FillTeachers(const std::vector<Source>& sources, size_t begin, size_t end,
                          const CountyPeople* base, const Locations& locations, bool relocate,
                          CountyPeople& people) {
  v1::TeacherCopy copy;
  for (size_t i = begin; i < end; ++i) {
    const Source& s = sources[i];
    if (s.field == nullptr) {
      people.teachers[i] = base->teachers[s.base_index];
      people.names[i] = base->names[s.base_index];
      if (relocate) {
        people.teachers[i].school_location = LocationIn(locations, people.teachers[i].school_id);
      }
      continue;
    }
    const absl::string_view bytes = *s.field->bytes;
    if (!copy.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return TeacherUnreadable();
    }
    people.teachers[i] = ToTeacherFacts(copy, LocationIn(locations, copy.school_id()));
    people.names[i] = copy.name();
  }
  return absl::OkStatus();
}

// The copy of `sources` (in place order) and `schools`: each teacher written once, where it goes,
// on as many threads as pay (a whole county's 10,000 copies cost more to decode than to read).
absl::StatusOr<std::shared_ptr<const CountyPeople>> Fill(const std::vector<Source>& sources,
                                                         const CountyPeople* base, Schools schools,
                                                         bool relocate) {
  Locations locations;
  locations.reserve(schools.size());
  for (const auto& [id, school] : schools) locations.emplace(id, school.location());
  auto people = std::make_unique<CountyPeople>();
  const size_t n = sources.size();
  people->teachers.resize(n);
  people->names.resize(n);
  std::vector<absl::Status> status(SliceCount(n, kTeachersPerSlice));
  ForEachSlice(n, kTeachersPerSlice, [&](size_t slice, size_t begin, size_t end) {
    status[slice] = FillTeachers(sources, begin, end, base, locations, relocate, *people);
  });
  for (const absl::Status& s : status) SHIDANG_RETURN_IF_ERROR(s);
  people->position.reserve(n);
  for (size_t i = 0; i < n; ++i) people->position.emplace(sources[i].teacher_id, i);
  people->schools = std::move(schools);
  return std::shared_ptr<const CountyPeople>(
      people.release(), [](const CountyPeople* p) { CopyReclaimer::Get().Free(p); });
}

// `base` (null: empty) with `teachers` and `schools` applied: a field without bytes is gone.
// The teachers no field names are the base's, their school's location looked up again when a
// school changed.
absl::StatusOr<std::shared_ptr<const CountyPeople>> PatchPeople(
    const CountyPeople* base, const std::vector<county_delta::Field>& teachers,
    const std::vector<county_delta::Field>& schools) {
  Schools all = base == nullptr ? Schools() : base->schools;
  for (const county_delta::Field& f : schools) {
    if (!f.bytes.has_value()) {
      all.erase(f.id);
      continue;
    }
    SHIDANG_ASSIGN_OR_RETURN(all[f.id], Parse<profile::v1::School>(*f.bytes, "school"));
  }
  SHIDANG_ASSIGN_OR_RETURN(Sources sources, SourcesOf(base, teachers));
  SortByPlace(sources);
  return Fill(sources.teachers, base, std::move(all), !schools.empty());
}

// The changed pairings replace theirs; new ones go last, deleted ones go.
absl::StatusOr<std::shared_ptr<const std::vector<v1::Pairing>>> PatchPairings(
    const std::vector<v1::Pairing>* base, const std::vector<county_delta::Field>& fields) {
  absl::flat_hash_map<std::string, const county_delta::Field*> changed;
  for (const county_delta::Field& f : fields) changed[f.id] = &f;
  auto pairings = std::make_shared<std::vector<v1::Pairing>>();
  if (base != nullptr) {
    pairings->reserve(base->size() + fields.size());
    for (const v1::Pairing& p : *base) {
      if (!changed.contains(p.pairing_id())) pairings->push_back(p);
    }
  }
  for (const county_delta::Field& f : fields) {
    if (!f.bytes.has_value()) continue;
    SHIDANG_ASSIGN_OR_RETURN(v1::Pairing p, Parse<v1::Pairing>(*f.bytes, "pairing"));
    pairings->push_back(std::move(p));
  }
  return std::shared_ptr<const std::vector<v1::Pairing>>(std::move(pairings));
}

// ReadCounty's copy of `read` (a whole read), or `base` patched with it; a part no change
// touched is the base's, shared.
absl::StatusOr<std::shared_ptr<const CountyData>> BuildCountyData(
    const county_delta::CountyRead& read, const CountyData* base) {
  auto data =
      base == nullptr ? std::make_shared<CountyData>() : std::make_shared<CountyData>(*base);
  const auto& teachers = read.Of(MentorshipStore::kTeacherKind);
  const auto& schools = read.Of(MentorshipStore::kSchoolKind);
  const auto& pairings = read.Of(MentorshipStore::kPairingKind);
  if (base == nullptr || !teachers.empty() || !schools.empty()) {
    SHIDANG_ASSIGN_OR_RETURN(data->people, PatchPeople(data->people.get(), teachers, schools));
  }
  if (base == nullptr || !pairings.empty()) {
    SHIDANG_ASSIGN_OR_RETURN(data->pairings, PatchPairings(data->pairings.get(), pairings));
  }
  return std::shared_ptr<const CountyData>(std::move(data));
}

}  // namespace

std::optional<size_t> CountyPeople::Find(absl::string_view teacher_id) const {
  auto found = position.find(teacher_id);
  if (found == position.end()) return std::nullopt;
  return found->second;
}

MentorshipStore::MentorshipStore(redis::Pool& pool)
    : pool_(pool), counties_(pool, BuildCountyData, kCachedCounties) {}

std::string MentorshipStore::CountyTag(absl::string_view c) { return keys::HashTag("c", c); }
std::string MentorshipStore::TeachersKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":teachers");
}
std::string MentorshipStore::SchoolsKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":schools");
}
std::string MentorshipStore::PairingsKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":pairings");
}
std::string MentorshipStore::LoadKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":load");
}
std::string MentorshipStore::SlotsKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":slots");
}
std::string MentorshipStore::TeacherPairingsKey(absl::string_view c, absl::string_view t) {
  return absl::StrCat(kPrefix, CountyTag(c), ":teacher:", t);
}
std::string MentorshipStore::ActivitiesKey(absl::string_view c, absl::string_view p) {
  return absl::StrCat(kPrefix, CountyTag(c), ":activities:", p);
}
std::string MentorshipStore::EvaluationsKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":evaluations");
}
std::string MentorshipStore::StreamKey(absl::string_view c) {
  return keys::StreamKey(kServiceName, CountyTag(c));
}
std::string MentorshipStore::WritesKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":writes");
}
std::string MentorshipStore::ChangesKey(absl::string_view c) {
  return absl::StrCat(kPrefix, CountyTag(c), ":changes");
}
std::string MentorshipStore::TeacherCountyKey() { return "mentorship:teacher-county"; }

county_delta::CountyKeys MentorshipStore::CountyKeysOf(absl::string_view c) {
  return county_delta::CountyKeys{WritesKey(c),
                                  ChangesKey(c),
                                  StreamKey(c),
                                  {{kTeacherKind, TeachersKey(c)},
                                   {kSchoolKind, SchoolsKey(c)},
                                   {kPairingKind, PairingsKey(c)}}};
}

std::string MentorshipStore::SlotOf(const v1::Pairing& p) {
  if (p.kind() == v1::PAIRING_KIND_URBAN_RURAL) return absl::StrCat(p.mentee_id(), "|URBAN_RURAL");
  return absl::StrCat(p.mentee_id(),
                      p.role() == v1::PAIRING_ROLE_TEACHING ? "|TEACHING" : "|SECOND");
}

std::string MentorshipStore::LoadFieldOf(const v1::Pairing& p) {
  if (p.kind() == v1::PAIRING_KIND_URBAN_RURAL) return absl::StrCat(p.mentor_id(), "|URBAN_RURAL");
  return p.mentor_id();
}

absl::StatusOr<std::string> MentorshipStore::CountyOfPairingId(absl::string_view id,
                                                               absl::string_view field) {
  for (absl::string_view prefix : {"MP", "MA"}) {
    if (absl::StartsWith(id, prefix) && id.size() > 9 && id[8] == '-') {
      absl::string_view county = id.substr(2, 6);
      if (IsCountyCode(county)) return std::string(county);
    }
  }
  return InvalidField(field, "id_format",
                      absl::StrCat("'", id, "' is not a pairing id (MP<county>-<hex>)"));
}

// ---- facts

absl::Status MentorshipStore::PutSchool(const profile::v1::School& school) {
  return county_delta::WriteFact(pool_, CountyKeysOf(school.county_id()), kSchoolKind,
                                 school.school_id(), school.SerializeAsString());
}

absl::Status MentorshipStore::PutTeacher(const v1::TeacherCopy& teacher) {
  return county_delta::WriteFact(pool_, CountyKeysOf(teacher.county_id()), kTeacherKind,
                                 teacher.teacher_id(), teacher.SerializeAsString());
}

absl::StatusOr<std::optional<v1::TeacherCopy>> MentorshipStore::GetTeacher(
    absl::string_view county_id, absl::string_view teacher_id) {
  return county_delta::ReadStored<v1::TeacherCopy>(pool_, TeachersKey(county_id), teacher_id,
                                                   "teacher");
}

absl::StatusOr<std::optional<profile::v1::School>> MentorshipStore::GetSchool(
    absl::string_view county_id, absl::string_view school_id) {
  return county_delta::ReadStored<profile::v1::School>(pool_, SchoolsKey(county_id), school_id,
                                                       "school");
}

absl::Status MentorshipStore::SetTeacherCounty(absl::string_view teacher_id,
                                               absl::string_view county_id) {
  return pool_
      .Command({"HSET", TeacherCountyKey(), std::string(teacher_id), std::string(county_id)})
      .status();
}

absl::StatusOr<std::string> MentorshipStore::TeacherCounty(absl::string_view teacher_id) {
  SHIDANG_ASSIGN_OR_RETURN(std::optional<std::string> county,
                           county_delta::ReadField(pool_, TeacherCountyKey(), teacher_id));
  if (!county.has_value()) return absl::NotFoundError(absl::StrCat("no teacher ", teacher_id));
  return *std::move(county);
}

absl::StatusOr<std::shared_ptr<const CountyData>> MentorshipStore::ReadCounty(
    absl::string_view county_id) {
  return counties_.Read(std::string(county_id), CountyKeysOf(county_id));
}

absl::StatusOr<std::optional<std::string>> MentorshipStore::FirstAnswer(absl::string_view county_id,
                                                                        const WriteContext& write) {
  if (write.request == nullptr) return std::nullopt;
  MutationRequest m;
  SHIDANG_RETURN_IF_ERROR(AttachIdempotency(m, kServiceName, CountyTag(county_id), write.actor,
                                            write.method, *write.request));
  return StoredAnswer(pool_, m);
}

// ---- pairings

absl::StatusOr<v1::Pairing> MentorshipStore::GetPairing(absl::string_view county_id,
                                                        absl::string_view pairing_id) {
  SHIDANG_ASSIGN_OR_RETURN(
      redis::Reply reply, pool_.Command({"HGET", PairingsKey(county_id), std::string(pairing_id)}));
  if (reply.is_nil()) return absl::NotFoundError(absl::StrCat("no pairing ", pairing_id));
  return Parse<v1::Pairing>(reply.str(), "pairing");
}

absl::StatusOr<std::vector<v1::Pairing>> MentorshipStore::TeacherPairings(
    absl::string_view county_id, absl::string_view teacher_id) {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply ids,
                           pool_.Command({"SMEMBERS", TeacherPairingsKey(county_id, teacher_id)}));
  std::vector<v1::Pairing> pairings;
  if (ids.size() == 0) return pairings;
  redis::Args command = {"HMGET", PairingsKey(county_id)};
  for (size_t i = 0; i < ids.size(); ++i) command.push_back(std::string(ids[i].str()));
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply found, pool_.Command(command));
  for (size_t i = 0; i < found.size(); ++i) {
    if (found[i].is_nil()) continue;
    SHIDANG_ASSIGN_OR_RETURN(v1::Pairing p, Parse<v1::Pairing>(found[i].str(), "pairing"));
    pairings.push_back(std::move(p));
  }
  return pairings;
}

absl::StatusOr<v1::Pairing> MentorshipStore::CreatePairing(NewPairing create,
                                                           const WriteContext& write) {
  const v1::Pairing& p = create.pairing;
  const std::string& county = p.county_id();
  const char* slot_name = p.kind() == v1::PAIRING_KIND_URBAN_RURAL ? "urban-rural pair"
                          : p.role() == v1::PAIRING_ROLE_TEACHING  ? "TEACHING mentor"
                                                                   : "SECOND mentor";
  MutationRequest m;
  m.events.push_back(std::move(create.mentee_event));
  m.events.push_back(std::move(create.mentor_event));
  m.keys = {PairingsKey(county),
            LoadKey(county),
            SlotsKey(county),
            TeacherPairingsKey(county, p.mentee_id()),
            TeacherPairingsKey(county, p.mentor_id()),
            WritesKey(county),
            ChangesKey(county)};
  m.args = {p.pairing_id(),
            p.SerializeAsString(),
            LoadFieldOf(p),
            SlotOf(p),
            absl::StrCat(create.capacity),
            slot_name,
            p.mentor_id(),
            county_delta::FirstCounterValue(),
            absl::StrCat(county_delta::kLogBound)};
  absl::StatusOr<MutationResult> result = Run(CreatePairingScript(), county, std::move(m), write);
  // The script names the refused field and the RefusalReason's short name as its rule (what
  // CreatePairings' rows report).
  if (!result.ok()) return result.status();
  return Parse<v1::Pairing>(result->payload, "pairing");
}

absl::StatusOr<v1::Pairing> MentorshipStore::EndPairing(const v1::Pairing& read,
                                                        const v1::Pairing& ended,
                                                        std::vector<common::v1::Event> events,
                                                        const WriteContext& write) {
  const std::string& county = read.county_id();
  MutationRequest m;
  m.events = std::move(events);
  m.keys = {PairingsKey(county), LoadKey(county), SlotsKey(county), WritesKey(county),
            ChangesKey(county)};
  m.args = {read.pairing_id(),
            read.SerializeAsString(),
            ended.SerializeAsString(),
            LoadFieldOf(read),
            SlotOf(read),
            county_delta::FirstCounterValue(),
            absl::StrCat(county_delta::kLogBound)};
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result,
                           Run(EndPairingScript(), county, std::move(m), write));
  return Parse<v1::Pairing>(result.payload, "pairing");
}

// ---- activities

absl::StatusOr<std::vector<v1::Activity>> MentorshipStore::Activities(
    absl::string_view county_id, absl::string_view pairing_id) {
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply,
                           pool_.Command({"HVALS", ActivitiesKey(county_id, pairing_id)}));
  std::vector<v1::Activity> activities;
  for (size_t i = 0; i < reply.size(); ++i) {
    SHIDANG_ASSIGN_OR_RETURN(v1::Activity a, Parse<v1::Activity>(reply[i].str(), "activity"));
    activities.push_back(std::move(a));
  }
  return activities;
}

absl::StatusOr<v1::Activity> MentorshipStore::LogActivity(absl::string_view county_id,
                                                          const v1::Activity& activity,
                                                          std::optional<common::v1::Event> event,
                                                          const WriteContext& write) {
  MutationRequest m;
  if (event.has_value()) m.events.push_back(std::move(*event));
  m.keys = {ActivitiesKey(county_id, activity.pairing_id()), EvaluationsKey(county_id),
            PairingsKey(county_id)};
  const bool evaluation = activity.kind() == v1::ACTIVITY_KIND_TERM_EVALUATION;
  m.args = {activity.activity_id(), activity.SerializeAsString(), activity.pairing_id(),
            evaluation ? absl::StrCat(activity.pairing_id(), "|", activity.term()) : ""};
  SHIDANG_ASSIGN_OR_RETURN(MutationResult result,
                           Run(LogActivityScript(), county_id, std::move(m), write));
  return Parse<v1::Activity>(result.payload, "activity");
}

absl::StatusOr<MutationResult> MentorshipStore::Run(const Mutation& script,
                                                    absl::string_view county_id, MutationRequest m,
                                                    const WriteContext& write) {
  m.stream_key = StreamKey(county_id);
  if (write.request != nullptr) {
    SHIDANG_RETURN_IF_ERROR(AttachIdempotency(m, kServiceName, CountyTag(county_id), write.actor,
                                              write.method, *write.request));
  }
  // Consumers find the stream through the index; registering is idempotent and comes before the
  // first write under the tag (events.h).
  SHIDANG_RETURN_IF_ERROR(RegisterStream(pool_, kServiceName, m.stream_key));
  return script.Run(pool_, m);
}

}  // namespace shidang::mentorship

#include "services/profile/id_card_reads.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/clock.h"
#include "services/common/dates.h"
#include "services/common/principal.h"
#include "services/common/status.h"
#include "services/profile/access.h"
#include "services/profile/request_checks.h"
#include "services/profile/store.h"

namespace shidang::profile {
namespace {

std::string ReadsKey(absl::string_view county_id) {
  return absl::StrCat("profile:", ProfileStore::Tag(county_id), ":id_card_reads");
}

// "shidang.profile.v1.ProfileService/GetTeacher" -> "GetTeacher".
std::string ShortMethod(absl::string_view method) {
  const size_t slash = method.rfind('/');
  return std::string(slash == absl::string_view::npos ? method : method.substr(slash + 1));
}

// A stream entry id "<ms>-<n>".
bool IsEntryId(absl::string_view id) {
  std::vector<absl::string_view> parts = absl::StrSplit(id, '-');
  uint64_t number = 0;
  return parts.size() == 2 && absl::SimpleAtoi(parts[0], &number) &&
         absl::SimpleAtoi(parts[1], &number) && absl::ascii_isdigit(parts[0][0]) &&
         absl::ascii_isdigit(parts[1][0]);
}

// Where a listing resumes: "<county>/<last entry id>", base64url.
absl::StatusOr<std::string> ResumeAfter(absl::string_view token, absl::string_view county_id) {
  if (token.empty()) return std::string();
  std::string raw;
  std::vector<std::string> parts;
  if (absl::WebSafeBase64Unescape(token, &raw)) parts = absl::StrSplit(raw, '/');
  if (parts.size() != 2 || parts[0] != county_id || !IsEntryId(parts[1])) {
    return InvalidField("page.page_token", "token", "not a token this method returned");
  }
  return parts[1];
}

// Unix milliseconds at the start of `day` in Asia/Shanghai.
int64_t DayStartMs(absl::CivilDay day) {
  return absl::ToUnixMillis(absl::FromCivil(absl::CivilSecond(day), ShanghaiTimeZone()));
}

// The stream range a listing reads, newest first: XREVRANGE <end> <start>.
struct ReadRange {
  std::string end = "+";
  std::string start = "-";
};

absl::StatusOr<ReadRange> RangeOf(const v1::ListIdCardReadsRequest& req, absl::Duration retention) {
  ReadRange range;
  // What is past the retention is not shown, even before the next write trims it.
  int64_t from_ms = absl::ToUnixMillis(absl::Now() - retention);
  absl::StatusOr<absl::CivilDay> from, to;
  if (!req.from_date().empty()) {
    SHIDANG_ASSIGN_OR_RETURN(from, dates::ParseDate(req.from_date(), "from_date"));
    from_ms = std::max(from_ms, DayStartMs(*from));
  }
  if (!req.to_date().empty()) {
    SHIDANG_ASSIGN_OR_RETURN(to, dates::ParseDate(req.to_date(), "to_date"));
    if (from.ok() && *to < *from) {
      return InvalidField("to_date", "range", "must be on or after from_date");
    }
    range.end = absl::StrCat("(", DayStartMs(*to + 1), "-0");
  }
  if (from_ms > 0) range.start = absl::StrCat(from_ms, "-0");
  return range;
}

// The entry as the listing shows it; false when the request's filters leave it out.
bool ToRead(const redis::Reply& entry, const v1::ListIdCardReadsRequest& req, v1::IdCardRead* out) {
  const redis::Reply fields = entry[1];
  for (size_t f = 0; f + 1 < fields.size(); f += 2) {
    const absl::string_view name = fields[f].str();
    const absl::string_view value = fields[f + 1].str();
    if (name == "r") {
      // "role:subject" (ActorOf): the role has no ':'.
      const size_t colon = value.find(':');
      absl::StatusOr<common::v1::Role> role = RoleFromName(value.substr(0, colon));
      out->set_reader_role(role.ok() ? *role : common::v1::ROLE_UNSPECIFIED);
      out->set_reader_subject(
          std::string(colon == absl::string_view::npos ? "" : value.substr(colon + 1)));
    } else if (name == "t") {
      out->set_teacher_id(std::string(value));
    } else if (name == "q") {
      out->set_request_id(std::string(value));
    } else if (name == "m") {
      out->set_method(std::string(value));
    }
  }
  const std::string id(entry[0].str());
  out->set_entry_id(id);
  int64_t ms = 0;
  if (absl::SimpleAtoi(id.substr(0, id.find('-')), &ms)) out->set_read_at_ms(ms);
  if (!req.teacher_id().empty() && out->teacher_id() != req.teacher_id()) return false;
  if (!req.reader_subject().empty() && out->reader_subject() != req.reader_subject()) return false;
  if (req.reader_role() != 0 && out->reader_role() != req.reader_role()) return false;
  return true;
}

}  // namespace

absl::Status RecordIdCardReads(ServiceDeps& deps, const CallContext& call,
                               const std::vector<IdCardReadOf>& reads) {
  if (reads.empty()) return absl::OkStatus();
  // MINID trims by age as entries are added: what is older than the retention goes. Exact, not
  // "~" (which frees only whole nodes of ~100 entries): a county with few reads keeps none past
  // it either. Trimming from the head costs what it removes.
  const std::string oldest = absl::StrCat(
      std::max<int64_t>(0, absl::ToUnixMillis(absl::Now() - deps.options.id_card_read_retention)),
      "-0");
  const std::string method = ShortMethod(call.method);
  std::vector<redis::Args> commands;
  commands.reserve(reads.size());
  for (const IdCardReadOf& read : reads) {
    commands.push_back({"XADD", ReadsKey(read.county_id), "MINID", oldest, "*", "r", call.actor,
                        "t", read.teacher_id, "q", call.request_id, "m", method});
  }
  absl::StatusOr<std::vector<redis::Reply>> added = deps.pool.Pipeline(commands);
  absl::Status status = added.status();
  for (size_t i = 0; status.ok() && i < added->size(); ++i) status = (*added)[i].ToStatus();
  if (!status.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "the read of an unmasked ID-card number could not be recorded; retry: ", status.message()));
  }
  return absl::OkStatus();
}

absl::Status IdCardReads::ListIdCardReads(const CallContext& call,
                                          const v1::ListIdCardReadsRequest& req,
                                          v1::ListIdCardReadsResponse* resp) {
  SHIDANG_RETURN_IF_ERROR(CheckCountyId(req.county_id(), "county_id"));
  SHIDANG_ASSIGN_OR_RETURN(int page_size, PageSize(req.page()));
  SHIDANG_ASSIGN_OR_RETURN(ReadRange range, RangeOf(req, deps_.options.id_card_read_retention));
  SHIDANG_ASSIGN_OR_RETURN(std::string after,
                           ResumeAfter(req.page().page_token(), req.county_id()));
  // Decided from the principal first; then an unknown county answers like one out of scope.
  SHIDANG_RETURN_IF_ERROR(RequireIdCardAudit(call.principal, req.county_id()));
  absl::Status county = deps_.store.GetCounty(req.county_id()).status();
  if (absl::IsNotFound(county)) return MissingCountyAnswer(call.principal, req.county_id(), county);
  SHIDANG_RETURN_IF_ERROR(county);

  constexpr int kBatch = 200;
  constexpr int kScanLimit = 5000;  // entries read per call at most; a short page has a token
  std::string end = after.empty() ? range.end : absl::StrCat("(", after);
  int scanned = 0;
  while (true) {
    SHIDANG_ASSIGN_OR_RETURN(redis::Reply batch,
                             deps_.pool.Command({"XREVRANGE", ReadsKey(req.county_id()), end,
                                                 range.start, "COUNT", std::to_string(kBatch)}));
    for (size_t i = 0; i < batch.size(); ++i) {
      const redis::Reply entry = batch[i];
      ++scanned;
      v1::IdCardRead read;
      if (ToRead(entry, req, &read)) *resp->add_reads() = std::move(read);
      const bool last = i + 1 == batch.size() && batch.size() < static_cast<size_t>(kBatch);
      if (!last && (resp->reads_size() == page_size || scanned >= kScanLimit)) {
        resp->mutable_page()->set_next_page_token(
            absl::WebSafeBase64Escape(absl::StrCat(req.county_id(), "/", entry[0].str())));
        return absl::OkStatus();
      }
    }
    if (batch.size() < static_cast<size_t>(kBatch)) return absl::OkStatus();
    end = absl::StrCat("(", batch[batch.size() - 1][0].str());
  }
}

}  // namespace shidang::profile

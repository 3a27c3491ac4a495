#include "services/common/mutation.h"

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message.h"
#include "google/protobuf/wire_format_lite.h"
#include "services/common/digest.h"
#include "services/common/keys.h"
#include "services/common/lua_scripts.h"
#include "services/common/parallel.h"
#include "services/common/random.h"
#include "services/common/violations.h"
#include "shidang/common/v1/error.pb.h"

namespace shidang {
namespace {

// The same type URL status.h uses, so its BadRequestOf and ToGrpcStatus carry the field out.
constexpr absl::string_view kBadRequestTypeUrl = "type.googleapis.com/shidang.common.v1.BadRequest";

// The prelude (replay or refuse a reused request_id, then K, A, emit, emit_all and the error
// Codes) and the epilogue (publish the chosen events, store the answer) live in
// services/common/scripts/, with a header each saying what they take and answer.
std::string WrapBody(absl::string_view body) {
  // A newline before the epilogue's `end` so a body ending in a comment cannot swallow it.
  return absl::StrCat(common::lua::kMutationPrelude, body, "\n", common::lua::kMutationEpilogue);
}

absl::Status BodyError(int code, absl::string_view message, absl::string_view field,
                       absl::string_view rule) {
  std::string text(message);
  if (text.empty()) text = "the request was refused";
  if (!field.empty() && !absl::StrContains(text, field)) text = absl::StrCat(field, ": ", text);
  const auto status_code = static_cast<absl::StatusCode>(code);
  absl::Status status(status_code, text);
  if (!field.empty()) {
    common::v1::BadRequest details;
    common::v1::FieldViolation* violation = details.add_field_violations();
    violation->set_field(std::string(field));
    // Every violation names a rule; a body that gave none is named by its code
    // ("already_exists"), so that a client can still tell refusals apart without the text.
    violation->set_rule(rule.empty() ? absl::AsciiStrToLower(absl::StatusCodeToString(status_code))
                                     : std::string(rule));
    violation->set_description(std::string(message));
    status.SetPayload(kBadRequestTypeUrl, absl::Cord(details.SerializeAsString()));
  }
  return status;
}

absl::Status ReusedRequestId(absl::string_view request_id) {
  return BodyError(static_cast<int>(absl::StatusCode::kInvalidArgument),
                   absl::StrCat("request_id '", request_id,
                                "' was already used for a different request by the same "
                                "principal and method; send a new request_id for a new request"),
                   "request_id", "request_id_reused");
}

std::string Hex(const unsigned char* bytes, size_t n) {
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(bytes), n));
}

}  // namespace

Mutation::Mutation(absl::string_view lua_body) : script_(WrapBody(lua_body)) {}

namespace {

absl::Status CheckRequest(const MutationRequest& request) {
  if (request.stream_key.empty()) {
    return absl::InternalError("mutation: stream_key is required");
  }
  if (request.idempotency_key.empty() != request.fingerprint.empty()) {
    return absl::InternalError(
        "mutation: idempotency_key and fingerprint go together (use AttachIdempotency)");
  }
  if (absl::StrContains(request.fingerprint, '\n')) {
    return absl::InternalError("mutation: a fingerprint has no newline (use Fingerprint)");
  }
  if (request.stream_cap < 0) return absl::InternalError("mutation: stream_cap must be >= 0");
  if (!request.idempotency_key.empty() && absl::ToInt64Seconds(request.idempotency_ttl) <= 0) {
    return absl::InternalError("mutation: idempotency_ttl must be at least one second");
  }
  return absl::OkStatus();
}

// KEYS[1]: without a request_id it is never touched; the stream key stands in so that every key
// of the script still shares the one hash tag.
const std::string& IdempotencyKeyOrStream(const MutationRequest& request) {
  return request.idempotency_key.empty() ? request.stream_key : request.idempotency_key;
}

// An import's thousands of events are serialised on every core.
constexpr size_t kEventsPerThread = 1000;

// The EventBatch of `events` (each as field 1, length-delimited), as the epilogue's
// table.concat joins one: every event's size first, then each written at its offset, on every
// core, with no copy of an envelope.
std::string SerializedBatch(const std::vector<common::v1::Event>& events) {
  using google::protobuf::internal::WireFormatLite;
  using google::protobuf::io::CodedOutputStream;
  std::vector<size_t> sizes(events.size());
  ForEachSlice(events.size(), kEventsPerThread, [&](size_t, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) sizes[i] = events[i].ByteSizeLong();
  });
  std::vector<size_t> offsets(events.size() + 1, 0);
  for (size_t i = 0; i < events.size(); ++i) {
    offsets[i + 1] = offsets[i] + 1 +
                     CodedOutputStream::VarintSize32(static_cast<uint32_t>(sizes[i])) + sizes[i];
  }
  std::string batch(offsets.back(), '\0');
  ForEachSlice(events.size(), kEventsPerThread, [&](size_t, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      auto* at = reinterpret_cast<uint8_t*>(&batch[offsets[i]]);
      at = WireFormatLite::WriteTagToArray(common::v1::EventBatch::kEventsFieldNumber,
                                           WireFormatLite::WIRETYPE_LENGTH_DELIMITED, at);
      at = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(sizes[i]), at);
      events[i].SerializeWithCachedSizesToArray(at);
    }
  });
  return batch;
}

// ARGV before the service's own args: fingerprint, TTL, cap, the events (in pairs, or one
// batch for all_events_as_one_batch).
redis::Args HeadArgs(const MutationRequest& request) {
  redis::Args head;
  head.reserve(6 + 2 * request.events.size());
  head.push_back(request.fingerprint);
  head.push_back(std::to_string(absl::ToInt64Seconds(request.idempotency_ttl)));
  head.push_back(std::to_string(request.stream_cap));
  head.push_back(std::to_string(request.events.size()));
  if (request.all_events_as_one_batch && request.events.size() > 1) {
    head.push_back("2");
    head.push_back(SerializedBatch(request.events));
    return head;
  }
  head.push_back(request.one_stream_entry ? "1" : "0");
  const size_t first = head.size();
  head.resize(first + 2 * request.events.size());
  ForEachSlice(request.events.size(), kEventsPerThread, [&](size_t, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      head[first + 2 * i] = request.events[i].type();
      head[first + 2 * i + 1] = request.events[i].SerializeAsString();
    }
  });
  return head;
}

// keys[1] is the stream: every other key must hash like it.
template <typename Keys>
absl::Status CheckHashTags(const Keys& keys) {
  const absl::string_view stream = keys.at(1);
  const absl::string_view tag = keys::HashedPart(stream);
  for (absl::string_view key : keys) {
    if (keys::HashedPart(key) != tag) {
      return absl::InternalError(absl::StrCat("mutation: key '", key,
                                              "' is not under the hash tag of stream '", stream,
                                              "'; one script must touch one slot"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<MutationCall> Mutation::Prepare(const MutationRequest& request) {
  SHIDANG_RETURN_IF_ERROR(CheckRequest(request));
  MutationCall call;
  call.keys.reserve(2 + request.keys.size());
  call.keys.push_back(IdempotencyKeyOrStream(request));
  call.keys.push_back(request.stream_key);
  call.keys.insert(call.keys.end(), request.keys.begin(), request.keys.end());
  call.args = HeadArgs(request);
  call.args.insert(call.args.end(), request.args.begin(), request.args.end());
  return call;
}

absl::Status Mutation::CheckOneHashTag(const MutationCall& call) {
  return CheckHashTags(call.keys);
}

absl::StatusOr<MutationResult> Mutation::Decode(const redis::Reply& reply,
                                                const MutationRequest& request) {
  if (!reply.is_array() || reply.size() == 0 || !reply[0].is_string()) {
    return absl::InternalError("mutation: unexpected script reply");
  }
  const absl::string_view kind = reply[0].str();
  if (kind == "ok" || kind == "replay") {
    MutationResult result;
    result.payload = std::string(reply[1].str());
    result.replayed = kind == "replay";
    for (size_t i = 2; i < reply.size(); ++i) {
      result.stream_entry_ids.emplace_back(reply[i].str());
    }
    return result;
  }
  if (kind == "mismatch") return ReusedRequestId(request.request_id);
  if (kind == "err" && reply.size() == 5) {
    const int64_t code = reply[1].integer();
    if (code <= 0 || code > static_cast<int64_t>(absl::StatusCode::kUnauthenticated)) {
      return absl::InternalError(absl::StrCat(
          "mutation: body returned err = ", code,
          ", not an absl status code (a Code.<NAME> of status_codes.lua): ", reply[2].str()));
    }
    return BodyError(static_cast<int>(code), reply[2].str(), reply[3].str(), reply[4].str());
  }
  return absl::InternalError(absl::StrCat("mutation: unexpected script reply '", kind, "'"));
}

absl::StatusOr<MutationResult> Mutation::Run(redis::Pool& pool,
                                             const MutationRequest& request) const {
  // Prepare's layout, with views of the request's keys and args instead of copies: an import's
  // are megabytes.
  SHIDANG_RETURN_IF_ERROR(CheckRequest(request));
  std::vector<absl::string_view> keys;
  keys.reserve(2 + request.keys.size());
  keys.push_back(IdempotencyKeyOrStream(request));
  keys.push_back(request.stream_key);
  keys.insert(keys.end(), request.keys.begin(), request.keys.end());
  SHIDANG_RETURN_IF_ERROR(CheckHashTags(keys));
  const redis::Args head = HeadArgs(request);
  std::vector<absl::string_view> args;
  args.reserve(head.size() + request.args.size());
  args.insert(args.end(), head.begin(), head.end());
  args.insert(args.end(), request.args.begin(), request.args.end());
  absl::StatusOr<redis::Reply> reply = pool.EvalViews(script_, keys, args, request.timeout);
  if (!reply.ok()) return reply.status();
  return Decode(*reply, request);
}

redis::Args BatchStreamEntry(const std::string& stream_key, int64_t stream_cap,
                             const std::vector<BatchedEvent>& events) {
  // EventBatch's field 1 (Event events), length-delimited, once per event: the bytes the
  // epilogue's table.concat builds.
  size_t size = 0;
  for (const BatchedEvent& e : events) size += e.envelope.size() + e.extra.size() + 6;
  std::string batch;
  batch.reserve(size);
  {
    google::protobuf::io::StringOutputStream stream(&batch);
    google::protobuf::io::CodedOutputStream out(&stream);
    for (const BatchedEvent& e : events) {
      out.WriteTag(common::v1::EventBatch::kEventsFieldNumber << 3 |
                   google::protobuf::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
      out.WriteVarint64(e.envelope.size() + e.extra.size());
      out.WriteRaw(e.envelope.data(), static_cast<int>(e.envelope.size()));
      out.WriteRaw(e.extra.data(), static_cast<int>(e.extra.size()));
    }
  }
  redis::Args xadd = {"XADD", stream_key};
  if (stream_cap > 0) {
    xadd.insert(xadd.end(), {"MAXLEN", "~", std::to_string(stream_cap)});
  }
  xadd.insert(xadd.end(),
              {"*", "b", std::move(batch), "t", "batch", "n", std::to_string(events.size())});
  return xadd;
}

absl::StatusOr<std::string> IdempotencyKey(absl::string_view service, absl::string_view hash_tag,
                                           absl::string_view actor, absl::string_view method,
                                           absl::string_view request_id) {
  if (request_id.empty()) {
    return absl::InvalidArgumentError("request_id: must not be empty here");
  }
  if (request_id.size() > kMaxRequestIdLength) {
    return absl::InvalidArgumentError(absl::StrCat("request_id: at most ", kMaxRequestIdLength,
                                                   " characters allowed, got ", request_id.size()));
  }
  if (request_id.find_first_of("{}") != absl::string_view::npos) {
    return absl::InvalidArgumentError("request_id: must not contain '{' or '}'");
  }
  return absl::StrCat(service, ":", hash_tag, ":idem:", method, ":", actor, ":", request_id);
}

std::string Fingerprint(const google::protobuf::Message& request) {
  std::unique_ptr<google::protobuf::Message> copy(request.New());
  copy->CopyFrom(request);
  const google::protobuf::FieldDescriptor* field =
      copy->GetDescriptor()->FindFieldByName("request_id");
  if (field != nullptr) copy->GetReflection()->ClearField(copy.get(), field);

  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    // Deterministic: map entries in key order, so equal requests give equal bytes.
    coded.SetSerializationDeterministic(true);
    copy->SerializePartialToCodedStream(&coded);
  }
  const std::string digest = Sha256(bytes);
  return Hex(reinterpret_cast<const unsigned char*>(digest.data()), digest.size());
}

absl::Status AttachIdempotency(MutationRequest& mutation, absl::string_view service,
                               absl::string_view hash_tag, absl::string_view actor,
                               absl::string_view method, const google::protobuf::Message& request) {
  mutation.idempotency_key.clear();
  mutation.fingerprint.clear();
  mutation.request_id.clear();
  const google::protobuf::FieldDescriptor* field =
      request.GetDescriptor()->FindFieldByName("request_id");
  if (field == nullptr || field->is_repeated() ||
      field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
    return absl::OkStatus();
  }
  std::string request_id = request.GetReflection()->GetString(request, field);
  if (request_id.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> key = IdempotencyKey(service, hash_tag, actor, method, request_id);
  if (!key.ok()) return key.status();
  mutation.idempotency_key = *std::move(key);
  mutation.fingerprint = Fingerprint(request);
  mutation.request_id = std::move(request_id);
  return absl::OkStatus();
}

common::v1::Event NewEvent(absl::string_view source, absl::string_view type,
                           absl::Time recorded_at) {
  common::v1::Event event;
  event.set_id(SecureRandomHex(16));
  event.set_type(std::string(type));
  event.set_source(std::string(source));
  event.set_recorded_at_ms(absl::ToUnixMillis(recorded_at));
  return event;
}

absl::StatusOr<std::optional<std::string>> StoredAnswer(redis::Pool& pool,
                                                        const MutationRequest& mutation) {
  if (mutation.idempotency_key.empty()) return std::nullopt;
  SHIDANG_ASSIGN_OR_RETURN(redis::Reply reply, pool.Command({"GET", mutation.idempotency_key}));
  if (reply.is_nil()) return std::nullopt;
  const absl::string_view record = reply.str();
  const size_t newline = record.find('\n');
  if (newline == absl::string_view::npos) {
    return absl::DataLossError(
        absl::StrCat("the stored answer of request_id '", mutation.request_id, "' is unreadable"));
  }
  if (record.substr(0, newline) != mutation.fingerprint) {
    return ReusedRequestId(mutation.request_id);
  }
  return std::string(record.substr(newline + 1));
}

}  // namespace shidang

#include "gateway/http_transcode.h"

#include <algorithm>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/json_strict.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/status.h"
#include "shidang/common/v1/error.pb.h"

namespace shidang::gateway {
namespace {

namespace pb = google::protobuf;

constexpr char kRpcStatusTypeUrl[] = "type.googleapis.com/shidang.common.v1.RpcStatus";

absl::Status BadValue(absl::string_view path, absl::string_view text, absl::string_view allowed) {
  return InvalidField(path, "format",
                      absl::StrCat("\"", absl::CHexEscape(text), "\" is not ", allowed));
}

// protobuf's JSON parser reports a syntax error as "<what>\n<up to 20 bytes either side>\n
// <spaces>^" without an offset. The offset is recovered from that context so the client is told
// where: the caret's column within the context, plus where the context starts in the body.
absl::Status JsonSyntaxError(absl::string_view json, absl::string_view parser_message) {
  const size_t first_newline = parser_message.find('\n');
  const size_t last_newline = parser_message.rfind('\n');
  if (first_newline == absl::string_view::npos || first_newline == last_newline) {
    // Not a syntax error: a field or value problem, already named by the parser.
    return InvalidField("body", "json", parser_message);
  }
  const absl::string_view what = parser_message.substr(0, first_newline);
  const absl::string_view context =
      parser_message.substr(first_newline + 1, last_newline - first_newline - 1);
  const absl::string_view caret_line = parser_message.substr(last_newline + 1);
  const size_t column_in_context = caret_line.empty() ? 0 : caret_line.size() - 1;
  size_t offset = json.size();
  if (!context.empty()) {
    // The context starts at the body's start when the error is in its first 20 bytes.
    const size_t start = column_in_context < 20 ? 0 : json.find(context);
    if (start != absl::string_view::npos) offset = std::min(json.size(), start + column_in_context);
  }
  const absl::string_view before = json.substr(0, offset);
  const size_t line = 1 + std::count(before.begin(), before.end(), '\n');
  const size_t line_start = before.rfind('\n');
  const size_t column = line_start == absl::string_view::npos ? offset + 1 : offset - line_start;
  return InvalidField("body", "json",
                      absl::StrCat("JSON is not valid at line ", line, ", column ", column,
                                   " (byte ", offset, "): ", what));
}

}  // namespace

pb::util::Status CachingTypeResolver::ResolveMessageType(const std::string& type_url,
                                                         pb::Type* type) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = types_.find(type_url);
    if (it != types_.end()) {
      *type = it->second;
      return pb::util::Status();
    }
  }
  pb::util::Status status = base_->ResolveMessageType(type_url, type);
  if (status.ok()) {
    absl::MutexLock lock(&mu_);
    types_.emplace(type_url, *type);
  }
  return status;
}

pb::util::Status CachingTypeResolver::ResolveEnumType(const std::string& type_url,
                                                      pb::Enum* enum_type) {
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = enums_.find(type_url);
    if (it != enums_.end()) {
      *enum_type = it->second;
      return pb::util::Status();
    }
  }
  pb::util::Status status = base_->ResolveEnumType(type_url, enum_type);
  if (status.ok()) {
    absl::MutexLock lock(&mu_);
    enums_.emplace(type_url, *enum_type);
  }
  return status;
}

const pb::FieldDescriptor* FindField(const pb::Descriptor* type, absl::string_view name) {
  const std::string key(name);
  const pb::FieldDescriptor* field = type->FindFieldByName(key);
  if (field == nullptr) field = type->FindFieldByCamelcaseName(key);
  if (field == nullptr) {
    for (int i = 0; i < type->field_count(); ++i) {
      if (type->field(i)->json_name() == key) return type->field(i);
    }
  }
  return field;
}

absl::StatusOr<std::vector<const pb::FieldDescriptor*>> ResolveFieldPath(const pb::Descriptor* type,
                                                                         absl::string_view path) {
  std::vector<const pb::FieldDescriptor*> fields;
  const pb::Descriptor* current = type;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (current == nullptr) {
      return InvalidField(path, "field",
                          absl::StrCat("\"", fields.back()->name(),
                                       "\" is not a message, so it has no field \"", part, "\""));
    }
    const pb::FieldDescriptor* field = FindField(current, part);
    if (field == nullptr) {
      return InvalidField(path, "field",
                          absl::StrCat(current->full_name(), " has no field \"", part, "\""));
    }
    if (!fields.empty() && fields.back()->is_repeated()) {
      return InvalidField(path, "field",
                          absl::StrCat("\"", fields.back()->name(),
                                       "\" is repeated; set its elements in the JSON body"));
    }
    fields.push_back(field);
    current =
        field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE ? field->message_type() : nullptr;
  }
  return fields;
}

namespace {

// A string field, or a bytes field from base64 (standard or web-safe).
absl::Status SetStringFromText(pb::Message* message, const pb::FieldDescriptor* field,
                               absl::string_view path, absl::string_view text) {
  std::string value(text);
  if (field->type() == pb::FieldDescriptor::TYPE_BYTES) {
    if (!absl::Base64Unescape(text, &value) && !absl::WebSafeBase64Unescape(text, &value)) {
      return BadValue(path, text, "base64");
    }
  }
  const pb::Reflection* reflection = message->GetReflection();
  field->is_repeated() ? reflection->AddString(message, field, std::move(value))
                       : reflection->SetString(message, field, std::move(value));
  return absl::OkStatus();
}

// An enum field from a value's name or number; the error lists the names.
absl::Status SetEnumFromText(pb::Message* message, const pb::FieldDescriptor* field,
                             absl::string_view path, absl::string_view text) {
  const pb::EnumDescriptor* type = field->enum_type();
  const pb::EnumValueDescriptor* value = type->FindValueByName(std::string(text));
  int number;
  if (value == nullptr && absl::SimpleAtoi(text, &number)) {
    value = type->FindValueByNumber(number);
  }
  if (value == nullptr) {
    std::string names;
    for (int i = 0; i < type->value_count(); ++i) {
      absl::StrAppend(&names, i == 0 ? "" : ", ", type->value(i)->name());
    }
    return BadValue(path, text, absl::StrCat("one of ", names));
  }
  const pb::Reflection* reflection = message->GetReflection();
  field->is_repeated() ? reflection->AddEnum(message, field, value)
                       : reflection->SetEnum(message, field, value);
  return absl::OkStatus();
}

}  // namespace

absl::Status SetFieldFromText(pb::Message* message, absl::string_view path,
                              absl::string_view text) {
  auto fields = ResolveFieldPath(message->GetDescriptor(), path);
  if (!fields.ok()) return fields.status();
  for (size_t i = 0; i + 1 < fields->size(); ++i) {
    message = message->GetReflection()->MutableMessage(message, (*fields)[i]);
  }
  const pb::FieldDescriptor* field = fields->back();
  const pb::Reflection* reflection = message->GetReflection();
  const bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_STRING:
      return SetStringFromText(message, field, path, text);
    case pb::FieldDescriptor::CPPTYPE_INT32: {
      int32_t value;
      if (!absl::SimpleAtoi(text, &value)) return BadValue(path, text, "a 32-bit integer");
      repeated ? reflection->AddInt32(message, field, value)
               : reflection->SetInt32(message, field, value);
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_INT64: {
      int64_t value;
      if (!absl::SimpleAtoi(text, &value)) return BadValue(path, text, "a 64-bit integer");
      repeated ? reflection->AddInt64(message, field, value)
               : reflection->SetInt64(message, field, value);
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t value;
      if (!absl::SimpleAtoi(text, &value)) return BadValue(path, text, "an unsigned integer");
      repeated ? reflection->AddUInt32(message, field, value)
               : reflection->SetUInt32(message, field, value);
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t value;
      if (!absl::SimpleAtoi(text, &value)) return BadValue(path, text, "an unsigned integer");
      repeated ? reflection->AddUInt64(message, field, value)
               : reflection->SetUInt64(message, field, value);
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
    case pb::FieldDescriptor::CPPTYPE_FLOAT: {
      double value;
      if (!absl::SimpleAtod(text, &value)) return BadValue(path, text, "a number");
      if (field->cpp_type() == pb::FieldDescriptor::CPPTYPE_DOUBLE) {
        repeated ? reflection->AddDouble(message, field, value)
                 : reflection->SetDouble(message, field, value);
      } else {
        repeated ? reflection->AddFloat(message, field, static_cast<float>(value))
                 : reflection->SetFloat(message, field, static_cast<float>(value));
      }
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_BOOL: {
      bool value;
      if (text == "true" || text == "1") {
        value = true;
      } else if (text == "false" || text == "0") {
        value = false;
      } else {
        return BadValue(path, text, "true or false");
      }
      repeated ? reflection->AddBool(message, field, value)
               : reflection->SetBool(message, field, value);
      return absl::OkStatus();
    }
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      return SetEnumFromText(message, field, path, text);
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return InvalidField(path, "field",
                      absl::StrCat("is a message (", field->message_type()->full_name(),
                                   "); give its fields as ", path, ".<field> or in the body"));
}

absl::StatusOr<std::string> PercentDecode(absl::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size() || !absl::ascii_isxdigit(static_cast<unsigned char>(text[i + 1])) ||
          !absl::ascii_isxdigit(static_cast<unsigned char>(text[i + 2]))) {
        return absl::InvalidArgumentError(
            absl::StrCat("\"", absl::CHexEscape(text), "\": a '%' escape needs two hex digits"));
      }
      out.push_back(absl::HexStringToBytes(text.substr(i + 1, 2))[0]);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

namespace {

// A query parameter that names no field of the request but exactly one field of one of its
// singular message fields binds there: `?pageToken=...` fills `page.page_token` of a request that
// pages with a shidang.common.v1.PageRequest `page`, as clients of list routes expect.
std::string QualifyQueryName(const pb::Descriptor* type, const std::string& name) {
  if (name.find('.') != std::string::npos || FindField(type, name) != nullptr) return name;
  std::string qualified;
  for (int i = 0; i < type->field_count(); ++i) {
    const pb::FieldDescriptor* field = type->field(i);
    if (field->is_repeated() || field->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (FindField(field->message_type(), name) == nullptr) continue;
    if (!qualified.empty()) return name;  // ambiguous: let the caller spell it out
    qualified = absl::StrCat(field->name(), ".", name);
  }
  return qualified.empty() ? name : qualified;
}

}  // namespace

absl::Status MergeQuery(absl::string_view query, pb::Message* message) {
  std::set<std::string> singular_seen;
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    const size_t equals = pair.find('=');
    auto name = PercentDecode(pair.substr(0, equals), true);
    if (!name.ok()) return InvalidField("query", "format", name.status().message());
    *name = QualifyQueryName(message->GetDescriptor(), *name);
    auto value = PercentDecode(
        equals == absl::string_view::npos ? absl::string_view() : pair.substr(equals + 1), true);
    if (!value.ok()) return InvalidField(*name, "format", value.status().message());
    auto fields = ResolveFieldPath(message->GetDescriptor(), *name);
    if (!fields.ok()) return fields.status();
    if (!fields->back()->is_repeated()) {
      // Keyed by the resolved field, so "schoolId" and "school_id" count as the same one.
      std::string key;
      for (const pb::FieldDescriptor* field : *fields) absl::StrAppend(&key, field->name(), ".");
      if (!singular_seen.insert(key).second) {
        return InvalidField(*name, "repeated_parameter",
                            "is given more than once but is not a repeated field");
      }
    }
    absl::Status set = SetFieldFromText(message, *name, *value);
    if (!set.ok()) return set;
  }
  return absl::OkStatus();
}

absl::Status MergeJson(pb::util::TypeResolver* resolver, const std::string& type_url,
                       absl::string_view json, pb::Message* message) {
  // protobuf's parser is lenient (a trailing comma, a repeated key, single quotes, one field under
  // both its names); refuse those first, saying where.
  SHIDANG_RETURN_IF_ERROR(CheckStrictJson(json));
  SHIDANG_RETURN_IF_ERROR(CheckOneKeyPerField(json, *message->GetDescriptor()));
  pb::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  std::string binary;
  const auto status =
      pb::util::JsonToBinaryString(resolver, type_url, std::string(json), &binary, options);
  if (!status.ok()) return JsonSyntaxError(json, std::string(status.message()));
  if (!message->MergeFromString(binary)) {
    return absl::InternalError(
        absl::StrCat("JSON for ", type_url, " did not give a valid message"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> BinaryToJson(pb::util::TypeResolver* resolver,
                                         const std::string& type_url, const std::string& bytes) {
  pb::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = false;
  options.always_print_enums_as_ints = false;
  std::string json;
  const auto status = pb::util::BinaryToJsonString(resolver, type_url, bytes, &json, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot render ", type_url, " as JSON: ", std::string(status.message())));
  }
  return json;
}

int HttpStatusFromCode(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return 200;
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
      return 400;
    case grpc::StatusCode::UNAUTHENTICATED:
      return 401;
    case grpc::StatusCode::PERMISSION_DENIED:
      return 403;
    case grpc::StatusCode::NOT_FOUND:
      return 404;
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::ABORTED:
      return 409;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return 429;
    case grpc::StatusCode::CANCELLED:
      return 499;
    case grpc::StatusCode::UNIMPLEMENTED:
      return 501;
    case grpc::StatusCode::UNAVAILABLE:
      return 503;
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return 504;
    default:
      return 500;
  }
}

std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

std::string ErrorJson(const grpc::Status& status, pb::util::TypeResolver* resolver) {
  common::v1::RpcStatus rpc = RpcStatusOf(status);
  rpc.set_code(static_cast<int>(status.error_code()));
  rpc.set_message(status.error_message());
  auto json = BinaryToJson(resolver, kRpcStatusTypeUrl, rpc.SerializeAsString());
  if (!json.ok()) {
    // A detail of a type outside the descriptor set: keep code and message.
    rpc.clear_details();
    json = BinaryToJson(resolver, kRpcStatusTypeUrl, rpc.SerializeAsString());
  }
  std::string body = absl::StrCat("{\"status\":\"", CodeName(status.error_code()), "\",");
  if (json.ok() && json->size() >= 2) {
    absl::StrAppend(&body, absl::string_view(*json).substr(1));
  } else {
    absl::StrAppend(&body, "\"code\":", static_cast<int>(status.error_code()), "}");
  }
  return body;
}

}  // namespace shidang::gateway

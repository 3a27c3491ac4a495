#include "services/common/request_check.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/violations.h"

namespace shidang {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using google::protobuf::internal::WireFormatLite;

// Fields whose name says the wrong kind, by full name (none yet: add one here with why).
const std::map<absl::string_view, TextKind>& FieldKindOverrides() {
  static const auto* overrides = new std::map<absl::string_view, TextKind>{};
  return *overrides;
}

// Enum fields whose numbers outside the enum must pass, by full name (none yet).
bool IsOpenEnumField(const FieldDescriptor& field) {
  static const auto* open = new std::map<absl::string_view, bool>{};
  return open->count(field.full_name()) > 0;
}

constexpr int kMaxNamedViolations = 10;
constexpr int kMaxDepth = 64;

// Decodes one code point from the front of `text`; nullopt on invalid UTF-8 (overlong, a
// surrogate, past U+10FFFF, truncated).
std::optional<char32_t> NextCodePoint(absl::string_view* text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text->data());
  const size_t size = text->size();
  const unsigned char lead = bytes[0];
  size_t length = 0;
  char32_t code = 0;
  if (lead < 0x80) {
    length = 1;
    code = lead;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code = lead & 0x07;
  } else {
    return std::nullopt;
  }
  if (size < length) return std::nullopt;
  for (size_t i = 1; i < length; ++i) {
    if ((bytes[i] & 0xC0) != 0x80) return std::nullopt;
    code = (code << 6) | (bytes[i] & 0x3F);
  }
  const bool overlong = (length == 3 && code < 0x800) || (length == 4 && code < 0x10000);
  if (overlong || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return std::nullopt;
  text->remove_prefix(length);
  return code;
}

bool IsValidUtf8(absl::string_view text) {
  while (!text.empty()) {
    if (!NextCodePoint(&text).has_value()) return false;
  }
  return true;
}

// What is wrong with one character in a field of `kind`, or nullptr when it is allowed.
const char* RefusedCharacter(char32_t c, TextKind kind) {
  const bool multi_line = kind == TextKind::kMultiLine;
  if (c == '\n' || c == '\t') return multi_line ? nullptr : "must be one line (no LF or TAB)";
  if (c == '\r') return "must not contain CR (use LF for a new line where one is allowed)";
  if (c == 0) return "must not contain NUL";
  if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) return "must not contain control characters";
  if (c == 0xFEFF) return "must not contain U+FEFF (byte order mark)";
  if ((c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069)) {
    return "must not contain bidirectional overrides (U+202A-U+202E, U+2066-U+2069)";
  }
  if ((c == 0x2028 || c == 0x2029) && !multi_line) return "must be one line (no U+2028/U+2029)";
  return nullptr;
}

std::string LimitText(TextKind kind) {
  switch (kind) {
    case TextKind::kId:
      return absl::StrCat("must be at most ", kMaxIdBytes, " bytes (an id)");
    case TextKind::kToken:
      return absl::StrCat("must be at most ", kMaxTokenBytes, " bytes (a page token)");
    case TextKind::kMultiLine:
      return absl::StrCat("must be at most ", kMaxMultiLineChars, " characters");
    case TextKind::kLine:
      break;
  }
  return absl::StrCat("must be at most ", kMaxLineChars, " characters (one line)");
}

std::string AllowedEnumValues(const EnumDescriptor& type) {
  std::vector<std::string> names;
  names.reserve(type.value_count());
  for (int i = 0; i < type.value_count(); ++i) names.push_back(type.value(i)->name());
  return absl::StrJoin(names, ", ");
}

class FieldChecker {
 public:
  void CheckMessage(const Message& message, const std::string& prefix, int depth) {
    if (depth > kMaxDepth) return;
    const Reflection& reflection = *message.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    reflection.ListFields(message, &fields);
    for (const FieldDescriptor* field : fields) {
      const std::string path = absl::StrCat(prefix, field->name());
      if (!field->is_repeated()) {
        CheckValue(message, *field, -1, path, depth);
        continue;
      }
      const int size = reflection.FieldSize(message, field);
      for (int i = 0; i < size; ++i) {
        CheckValue(message, *field, i, absl::StrCat(path, "[", i, "]"), depth);
      }
    }
  }

  absl::Status status() const { return status_; }

 private:
  void CheckValue(const Message& message, const FieldDescriptor& field, int index,
                  const std::string& path, int depth) {
    const Reflection& reflection = *message.GetReflection();
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_ENUM: {
        const int value = index < 0 ? reflection.GetEnumValue(message, &field)
                                    : reflection.GetRepeatedEnumValue(message, &field, index);
        if (field.enum_type()->FindValueByNumber(value) == nullptr && !IsOpenEnumField(field)) {
          Add(path, "enum_value",
              absl::StrCat(value, " is not a value of ", field.enum_type()->full_name(),
                           "; allowed: ", AllowedEnumValues(*field.enum_type())));
        }
        return;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        if (field.type() == FieldDescriptor::TYPE_BYTES) return;
        std::string scratch;
        const std::string& value =
            index < 0 ? reflection.GetStringReference(message, &field, &scratch)
                      : reflection.GetRepeatedStringReference(message, &field, index, &scratch);
        absl::Status text = CheckText(value, TextKindOf(field), path);
        if (!text.ok()) Add(text);
        return;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        const Message& inner = index < 0 ? reflection.GetMessage(message, &field)
                                         : reflection.GetRepeatedMessage(message, &field, index);
        CheckMessage(inner, path + ".", depth + 1);
        return;
      }
      default:
        return;
    }
  }

  void Add(const std::string& path, absl::string_view rule, const std::string& description) {
    if (++named_ > kMaxNamedViolations) return;
    AddFieldViolation(&status_, path, rule, description);
  }
  void Add(const absl::Status& violation) {
    if (++named_ > kMaxNamedViolations) return;
    std::optional<common::v1::BadRequest> bad = BadRequestOf(violation);
    if (!bad.has_value() || bad->field_violations().empty()) return;
    const common::v1::FieldViolation& v = bad->field_violations(0);
    AddFieldViolation(&status_, v.field(), v.rule(), v.description());
  }

  absl::Status status_;
  int named_ = 0;
};

absl::Status NotAMessage(const Descriptor& type) {
  return absl::InvalidArgumentError(
      absl::StrCat("the request is not a valid ", type.full_name(), " message"));
}

// Walks the wire format of `bytes` as a `type` and names the first string field holding
// invalid UTF-8 (what makes the generated parser refuse the whole request without saying
// where); OK when there is none.
absl::Status FindInvalidUtf8(absl::string_view bytes, const Descriptor& type,
                             const std::string& prefix, int depth) {
  if (depth > kMaxDepth) return NotAMessage(type);
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  std::map<int, int> seen;  // occurrences per field number: the index of a repeated element
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0)
      return in.ConsumedEntireMessage() || bytes.empty() ? absl::OkStatus() : NotAMessage(type);
    const FieldDescriptor* field = type.FindFieldByNumber(WireFormatLite::GetTagFieldNumber(tag));
    const bool text_or_message =
        field != nullptr && !field->is_packed() &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED &&
        (field->type() == FieldDescriptor::TYPE_STRING ||
         field->type() == FieldDescriptor::TYPE_MESSAGE);
    if (!text_or_message) {
      if (!WireFormatLite::SkipField(&in, tag)) return NotAMessage(type);
      continue;
    }
    uint32_t length = 0;
    std::string value;
    if (!in.ReadVarint32(&length) || !in.ReadString(&value, static_cast<int>(length))) {
      return NotAMessage(type);
    }
    std::string path = absl::StrCat(prefix, field->name());
    const int index = seen[field->number()]++;
    if (field->is_repeated()) absl::StrAppend(&path, "[", index, "]");
    if (field->type() == FieldDescriptor::TYPE_STRING) {
      if (!IsValidUtf8(value)) return InvalidField(path, "utf8", "must be valid UTF-8 text");
      continue;
    }
    absl::Status inner = FindInvalidUtf8(value, *field->message_type(), path + ".", depth + 1);
    if (!inner.ok()) return inner;
  }
}

}  // namespace

TextKind TextKindOf(const FieldDescriptor& field) {
  const auto& overrides = FieldKindOverrides();
  if (auto it = overrides.find(field.full_name()); it != overrides.end()) return it->second;
  const std::string& name = field.name();
  if (name == "id" || name == "etag" || absl::EndsWith(name, "_id") ||
      absl::EndsWith(name, "_ids")) {
    return TextKind::kId;
  }
  if (absl::EndsWith(name, "page_token")) return TextKind::kToken;
  if (name == "description" || name == "note" || name == "why" || name == "reason" ||
      absl::EndsWith(name, "_reason")) {
    return TextKind::kMultiLine;
  }
  return TextKind::kLine;
}

absl::Status CheckText(absl::string_view value, TextKind kind, absl::string_view field) {
  const bool counts_bytes = kind == TextKind::kId || kind == TextKind::kToken;
  const size_t max = kind == TextKind::kId      ? kMaxIdBytes
                     : kind == TextKind::kToken ? kMaxTokenBytes
                     : kind == TextKind::kLine  ? kMaxLineChars
                                                : kMaxMultiLineChars;
  if (counts_bytes && value.size() > max) {
    return InvalidField(field, "max_length", LimitText(kind));
  }
  size_t characters = 0;
  absl::string_view rest = value;
  while (!rest.empty()) {
    std::optional<char32_t> c = NextCodePoint(&rest);
    if (!c.has_value()) return InvalidField(field, "utf8", "must be valid UTF-8 text");
    if (const char* refused = RefusedCharacter(*c, kind); refused != nullptr) {
      return InvalidField(field, "characters", refused);
    }
    if (++characters > max) return InvalidField(field, "max_length", LimitText(kind));
  }
  return absl::OkStatus();
}

absl::Status CheckRequestFields(const Message& request) {
  FieldChecker checker;
  checker.CheckMessage(request, "", 0);
  return checker.status();
}

absl::Status ExplainUnparsableRequest(absl::string_view bytes, const Descriptor& type) {
  absl::Status utf8 = FindInvalidUtf8(bytes, type, "", 0);
  return utf8.ok() ? NotAMessage(type) : utf8;
}

}  // namespace shidang

#include "gateway/json_strict.h"

// Boost.JSON as a header-only library: its implementation is compiled here, in this one file
// (Debian packages no compiled libboost_json for 1.81).
#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/src.hpp>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/violations.h"

namespace shidang::gateway {
namespace {

namespace json = boost::json;

// Keeps the keys seen in each open object; a repeated one stops the parse.
struct DuplicateKeyHandler {
  static constexpr std::size_t max_array_size = -1;
  static constexpr std::size_t max_object_size = -1;
  static constexpr std::size_t max_string_size = -1;
  static constexpr std::size_t max_key_size = -1;

  std::vector<std::set<std::string>> open_objects;
  std::string key;
  std::string duplicate;  // set when the parse stopped at a repeated key

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t, json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    open_objects.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) {
    open_objects.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_key_part(json::string_view part, std::size_t, json::error_code&) {
    key.append(part.data(), part.size());
    return true;
  }
  bool on_key(json::string_view last, std::size_t, json::error_code& ec) {
    key.append(last.data(), last.size());
    const bool fresh = open_objects.back().insert(key).second;
    if (!fresh) {
      duplicate = key;
      ec = json::error::syntax;
    }
    key.clear();
    return fresh;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return true; }
  bool on_double(double, json::string_view, json::error_code&) { return true; }
  bool on_bool(bool, json::error_code&) { return true; }
  bool on_null(json::error_code&) { return true; }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

std::string Where(absl::string_view json, size_t offset) {
  offset = std::min(offset, json.size());
  const absl::string_view before = json.substr(0, offset);
  const size_t line = 1 + std::count(before.begin(), before.end(), '\n');
  const size_t line_start = before.rfind('\n');
  const size_t column = line_start == absl::string_view::npos ? offset + 1 : offset - line_start;
  return absl::StrCat("line ", line, ", column ", column, " (byte ", offset, ")");
}

// What a person most likely meant at `offset`, for the usual leniencies.
std::string Hint(absl::string_view json, size_t offset) {
  if (offset >= json.size()) return "";
  const char c = json[offset];
  if (c == '\'') return " (keys and strings take double quotes)";
  if (c == '/') return " (comments are not JSON)";
  if (static_cast<unsigned char>(c) >= 0x80) return " (bytes that are not UTF-8)";
  if ((c == '}' || c == ']') && offset > 0) {
    const size_t before = json.find_last_not_of(" \t\r\n", offset - 1);
    if (before != absl::string_view::npos && json[before] == ',') return " (a trailing comma)";
  }
  return "";
}

// The field a JSON key names in `type` (its proto name or its JSON name), or nullptr.
const google::protobuf::FieldDescriptor* FieldOfKey(const google::protobuf::Descriptor& type,
                                                    absl::string_view key) {
  for (int i = 0; i < type.field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = type.field(i);
    if (field->name() == key || field->json_name() == key) return field;
  }
  return nullptr;
}

// The first key of `object` (and of the messages in it) that gives a field already given by
// another key of the same object, with that other key; empty when none.
std::pair<std::string, std::string> KeyGivenTwice(const json::object& object,
                                                  const google::protobuf::Descriptor& type) {
  using google::protobuf::FieldDescriptor;
  // The well-known types (Timestamp, Struct, Any, ...) have JSON forms of their own.
  if (absl::StartsWith(type.full_name(), "google.protobuf.")) return {};
  std::map<const FieldDescriptor*, std::string> given;
  for (const auto& [key, value] : object) {
    const FieldDescriptor* field = FieldOfKey(type, absl::string_view(key.data(), key.size()));
    if (field == nullptr) continue;  // protobuf's parser refuses unknown keys by name
    auto [at, fresh] = given.emplace(field, std::string(key));
    if (!fresh) return {std::string(key), at->second};
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const google::protobuf::Descriptor& inner =
        field->is_map() ? *field->message_type()->map_value()->message_type()
                        : *field->message_type();
    if (field->is_map() &&
        field->message_type()->map_value()->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    }
    std::vector<const json::value*> messages;
    if (field->is_map() && value.is_object()) {
      for (const auto& entry : value.get_object()) messages.push_back(&entry.value());
    } else if (field->is_repeated() && value.is_array()) {
      for (const json::value& element : value.get_array()) messages.push_back(&element);
    } else {
      messages.push_back(&value);
    }
    for (const json::value* message : messages) {
      if (!message->is_object()) continue;
      auto twice = KeyGivenTwice(message->get_object(), inner);
      if (!twice.first.empty()) return twice;
    }
  }
  return {};
}

}  // namespace

absl::Status CheckOneKeyPerField(absl::string_view text, const google::protobuf::Descriptor& type) {
  json::error_code ec;
  const json::value value = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !value.is_object()) return absl::OkStatus();  // CheckStrictJson speaks for the syntax
  const auto [key, other] = KeyGivenTwice(value.get_object(), type);
  if (key.empty()) return absl::OkStatus();
  // Name where the second spelling starts (the first of its occurrences after the first one).
  const std::string quoted_other = absl::StrCat("\"", other, "\"");
  const std::string quoted = absl::StrCat("\"", key, "\"");
  const size_t first = text.find(quoted_other);
  size_t at = text.find(quoted, first == absl::string_view::npos ? 0 : first + 1);
  if (at == absl::string_view::npos) at = text.find(quoted);
  return InvalidField("body", "json",
                      absl::StrCat("JSON is not valid at ", Where(text, at), ": duplicate key \"",
                                   absl::CHexEscape(key), "\" (the same field as \"",
                                   absl::CHexEscape(other), "\")"));
}

absl::Status CheckStrictJson(absl::string_view text) {
  json::parse_options options;  // strict: no comments, trailing commas or invalid UTF-8
  options.max_depth = kMaxJsonDepth;
  json::basic_parser<DuplicateKeyHandler> parser(options);
  json::error_code ec;
  const size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && consumed >= text.size()) return absl::OkStatus();
  const std::string& duplicate = parser.handler().duplicate;
  if (!duplicate.empty()) {
    // The parser stopped inside or after the repeated key; name where that key starts.
    const size_t end = std::min(consumed, text.size());
    size_t key_start = text.rfind(absl::StrCat("\"", duplicate, "\""), end);
    if (key_start == absl::string_view::npos) key_start = end;
    return InvalidField("body", "json",
                        absl::StrCat("JSON is not valid at ", Where(text, key_start),
                                     ": duplicate key \"", absl::CHexEscape(duplicate), "\""));
  }
  if (consumed > 0 && consumed < text.size() && CheckStrictJson(text.substr(0, consumed)).ok()) {
    // One whole value was read and more follows it.
    return InvalidField("body", "json",
                        absl::StrCat("JSON is not valid at ", Where(text, consumed),
                                     ": extra data after the JSON value"));
  }
  return InvalidField("body", "json",
                      absl::StrCat("JSON is not valid at ", Where(text, consumed), ": ",
                                   ec.message(), Hint(text, consumed)));
}

}  // namespace shidang::gateway

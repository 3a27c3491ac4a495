#include "gateway/http_routes.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gateway/http_transcode.h"

namespace shidang::gateway {
namespace {

namespace pb = google::protobuf;

constexpr char kTypeUrlPrefix[] = "type.googleapis.com/";

absl::Status RouteError(const MethodInfo& method, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("http route of ", method.path, ": ", what));
}

bool IsHttpMethod(absl::string_view method) {
  return method == "GET" || method == "POST" || method == "PUT" || method == "PATCH" ||
         method == "DELETE";
}

// The template's segments and verb into `route` (its path_template set): a {binding} must name
// a singular scalar field of the request, a literal segment must be non-empty.
absl::Status ParseTemplate(const MethodInfo& method, const pb::Descriptor* input,
                           HttpRouteInfo* route) {
  absl::string_view verb;
  // A ':' inside a {binding} is not a verb separator, so look only after the last '}'.
  absl::string_view tail = route->path_template;
  const size_t brace = tail.rfind('}');
  const size_t colon = tail.rfind(':');
  const bool has_verb =
      colon != absl::string_view::npos && (brace == absl::string_view::npos || colon > brace);
  for (absl::string_view segment : SplitPath(route->path_template, has_verb, &verb)) {
    HttpRouteInfo::Segment part;
    if (absl::StartsWith(segment, "{") && absl::EndsWith(segment, "}")) {
      part.field = std::string(segment.substr(1, segment.size() - 2));
      auto fields = ResolveFieldPath(input, part.field);
      if (!fields.ok()) return RouteError(method, fields.status().message());
      const pb::FieldDescriptor* leaf = fields->back();
      if (leaf->is_repeated() || leaf->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
        return RouteError(method, absl::StrCat("path binding {", part.field,
                                               "} must be a singular scalar field"));
      }
    } else if (segment.empty() || absl::StrContains(segment, "{") ||
               absl::StrContains(segment, "}")) {
      return RouteError(method, absl::StrCat("path \"", route->path_template,
                                             "\" has an empty or malformed segment"));
    } else {
      part.literal = std::string(segment);
    }
    route->segments.push_back(std::move(part));
  }
  route->verb = std::string(verb);
  return absl::OkStatus();
}

// The fields transcoding uses when the messages have them: the request's `request_id` (filled from
// Idempotency-Key) and `format` enum with a value ending in _CSV, the response's `download`.
void FindTranscodingFields(const pb::Descriptor* input, const pb::Descriptor* output,
                           HttpRouteInfo* route) {
  const pb::FieldDescriptor* request_id = input->FindFieldByName("request_id");
  if (request_id != nullptr && !request_id->is_repeated() &&
      request_id->type() == pb::FieldDescriptor::TYPE_STRING) {
    route->request_id_field = request_id;
  }
  const pb::FieldDescriptor* format = input->FindFieldByName("format");
  if (format != nullptr && !format->is_repeated() &&
      format->cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM) {
    const pb::EnumDescriptor* values = format->enum_type();
    for (int i = 0; i < values->value_count(); ++i) {
      if (absl::EndsWith(values->value(i)->name(), "_CSV")) {
        route->format_field = format;
        route->format_csv = values->value(i);
      }
    }
  }
  const pb::FieldDescriptor* download = output->FindFieldByName("download");
  if (download != nullptr && !download->is_repeated() &&
      download->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE) {
    const pb::Descriptor* type = download->message_type();
    const pb::FieldDescriptor* content = type->FindFieldByName("content");
    if (content != nullptr && content->type() == pb::FieldDescriptor::TYPE_BYTES &&
        type->FindFieldByName("content_type") != nullptr) {
      route->download_field = download;
    }
  }
}

}  // namespace

bool HttpRouteInfo::Produces(absl::string_view content_type) const {
  for (const std::string& type : produces) {
    if (absl::EqualsIgnoreCase(type, content_type)) return true;
  }
  return false;
}

std::vector<absl::string_view> SplitPath(absl::string_view path, bool with_verb,
                                         absl::string_view* verb) {
  *verb = absl::string_view();
  if (absl::StartsWith(path, "/")) path.remove_prefix(1);
  std::vector<absl::string_view> segments = absl::StrSplit(path, '/');
  if (with_verb && !segments.empty()) {
    absl::string_view& last = segments.back();
    const size_t colon = last.rfind(':');
    if (colon != absl::string_view::npos) {
      *verb = last.substr(colon + 1);
      last = last.substr(0, colon);
    }
  }
  return segments;
}

absl::StatusOr<std::unique_ptr<HttpRouter>> HttpRouter::Build(const MethodTable& methods) {
  std::unique_ptr<HttpRouter> router(new HttpRouter());
  std::set<std::pair<std::string, std::string>> seen;
  for (const auto& method : methods.methods()) {
    if (!method->has_http || !method->is_public() || !method->is_unary()) continue;
    const common::v1::HttpRoute& http = method->http;
    auto route = std::make_unique<HttpRouteInfo>();
    route->method = method.get();
    route->http_method = absl::AsciiStrToUpper(http.method());
    if (!IsHttpMethod(route->http_method)) {
      return RouteError(*method, absl::StrCat("method \"", http.method(),
                                              "\" is not one of GET, POST, PUT, PATCH, DELETE"));
    }
    if (!absl::StartsWith(http.path(), "/")) {
      return RouteError(*method, absl::StrCat("path \"", http.path(), "\" must start with '/'"));
    }
    route->path_template = http.path();
    const pb::Descriptor* input = method->descriptor->input_type();
    const pb::Descriptor* output = method->descriptor->output_type();
    absl::Status parsed = ParseTemplate(*method, input, route.get());
    if (!parsed.ok()) return parsed;
    route->body = http.body();
    if (!route->body.empty() && route->body != "*") {
      route->body_field = input->FindFieldByName(route->body);
      if (route->body_field == nullptr || route->body_field->is_repeated() ||
          route->body_field->cpp_type() != pb::FieldDescriptor::CPPTYPE_MESSAGE) {
        return RouteError(
            *method, absl::StrCat("body \"", route->body, "\" must be \"*\" or a message field of ",
                                  input->full_name()));
      }
    }
    route->produces.assign(http.produces().begin(), http.produces().end());
    route->request_prototype = router->factory_.GetPrototype(input);
    route->response_prototype = router->factory_.GetPrototype(output);
    route->request_type_url = absl::StrCat(kTypeUrlPrefix, input->full_name());
    route->response_type_url = absl::StrCat(kTypeUrlPrefix, output->full_name());
    FindTranscodingFields(input, output, route.get());
    if (!seen.emplace(route->http_method, route->path_template).second) {
      return RouteError(*method, absl::StrCat(route->http_method, " ", route->path_template,
                                              " is declared by another method too"));
    }
    router->routes_.push_back(std::move(route));
  }
  return router;
}

bool HttpRouter::MatchPath(const HttpRouteInfo& route,
                           const std::vector<absl::string_view>& segments, absl::string_view verb,
                           std::vector<std::pair<std::string, std::string>>* bindings) {
  if (route.verb != verb || route.segments.size() != segments.size()) return false;
  for (size_t i = 0; i < segments.size(); ++i) {
    const HttpRouteInfo::Segment& part = route.segments[i];
    if (part.field.empty()) {
      if (part.literal != segments[i]) return false;
    } else if (segments[i].empty()) {
      return false;
    }
  }
  if (bindings != nullptr) {
    bindings->clear();
    for (size_t i = 0; i < segments.size(); ++i) {
      if (!route.segments[i].field.empty()) {
        bindings->emplace_back(route.segments[i].field, std::string(segments[i]));
      }
    }
  }
  return true;
}

HttpRouter::Match HttpRouter::Find(absl::string_view http_method, absl::string_view path) const {
  Match match;
  absl::string_view verb;
  absl::string_view no_verb;
  const std::vector<absl::string_view> with_verb = SplitPath(path, true, &verb);
  const std::vector<absl::string_view> plain = SplitPath(path, false, &no_verb);
  for (const auto& route : routes_) {
    const bool matches = route->verb.empty() ? MatchPath(*route, plain, "", nullptr)
                                             : MatchPath(*route, with_verb, verb, nullptr);
    if (!matches) continue;
    if (route->http_method == http_method && match.route == nullptr) {
      match.route = route.get();
      if (route->verb.empty()) {
        MatchPath(*route, plain, "", &match.bindings);
      } else {
        MatchPath(*route, with_verb, verb, &match.bindings);
      }
    }
    if (std::find(match.allowed.begin(), match.allowed.end(), route->http_method) ==
        match.allowed.end()) {
      match.allowed.push_back(route->http_method);
    }
  }
  if (match.route != nullptr) {
    match.outcome = Outcome::kFound;
  } else if (!match.allowed.empty()) {
    match.outcome = Outcome::kWrongMethod;
  }
  return match;
}

}  // namespace shidang::gateway

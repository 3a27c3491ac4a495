#pragma once

// The HTTP/JSON front's route table, built once at start from the `http` option beside each public
// unary RPC in the descriptor set (MethodTable). A route is a method (GET, POST, ...) and a path
// template of literal segments and {field} bindings ({a.b} binds a nested field), with an optional
// ":verb" on the last segment ("/v1/rosters:import"). Nothing here is written per service.
//
// Matching walks every route (tens of them; a linear scan of pre-split segments costs well under a
// microsecond, less than building a trie would save). A path that matches some route but not with
// the request's method gives kWrongMethod with the methods that would match (for 405 + Allow).

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gateway/method_table.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"

namespace shidang::gateway {

// One HTTP route and what transcoding needs to know about its RPC, worked out at start.
struct HttpRouteInfo {
  const MethodInfo* method = nullptr;
  std::string http_method;  // upper case
  std::string path_template;
  // Segments of the template; a binding segment has its field path in `field` and empty `literal`.
  struct Segment {
    std::string literal;
    std::string field;
  };
  std::vector<Segment> segments;
  std::string verb;  // without the ':'; empty when none
  // Body handling: "*" = the whole request, a field name = that field only, empty = no body.
  std::string body;
  const google::protobuf::FieldDescriptor* body_field = nullptr;
  std::vector<std::string> produces;
  // The request prototype (from the gateway's DynamicMessageFactory) and type URLs for JSON.
  const google::protobuf::Message* request_prototype = nullptr;
  std::string request_type_url;
  std::string response_type_url;
  // `string request_id` of the request (filled from Idempotency-Key), or nullptr.
  const google::protobuf::FieldDescriptor* request_id_field = nullptr;
  // An enum field `format` of the request and its value ending in "_CSV" (set when the client
  // accepts text/csv), or nullptr.
  const google::protobuf::FieldDescriptor* format_field = nullptr;
  const google::protobuf::EnumValueDescriptor* format_csv = nullptr;
  // The response's `download` message field (bytes content, string content_type, string
  // filename), or nullptr; and its response prototype to read it.
  const google::protobuf::FieldDescriptor* download_field = nullptr;
  const google::protobuf::Message* response_prototype = nullptr;

  bool Produces(absl::string_view content_type) const;
};

class HttpRouter {
 public:
  // Builds the routes of every public unary method with an `http` option. INVALID_ARGUMENT naming
  // the method when a route is malformed: method not GET/POST/PUT/PATCH/DELETE, path not starting
  // with '/', a binding naming no field (or a repeated / non-scalar one), a body field that does
  // not exist, or the same method and template declared twice.
  static absl::StatusOr<std::unique_ptr<HttpRouter>> Build(const MethodTable& methods);

  enum class Outcome { kFound, kNoPath, kWrongMethod };
  struct Match {
    Outcome outcome = Outcome::kNoPath;
    const HttpRouteInfo* route = nullptr;
    // Field path -> raw (still percent-encoded) segment value, for kFound.
    std::vector<std::pair<std::string, std::string>> bindings;
    // Methods the path would accept, for kWrongMethod (and for CORS preflight on kFound).
    std::vector<std::string> allowed;
  };

  // Matches a request path (without the query string).
  Match Find(absl::string_view http_method, absl::string_view path) const;

  const std::vector<std::unique_ptr<HttpRouteInfo>>& routes() const { return routes_; }

 private:
  HttpRouter() = default;
  static bool MatchPath(const HttpRouteInfo& route, const std::vector<absl::string_view>& segments,
                        absl::string_view verb,
                        std::vector<std::pair<std::string, std::string>>* bindings);

  google::protobuf::DynamicMessageFactory factory_;
  std::vector<std::unique_ptr<HttpRouteInfo>> routes_;
};

// Splits "/a/b/c:verb" into {"a","b","c"} and "verb". The verb is what follows the last ':' of the
// last segment; `with_verb` false keeps the last segment whole.
std::vector<absl::string_view> SplitPath(absl::string_view path, bool with_verb,
                                         absl::string_view* verb);

}  // namespace shidang::gateway

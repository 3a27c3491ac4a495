#include "gateway/http_server.h"

#include <grpcpp/client_context.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>
#include <set>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "gateway/grpc_wire.h"
#include "gateway/http_routes.h"
#include "gateway/http_transcode.h"
#include "gateway/static_files.h"
#include "google/protobuf/util/type_resolver_util.h"
#include "services/common/log.h"
#include "services/common/principal.h"
#include "services/common/status.h"

namespace shidang::gateway {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace pb = google::protobuf;
using tcp = net::ip::tcp;

namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr int kMaxTimeoutHeaderMs = 300000;
constexpr char kAllowHeaders[] =
    "Authorization, Content-Type, Accept, Idempotency-Key, X-Request-Id, X-Timeout-Ms, traceparent";
constexpr char kExposeHeaders[] = "X-Request-Id, Retry-After, Content-Disposition";
// How long a closing connection still reads (and drops) what its client sends; see Linger.
constexpr std::chrono::seconds kLingerAfterClose(5);
// Of a header's name, at most this much is named in a 431 (the value is never echoed: a cookie or a
// token may be in it).
constexpr size_t kMaxNamedHeader = 64;

// W3C traceparent is lower-case hex and dashes; anything else is not passed on.
bool IsGoodTraceparent(absl::string_view value) {
  if (value.empty() || value.size() > 128) return false;
  for (char c : value) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

// (Debian's Abseil 20220623 has no StrContainsIgnoreCase.)
bool ContainsIgnoreCase(absl::string_view haystack, absl::string_view needle) {
  return absl::StrContains(absl::AsciiStrToLower(haystack), absl::AsciiStrToLower(needle));
}

absl::string_view View(beast::string_view view) { return {view.data(), view.size()}; }

absl::string_view Header(const Request& request, http::field field) {
  auto it = request.find(field);
  return it == request.end() ? absl::string_view() : View(it->value());
}
absl::string_view Header(const Request& request, absl::string_view name) {
  auto it = request.find(beast::string_view(name.data(), name.size()));
  return it == request.end() ? absl::string_view() : View(it->value());
}

std::string ByteBufferToString(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  out.reserve(buffer.Length());
  for (const grpc::Slice& slice : slices) {
    out.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  return out;
}

// A filename safe inside Content-Disposition's quoted string, and its UTF-8 form for filename*.
std::string ContentDisposition(absl::string_view filename) {
  if (filename.empty()) filename = "download";
  std::string ascii;
  std::string encoded;
  for (unsigned char c : filename) {
    const bool plain = absl::ascii_isalnum(c) || c == '.' || c == '-' || c == '_';
    ascii.push_back(plain ? static_cast<char>(c) : '_');
    if (plain) {
      encoded.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&encoded, "%%%02X", c);
    }
  }
  return absl::StrCat("attachment; filename=\"", ascii, "\"; filename*=UTF-8''", encoded);
}

// A header field name fit to be named in an answer: a token of at most kMaxNamedHeader characters.
bool IsNameable(absl::string_view name) {
  if (name.empty() || name.size() > kMaxNamedHeader) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

// The 431's status for a request whose line and headers pass `limit` bytes: which part did (the
// request line, one header that alone is too large, or the headers together, over at the field
// that crossed it), as a field violation. `used` bytes of the head were taken before `unread`,
// which starts at the line or field being read when the limit was met.
grpc::Status HeadTooLarge(bool line_done, size_t used, absl::string_view unread, size_t limit) {
  const std::string allowed =
      absl::StrCat("a request's line and headers may take ", limit, " bytes together");
  if (!line_done) {
    // Beast may refuse before it has parsed a line that did end: then the fields after it are
    // what passed the limit.
    const size_t end = unread.find("\r\n");
    if (end == absl::string_view::npos || used + end + 2 > limit) {
      return ToGrpcStatus(
          InvalidField("request line", "max_size", absl::StrCat("is too long: ", allowed)));
    }
    used += end + 2;
    unread.remove_prefix(end + 2);
  }
  // Beast takes complete fields only, so `unread` starts at a field: walk its lines to the one the
  // limit falls in.
  for (size_t at = 0; at < unread.size();) {
    size_t end = unread.find("\r\n", at);
    const bool complete = end != absl::string_view::npos;
    if (!complete) end = unread.size();
    const absl::string_view line = unread.substr(at, end - at);
    if (line.empty()) break;  // the blank line that ends the head
    const size_t line_bytes = line.size() + (complete ? 2 : 0);
    if (complete && used + line_bytes <= limit) {
      used += line_bytes;
      at = end + 2;
      continue;
    }
    const absl::string_view name = line.substr(0, line.find(':'));
    const std::string named = IsNameable(name) ? std::string(name) : "a header";
    if (line_bytes > limit) {
      return ToGrpcStatus(InvalidField(
          named, "max_size",
          absl::StrCat("is ", line_bytes, complete ? "" : " or more", " bytes: ", allowed)));
    }
    return ToGrpcStatus(InvalidField("headers", "max_size",
                                     absl::StrCat("are over the limit at ", named, ": ", allowed)));
  }
  return ToGrpcStatus(
      InvalidField("headers", "max_size",
                   absl::StrCat("are ", used, " bytes with the request line: ", allowed)));
}

}  // namespace

class HttpServer::Impl : public std::enable_shared_from_this<HttpServer::Impl> {
 public:
  Impl(HttpOptions options, HttpDependencies deps, std::unique_ptr<HttpRouter> router,
       std::unique_ptr<StaticSite> site)
      : options_(std::move(options)),
        deps_(deps),
        router_(std::move(router)),
        site_(std::move(site)),
        resolver_(std::make_unique<CachingTypeResolver>(
            std::unique_ptr<pb::util::TypeResolver>(pb::util::NewTypeResolverForDescriptorPool(
                "type.googleapis.com", &deps.methods->pool())))),
        ioc_(options_.threads),
        acceptor_(ioc_),
        cors_origins_(options_.cors_origins.begin(), options_.cors_origins.end()) {}

  absl::Status Listen() {
    beast::error_code ec;
    const auto address = net::ip::make_address(options_.host, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("--host: ", ec.message()));
    const tcp::endpoint endpoint(address, static_cast<unsigned short>(options_.port));
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat("HTTP front cannot listen on ", options_.host, ":",
                                                 options_.port, ": ", ec.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (int i = 0; i < options_.threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
    return absl::OkStatus();
  }

  void Shutdown(absl::Duration grace) {
    if (stopped_.exchange(true)) return;
    net::post(acceptor_.get_executor(), [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
    });
    // Backend callbacks post into the io_context, so it must run until they are all done.
    {
      absl::MutexLock lock(&mu_);
      auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return in_flight_.empty(); };
      if (!mu_.AwaitWithTimeout(absl::Condition(&idle), grace)) {
        for (grpc::ClientContext* context : in_flight_) context->TryCancel();
        mu_.Await(absl::Condition(&idle));
      }
    }
    ioc_.stop();
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
  }

  int port() const { return port_; }
  size_t route_count() const { return router_->routes().size(); }

 private:
  class Session;
  friend class Session;

  void Accept();

  const HttpOptions options_;
  const HttpDependencies deps_;
  const std::unique_ptr<HttpRouter> router_;
  const std::unique_ptr<StaticSite> site_;  // nullptr: no --web_root
  const std::unique_ptr<pb::util::TypeResolver> resolver_;
  net::io_context ioc_;
  tcp::acceptor acceptor_;
  const std::set<std::string, std::less<>> cors_origins_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
  int port_ = 0;
  absl::Mutex mu_;
  std::set<grpc::ClientContext*> in_flight_ ABSL_GUARDED_BY(mu_);
};

// One connection: reads a request, answers it (possibly after a backend call), and reads the next
// while the client keeps the connection alive. Lives as long as a handler holds it.
class HttpServer::Impl::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Impl* server, tcp::socket socket) : server_(server), stream_(std::move(socket)) {}

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  // What one request needs across the backend call.
  struct Exchange {
    std::string request_id;
    std::string origin;  // when allowed by --cors_origins, else empty
    std::string target_path;
    std::string method_label = "unmatched";
    std::string actor = "-";
    bool keep_alive = true;
    unsigned version = 11;
    absl::Time start;
    const HttpRouteInfo* route = nullptr;
    bool wants_csv = false;
    std::unique_ptr<grpc::ClientContext> context;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
  };

  void Read() {
    parser_.emplace();
    parser_->header_limit(server_->options_.header_limit);
    parser_->body_limit(server_->options_.body_limit);
    head_used_ = 0;
    stream_.expires_after(absl::ToChronoSeconds(server_->options_.idle_timeout));
    ReadHead();
  }

  // The request line and headers, a read at a time, each given what is left of the limit: Beast
  // takes complete fields as they arrive and counts its header_limit over one read's bytes only,
  // so a client sending its fields a few at a time would pass any limit (and make the gateway hold
  // them all) if the limit were set once.
  void ReadHead() {
    http::async_read_some(stream_, buffer_, *parser_,
                          [self = shared_from_this()](beast::error_code ec, size_t used) {
                            self->OnHeadRead(ec, used);
                          });
  }

  void OnHeadRead(beast::error_code ec, size_t used) {
    head_used_ += used;
    // Within one read Beast allows the line and then the fields up to the limit each: the whole
    // head is checked again once it is complete (the read that completes it takes no body bytes).
    if (!ec && parser_->is_header_done() && head_used_ > server_->options_.header_limit) {
      ec = http::error::header_limit;
    }
    if (ec || parser_->is_done()) {
      OnRead(ec);
      return;
    }
    if (!parser_->is_header_done()) {
      const size_t limit = server_->options_.header_limit;
      if (head_used_ >= limit) {
        OnRead(http::error::header_limit);
        return;
      }
      parser_->header_limit(static_cast<uint32_t>(limit - head_used_));
      ReadHead();
      return;
    }
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      auto exchange = NewExchange(parser_->get());
      exchange->keep_alive = false;
      SendError(exchange, 413,
                grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                             absl::StrCat("the request body exceeds ", server_->options_.body_limit,
                                          " bytes")));
      return;
    }
    if (ec == http::error::header_limit) {
      // An over-long path (an id of kilobytes) or header: say which, rather than drop the
      // connection.
      auto exchange = NewExchange(parser_->get());
      exchange->keep_alive = false;
      if (!parser_->is_header_done()) exchange->version = 11;
      SendError(exchange, 431, HeadRefusal());
      return;
    }
    if (ec) {
      // end_of_stream, a timeout, a reset, or bytes that are not HTTP: nothing to answer.
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    request_ = parser_->release();
    Handle();
  }

  // The 431's status: what is still unread starts at the field the limit fell in; a head taken
  // whole (then what is unread is the body's) is walked as parsed, its fields after its line.
  grpc::Status HeadRefusal() {
    const Request& request = parser_->get();
    if (!parser_->is_header_done()) {
      const auto unread = buffer_.data();
      return HeadTooLarge(!request.target().empty(), head_used_,
                          absl::string_view(static_cast<const char*>(unread.data()), unread.size()),
                          server_->options_.header_limit);
    }
    std::string fields;
    for (const auto& field : request) {
      absl::StrAppend(&fields, View(field.name_string()), ": ", View(field.value()), "\r\n");
    }
    // "<method> <target> HTTP/1.1\r\n"
    const size_t line = request.method_string().size() + request.target().size() + 11;
    return HeadTooLarge(true, line, fields, server_->options_.header_limit);
  }

  std::shared_ptr<Exchange> NewExchange(const Request& request) {
    auto exchange = std::make_shared<Exchange>();
    exchange->start = absl::Now();
    const absl::string_view id = Header(request, "x-request-id");
    exchange->request_id = IsGoodRequestId(id) ? std::string(id) : NewRequestId();
    const absl::string_view origin = Header(request, http::field::origin);
    if (!origin.empty() && server_->cors_origins_.count(origin) > 0) {
      exchange->origin = std::string(origin);
    }
    const absl::string_view target = View(request.target());
    exchange->target_path = std::string(target.substr(0, target.find('?')));
    exchange->keep_alive = request.keep_alive();
    exchange->version = request.version();
    return exchange;
  }

  void Handle() {
    auto exchange = NewExchange(request_);
    const absl::string_view target = View(request_.target());
    const size_t question = target.find('?');
    const absl::string_view path = target.substr(0, question);
    const absl::string_view query =
        question == absl::string_view::npos ? absl::string_view() : target.substr(question + 1);
    const absl::string_view verb = View(request_.method_string());
    if (path == "/healthz" || path == "/readyz" || path == "/metrics") {
      ServeOwnPath(exchange, path, verb);
      return;
    }
    if (server_->site_ != nullptr && verb == "GET" && path != "/v1" &&
        !absl::StartsWith(path, "/v1/")) {
      ServeStatic(exchange, path);
      return;
    }
    if (verb == "OPTIONS") {
      Preflight(exchange, path);
      return;
    }
    HttpRouter::Match match = server_->router_->Find(verb, path);
    if (match.outcome != HttpRouter::Outcome::kFound) {
      SendNoRoute(exchange, match, verb, path);
      return;
    }
    const HttpRouteInfo& route = *match.route;
    exchange->route = &route;
    exchange->method_label = route.method->path;
    const absl::Time now = absl::Now();
    std::shared_ptr<const Caller> caller = Admit(exchange, route, now);
    if (caller == nullptr) return;
    std::unique_ptr<pb::Message> message(route.request_prototype->New());
    absl::Status built = BuildMessage(route, match, query, *exchange, message.get());
    if (!built.ok()) {
      SendBuildError(exchange, built);
      return;
    }
    absl::StatusOr<absl::Duration> timeout = Timeout();
    if (!timeout.ok()) {
      SendError(exchange, 0, ToGrpcStatus(timeout.status()));
      return;
    }
    CallBackend(std::move(exchange), *message, *caller, now + *timeout);
  }

  // /healthz, /readyz and /metrics: the gateway's own, GET only.
  void ServeOwnPath(const std::shared_ptr<Exchange>& exchange, absl::string_view path,
                    absl::string_view verb) {
    exchange->method_label = std::string(path.substr(1));
    if (verb != "GET") {
      Response response = NewResponse(*exchange, 405);
      response.set(http::field::allow, "GET");
      Finish(exchange, std::move(response),
             grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "GET only"));
      return;
    }
    if (path == "/metrics") {
      Response response = NewResponse(*exchange, 200);
      response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      response.body() = server_->deps_.metrics->Text();
      Finish(exchange, std::move(response), grpc::Status::OK);
      return;
    }
    const bool ready = path == "/healthz" || server_->deps_.backends->AllServing();
    Response response = NewResponse(*exchange, ready ? 200 : 503);
    response.set(http::field::content_type, "application/json");
    response.body() = ready ? R"({"status":"SERVING"})" : R"({"status":"NOT_SERVING"})";
    Finish(exchange, std::move(response),
           ready ? grpc::Status::OK
                 : grpc::Status(grpc::StatusCode::UNAVAILABLE, "a backend is not serving"));
  }

  // The web page's file for `path` (static_files.h), 304 when the client's copy is current.
  void ServeStatic(const std::shared_ptr<Exchange>& exchange, absl::string_view path) {
    exchange->method_label = "static";
    const StaticSite::Answer answer =
        server_->site_->Find(path, Header(request_, http::field::accept_encoding),
                             Header(request_, http::field::if_none_match));
    if (answer.file == nullptr) {
      SendError(exchange, 404,
                grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat("no file ", path)));
      return;
    }
    const StaticFile& file = *answer.file;
    Response response = NewResponse(*exchange, answer.not_modified ? 304 : 200);
    response.set(http::field::etag, answer.gzip ? file.gzip_etag : file.etag);
    response.set(http::field::cache_control, file.cache_control);
    if (!file.gzip_body.empty()) {
      response.set(http::field::vary,
                   exchange->origin.empty() ? "Accept-Encoding" : "Origin, Accept-Encoding");
    }
    if (!answer.not_modified) {
      response.set(http::field::content_type, file.content_type);
      response.set("X-Content-Type-Options", "nosniff");
      if (answer.gzip) response.set(http::field::content_encoding, "gzip");
      response.body() = answer.gzip ? file.gzip_body : file.body;
    }
    Finish(exchange, std::move(response), grpc::Status::OK);
  }

  // No route for the path (404), or none for the method on it (405 with Allow).
  void SendNoRoute(const std::shared_ptr<Exchange>& exchange, const HttpRouter::Match& match,
                   absl::string_view verb, absl::string_view path) {
    if (match.outcome == HttpRouter::Outcome::kNoPath) {
      SendError(exchange, 404,
                grpc::Status(grpc::StatusCode::NOT_FOUND,
                             absl::StrCat("no route for ", verb, " ", path)));
      return;
    }
    const std::string allowed = absl::StrJoin(match.allowed, ", ");
    Response response = ErrorResponse(
        *exchange, 405,
        grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                     absl::StrCat(verb, " is not allowed on ", path, "; allowed: ", allowed)));
    response.set(http::field::allow, allowed);
    Finish(exchange, std::move(response),
           grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "method not allowed"));
  }

  // The gateway's one admission (admission.h), as on the gRPC front. The caller when admitted;
  // otherwise the refusal is sent (401, 403, 429 with Retry-After, 501) and nullptr returned.
  std::shared_ptr<const Caller> Admit(std::shared_ptr<Exchange>& exchange,
                                      const HttpRouteInfo& route, absl::Time now) {
    Admission::Decision decision = server_->deps_.admission->Admit(
        *route.method, Header(request_, http::field::authorization),
        absl::StrCat(route.http_method, " ", route.path_template), now);
    if (decision.caller != nullptr) exchange->actor = decision.caller->actor;
    if (decision.admitted()) return std::move(decision.caller);
    Response response = ErrorResponse(*exchange, 0, decision.status);
    if (decision.retry_after_seconds > 0) {
      response.set(http::field::retry_after, absl::StrCat(decision.retry_after_seconds));
    }
    Finish(exchange, std::move(response), decision.status);
    return nullptr;
  }

  // A body or binding that does not make the request message: 400, or 415 for a body that is
  // not JSON.
  void SendBuildError(const std::shared_ptr<Exchange>& exchange, const absl::Status& built) {
    const int status = built.code() == absl::StatusCode::kUnimplemented ? 415 : 0;
    grpc::Status grpc_status = ToGrpcStatus(built);
    if (status == 415) {
      grpc_status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, grpc_status.error_message(),
                                 grpc_status.error_details());
    }
    SendError(exchange, status, grpc_status);
  }

  // The call's timeout: X-Timeout-Ms (1 to kMaxTimeoutHeaderMs, at most --max_deadline), or the
  // default deadline.
  absl::StatusOr<absl::Duration> Timeout() const {
    const absl::string_view header = Header(request_, "x-timeout-ms");
    if (header.empty()) return server_->options_.default_deadline;
    int ms = 0;
    if (!absl::SimpleAtoi(header, &ms) || ms < 1 || ms > kMaxTimeoutHeaderMs) {
      return InvalidField(
          "X-Timeout-Ms", "range",
          absl::StrCat("must be an integer of milliseconds, 1 to ", kMaxTimeoutHeaderMs));
    }
    return std::min(absl::Milliseconds(ms), server_->options_.max_deadline);
  }

  void CallBackend(std::shared_ptr<Exchange> exchange, const pb::Message& message,
                   const Caller& caller, absl::Time deadline) {
    const HttpRouteInfo& route = *exchange->route;
    const std::string bytes = message.SerializeAsString();
    grpc::Slice slice(bytes);
    exchange->request = grpc::ByteBuffer(&slice, 1);
    exchange->context = std::make_unique<grpc::ClientContext>();
    grpc::ClientContext* context = exchange->context.get();
    context->set_deadline(absl::ToChronoTime(deadline));
    context->AddMetadata(kRequestIdKey, exchange->request_id);
    const absl::string_view traceparent = Header(request_, "traceparent");
    if (IsGoodTraceparent(traceparent)) {
      context->AddMetadata(kTraceparentKey, std::string(traceparent));
    }
    // A without_token method's caller has no principal (admission.h): nothing to send.
    if (!caller.principal_bin.empty()) {
      context->AddMetadata(kPrincipalMetadataKey, caller.principal_bin);
      context->AddMetadata(kPrincipalSignatureMetadataKey, caller.principal_sig);
    }
    {
      absl::MutexLock lock(&server_->mu_);
      server_->in_flight_.insert(context);
    }
    Backend* backend = server_->deps_.backends->Find(route.method->service);
    Exchange* raw = exchange.get();
    backend->stub->UnaryCall(
        context, route.method->path, grpc::StubOptions(), &raw->request, &raw->response,
        [self = shared_from_this(), exchange = std::move(exchange)](grpc::Status status) mutable {
          self->OnBackendDone(std::move(exchange), std::move(status));
        });
  }

  absl::Status BuildMessage(const HttpRouteInfo& route, const HttpRouter::Match& match,
                            absl::string_view query, Exchange& exchange, pb::Message* message) {
    const std::string& body = request_.body();
    const bool has_body = body.find_first_not_of(" \t\r\n") != std::string::npos;
    if (!route.body.empty() && has_body) {
      const absl::string_view type = Header(request_, http::field::content_type);
      if (!type.empty() && !ContainsIgnoreCase(type, "json")) {
        // Marked UNIMPLEMENTED here only to become 415 in Handle.
        return absl::UnimplementedError(
            absl::StrCat("Content-Type \"", type, "\" is not accepted; send application/json"));
      }
      if (route.body_field == nullptr) {
        SHIDANG_RETURN_IF_ERROR(
            MergeJson(server_->resolver_.get(), route.request_type_url, body, message));
      } else {
        pb::Message* field = message->GetReflection()->MutableMessage(message, route.body_field);
        SHIDANG_RETURN_IF_ERROR(MergeJson(
            server_->resolver_.get(),
            absl::StrCat("type.googleapis.com/", route.body_field->message_type()->full_name()),
            body, field));
      }
    }
    for (const auto& [field, raw] : match.bindings) {
      auto value = PercentDecode(raw, false);
      if (!value.ok()) return InvalidField(field, "format", value.status().message());
      SHIDANG_RETURN_IF_ERROR(SetFieldFromText(message, field, *value));
    }
    SHIDANG_RETURN_IF_ERROR(MergeQuery(query, message));
    const absl::string_view key = Header(request_, "idempotency-key");
    if (!key.empty() && route.request_id_field != nullptr &&
        (route.http_method == "POST" || route.http_method == "PATCH") &&
        message->GetReflection()->GetString(*message, route.request_id_field).empty()) {
      message->GetReflection()->SetString(message, route.request_id_field, std::string(key));
    }
    const absl::string_view accept = Header(request_, http::field::accept);
    exchange.wants_csv = ContainsIgnoreCase(accept, "text/csv") && route.Produces("text/csv") &&
                         route.download_field != nullptr;
    if (exchange.wants_csv && route.format_field != nullptr) {
      message->GetReflection()->SetEnum(message, route.format_field, route.format_csv);
    }
    return absl::OkStatus();
  }

  // On a gRPC thread: turns the backend's answer into the HTTP response.
  void OnBackendDone(std::shared_ptr<Exchange> exchange, grpc::Status status) {
    {
      absl::MutexLock lock(&server_->mu_);
      server_->in_flight_.erase(exchange->context.get());
    }
    const HttpRouteInfo& route = *exchange->route;
    if (!status.ok()) {
      // 429 is the rate limiter's alone (a client that sees it slows down for itself). A backend
      // that is out of room, or an answer too large for the channel, is 503: try again later,
      // elsewhere; nothing about this caller's pace.
      const bool unavailable = status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
                               status.error_code() == grpc::StatusCode::UNAVAILABLE;
      Response response = ErrorResponse(
          *exchange, status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ? 503 : 0, status);
      if (unavailable) {
        std::string retry_after = "1";
        const auto& trailers = exchange->context->GetServerTrailingMetadata();
        auto it = trailers.find(kRetryAfterKey);
        int64_t seconds = 0;
        if (it != trailers.end() &&
            absl::SimpleAtoi(absl::string_view(it->second.data(), it->second.size()), &seconds) &&
            seconds > 0) {
          retry_after = absl::StrCat(seconds);
        }
        response.set(http::field::retry_after, retry_after);
      }
      Post(std::move(exchange), std::move(response), std::move(status));
      return;
    }
    const std::string bytes = ByteBufferToString(exchange->response);
    if (exchange->wants_csv) {
      std::unique_ptr<pb::Message> message(route.response_prototype->New());
      if (message->ParseFromString(bytes) &&
          message->GetReflection()->HasField(*message, route.download_field)) {
        const pb::Message& download =
            message->GetReflection()->GetMessage(*message, route.download_field);
        const pb::Descriptor* type = download.GetDescriptor();
        const pb::Reflection* reflection = download.GetReflection();
        const pb::FieldDescriptor* filename = type->FindFieldByName("filename");
        std::string content_type =
            reflection->GetString(download, type->FindFieldByName("content_type"));
        Response response = NewResponse(*exchange, 200);
        response.set(http::field::content_type,
                     content_type.empty() ? "text/csv; charset=utf-8" : content_type);
        response.set(
            http::field::content_disposition,
            ContentDisposition(filename == nullptr ? std::string()
                                                   : reflection->GetString(download, filename)));
        response.body() = reflection->GetString(download, type->FindFieldByName("content"));
        Post(std::move(exchange), std::move(response), grpc::Status::OK);
        return;
      }
    }
    auto json = BinaryToJson(server_->resolver_.get(), route.response_type_url, bytes);
    if (!json.ok()) {
      Response response = ErrorResponse(*exchange, 0, ToGrpcStatus(json.status()));
      Post(std::move(exchange), std::move(response), ToGrpcStatus(json.status()));
      return;
    }
    Response response = NewResponse(*exchange, 200);
    response.set(http::field::content_type, "application/json");
    response.body() = *std::move(json);
    Post(std::move(exchange), std::move(response), grpc::Status::OK);
  }

  void Preflight(const std::shared_ptr<Exchange>& exchange, absl::string_view path) {
    exchange->method_label = "preflight";
    if (exchange->origin.empty()) {
      SendError(exchange, 403,
                grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                             "this origin may not call the API from a browser"));
      return;
    }
    std::vector<std::string> methods;
    for (const char* verb : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
      HttpRouter::Match match = server_->router_->Find(verb, path);
      if (match.outcome == HttpRouter::Outcome::kFound) methods.push_back(verb);
    }
    if (methods.empty()) {
      SendError(exchange, 404,
                grpc::Status(grpc::StatusCode::NOT_FOUND, absl::StrCat("no route for ", path)));
      return;
    }
    Response response = NewResponse(*exchange, 204);
    response.set(http::field::access_control_allow_methods, absl::StrJoin(methods, ", "));
    response.set(http::field::access_control_allow_headers, kAllowHeaders);
    response.set(http::field::access_control_max_age, "600");
    Finish(exchange, std::move(response), grpc::Status::OK);
  }

  Response NewResponse(const Exchange& exchange, int status) {
    Response response(static_cast<http::status>(status), exchange.version);
    response.set(http::field::server, "shidang-gateway");
    response.set("X-Request-Id", exchange.request_id);
    if (!exchange.origin.empty()) {
      response.set(http::field::access_control_allow_origin, exchange.origin);
      response.set(http::field::vary, "Origin");
      response.set(http::field::access_control_expose_headers, kExposeHeaders);
    }
    response.keep_alive(exchange.keep_alive);
    return response;
  }

  // `http_status` 0 = from the gRPC code.
  Response ErrorResponse(const Exchange& exchange, int http_status, const grpc::Status& status) {
    Response response = NewResponse(
        exchange, http_status != 0 ? http_status : HttpStatusFromCode(status.error_code()));
    response.set(http::field::content_type, "application/json");
    if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
      response.set(http::field::www_authenticate, "Bearer");
    }
    response.body() = ErrorJson(status, server_->resolver_.get());
    return response;
  }

  void SendError(const std::shared_ptr<Exchange>& exchange, int http_status,
                 const grpc::Status& status) {
    Response response = ErrorResponse(*exchange, http_status, status);
    Finish(exchange, std::move(response), status);
  }

  // From any thread: hands the response to the connection's strand.
  void Post(std::shared_ptr<Exchange> exchange, Response response, grpc::Status status) {
    net::post(stream_.get_executor(),
              [self = shared_from_this(), exchange = std::move(exchange),
               response = std::move(response), status = std::move(status)]() mutable {
                self->Finish(exchange, std::move(response), status);
              });
  }

  // On the strand: records, logs and writes the response, then reads the next request.
  void Finish(const std::shared_ptr<Exchange>& exchange, Response response,
              const grpc::Status& status) {
    const double seconds = absl::ToDoubleSeconds(absl::Now() - exchange->start);
    const int http_status = static_cast<int>(response.result_int());
    const std::string code = CodeName(status.error_code());
    server_->deps_.metrics->ObserveCall("http", exchange->method_label, code, seconds);
    server_->deps_.metrics->ObserveHttpStatus(http_status);
    if (server_->options_.access_log) {
      LogInfo("http ", View(request_.method_string()), " ", exchange->target_path,
              " rpc=", exchange->method_label, " request_id=", exchange->request_id,
              " actor=", exchange->actor, " status=", http_status, " code=", code,
              " ms=", absl::StrFormat("%.2f", seconds * 1000));
    }
    response_ = std::move(response);
    response_.prepare_payload();
    const bool keep_alive = response_.keep_alive();
    http::async_write(stream_, response_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                        self->OnWrite(ec, keep_alive);
                      });
  }

  void OnWrite(beast::error_code ec, bool keep_alive) {
    if (ec) return;
    if (!keep_alive || server_->stopped_.load()) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      stream_.expires_after(kLingerAfterClose);
      Linger();
      return;
    }
    Read();
  }

  // After the last answer of a connection the client may still be sending (the rest of a body
  // over the limit): closing with its bytes unread would reset the connection, and a client
  // still writing would lose the answer (the 413) with it. So what still comes is read and
  // dropped until the client closes, for kLingerAfterClose at most (nginx's lingering close).
  void Linger() {
    stream_.async_read_some(net::buffer(linger_buffer_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (!ec) self->Linger();
                            });
  }

  Impl* const server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  size_t head_used_ = 0;  // bytes of the request line and headers the parser has taken
  Request request_;
  Response response_;
  std::array<char, size_t{16} * 1024> linger_buffer_;
};

void HttpServer::Impl::Accept() {
  acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      LogWarning("http accept: ", ec.message());
    } else {
      std::make_shared<Session>(this, std::move(socket))->Start();
    }
    if (!stopped_.load()) Accept();
  });
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpOptions options,
                                                              HttpDependencies deps) {
  if (deps.methods == nullptr || deps.backends == nullptr || deps.admission == nullptr ||
      deps.metrics == nullptr) {
    return absl::InvalidArgumentError("the HTTP front needs every dependency");
  }
  if (options.threads < 1 || options.threads > 64) {
    return absl::InvalidArgumentError("--http_threads must be 1 to 64");
  }
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError("--http_port must be 0 to 65535");
  }
  if (options.header_limit < kMinHeaderLimit || options.header_limit > kMaxHeaderLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max_header_bytes must be ", kMinHeaderLimit, " to ", kMaxHeaderLimit));
  }
  auto router = HttpRouter::Build(*deps.methods);
  if (!router.ok()) return router.status();
  std::unique_ptr<StaticSite> site;
  if (!options.web_root.empty()) {
    auto loaded = StaticSite::Load(options.web_root);
    if (!loaded.ok()) return loaded.status();
    site = *std::move(loaded);
  }
  auto impl = std::make_shared<Impl>(std::move(options), deps, *std::move(router), std::move(site));
  absl::Status listening = impl->Listen();
  if (!listening.ok()) return listening;
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

HttpServer::~HttpServer() { Shutdown(absl::ZeroDuration()); }

int HttpServer::port() const { return impl_->port(); }
size_t HttpServer::route_count() const { return impl_->route_count(); }
void HttpServer::Shutdown(absl::Duration grace) { impl_->Shutdown(grace); }

}  // namespace shidang::gateway

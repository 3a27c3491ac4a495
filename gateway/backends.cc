#include "gateway/backends.h"

#include <arpa/inet.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/channel_arguments.h>

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace shidang::gateway {
namespace {

enum class HostKind { kIpv4, kIpv6, kName };

// Splits "host:port" / "[v6]:port"; false when there is no valid port.
bool SplitHostPort(absl::string_view address, absl::string_view* host, HostKind* kind) {
  size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) return false;
  int port = 0;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port <= 0 || port > 65535) {
    return false;
  }
  *host = address.substr(0, colon);
  unsigned char buf[16];
  if (absl::StartsWith(*host, "[") && absl::EndsWith(*host, "]")) {
    std::string inner(host->substr(1, host->size() - 2));
    if (inet_pton(AF_INET6, inner.c_str(), buf) != 1) return false;
    *kind = HostKind::kIpv6;
    return true;
  }
  if (absl::StrContains(*host, ':')) return false;
  *kind =
      inet_pton(AF_INET, std::string(*host).c_str(), buf) == 1 ? HostKind::kIpv4 : HostKind::kName;
  return true;
}

bool HasScheme(absl::string_view address) {
  return absl::StartsWith(address, "dns:") || absl::StartsWith(address, "ipv4:") ||
         absl::StartsWith(address, "ipv6:") || absl::StartsWith(address, "unix:") ||
         absl::StartsWith(address, "unix-abstract:");
}

std::string JsonString(absl::string_view s) {
  // Service and method names are proto identifiers with dots: nothing to escape.
  return absl::StrCat("\"", s, "\"");
}

grpc::ByteBuffer EmptyBuffer() {
  grpc::Slice slice("", 0);
  return grpc::ByteBuffer(&slice, 1);
}

// HealthCheckResponse.status (field 1, enum; SERVING = 1), read without the health protos, which
// Debian does not ship for C++.
bool IsServing(const grpc::ByteBuffer& response) {
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return false;
  std::string bytes;
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  uint32_t status = 0;
  while (uint32_t tag = in.ReadTag()) {
    if (tag == ((1 << 3) | 0)) {
      if (!in.ReadVarint32(&status)) return false;
    } else if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
  return status == 1;
}

}  // namespace

absl::StatusOr<BackendAddresses> ParseBackends(absl::string_view flag) {
  BackendAddresses result;
  for (absl::string_view entry : absl::StrSplit(flag, ';', absl::SkipWhitespace())) {
    entry = absl::StripAsciiWhitespace(entry);
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(entry, absl::MaxSplits('=', 1));
    absl::string_view service = absl::StripAsciiWhitespace(kv.first);
    absl::string_view list = absl::StripAsciiWhitespace(kv.second);
    if (service.empty() || list.empty() || !absl::StrContains(entry, '=')) {
      return absl::InvalidArgumentError(
          absl::StrCat("--backends: entry \"", entry,
                       "\" must be <package.Service>=<host:port>[,<host:port>...] or "
                       "<service>=dns:///name:port"));
    }
    std::vector<std::string> addresses;
    for (absl::string_view address : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
      address = absl::StripAsciiWhitespace(address);
      absl::string_view host;
      HostKind kind;
      if (!HasScheme(address) && !SplitHostPort(address, &host, &kind)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--backends: address \"", address, "\" of ", service,
            " must be host:port (port 1..65535), [ipv6]:port, or a target with a scheme "
            "(dns:///, ipv4:, ipv6:, unix:)"));
      }
      addresses.emplace_back(address);
    }
    if (addresses.size() > 1) {
      for (const std::string& address : addresses) {
        if (HasScheme(address)) {
          return absl::InvalidArgumentError(absl::StrCat("--backends: ", service,
                                                         ": a target with a scheme (", address,
                                                         ") must be the service's only address"));
        }
      }
    }
    if (!result.emplace(std::string(service), std::move(addresses)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("--backends: service ", service, " is listed twice"));
    }
  }
  return result;
}

absl::StatusOr<std::string> ChannelTarget(const std::vector<std::string>& addresses) {
  if (addresses.empty()) return absl::InvalidArgumentError("no address");
  if (addresses.size() == 1 && HasScheme(addresses[0])) return addresses[0];
  std::set<HostKind> kinds;
  for (const std::string& address : addresses) {
    absl::string_view host;
    HostKind kind;
    if (!SplitHostPort(address, &host, &kind)) {
      return absl::InvalidArgumentError(absl::StrCat("address \"", address, "\" is not host:port"));
    }
    kinds.insert(kind);
  }
  if (kinds.size() == 1 && *kinds.begin() == HostKind::kIpv4) {
    return absl::StrCat("ipv4:", absl::StrJoin(addresses, ","));
  }
  if (kinds.size() == 1 && *kinds.begin() == HostKind::kIpv6) {
    return absl::StrCat("ipv6:", absl::StrJoin(addresses, ","));
  }
  if (addresses.size() == 1) return absl::StrCat("dns:///", addresses[0]);
  return absl::InvalidArgumentError(absl::StrCat(
      "addresses ", absl::StrJoin(addresses, ","),
      ": several addresses must all be IPv4 or all IPv6 literals; for host names give one "
      "dns:///name:port that resolves to every replica"));
}

std::string ServiceConfigJson(absl::string_view service,
                              const std::vector<std::string>& idempotent_methods) {
  std::string json = R"({"loadBalancingConfig":[{"round_robin":{}}])";
  if (!idempotent_methods.empty()) {
    std::vector<std::string> names;
    names.reserve(idempotent_methods.size());
    for (const std::string& method : idempotent_methods) {
      names.push_back(absl::StrCat(R"({"service":)", JsonString(service), R"(,"method":)",
                                   JsonString(method), "}"));
    }
    absl::StrAppend(&json, R"(,"methodConfig":[{"name":[)", absl::StrJoin(names, ","),
                    R"(],"retryPolicy":{"maxAttempts":3,"initialBackoff":"0.05s",)",
                    R"("maxBackoff":"0.5s","backoffMultiplier":2,)",
                    R"("retryableStatusCodes":["UNAVAILABLE"]}}])");
  }
  json += "}";
  return json;
}

absl::StatusOr<std::unique_ptr<Backends>> Backends::Create(const BackendAddresses& addresses,
                                                           const MethodTable& methods,
                                                           const BackendOptions& options) {
  std::unique_ptr<Backends> backends(new Backends());
  const auto& known = methods.services();
  for (const auto& [service, list] : addresses) {
    if (!std::binary_search(known.begin(), known.end(), service)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--backends: service ", service,
                       " is not in the descriptor set (known: ", absl::StrJoin(known, ", "), ")"));
    }
    absl::StatusOr<std::string> target = ChannelTarget(list);
    if (!target.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--backends: ", service, ": ", target.status().message()));
    }
    grpc::ChannelArguments args;
    args.SetServiceConfigJSON(ServiceConfigJson(service, methods.IdempotentMethods(service)));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS,
                static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_time)));
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_timeout)));
    // Pings only while calls are in flight: an idle channel that pings would be refused by
    // servers with their default ping policy (GOAWAY too_many_pings).
    args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
    args.SetMaxReceiveMessageSize(options.max_message_bytes);
    args.SetMaxSendMessageSize(options.max_message_bytes);
    // Error details travel in the trailers (grpc-status-details-bin), and an all-or-nothing
    // import names every bad row there: with gRPC's default 8 KiB limit a 1,000-row answer is
    // lost as a transport error. Allowed as large as a message, which is what it describes.
    args.SetInt(GRPC_ARG_MAX_METADATA_SIZE, options.max_message_bytes);
    auto backend = std::make_unique<Backend>();
    backend->service = service;
    backend->target = *target;
    backend->channel = grpc::CreateCustomChannel(*target, grpc::InsecureChannelCredentials(), args);
    backend->stub = std::make_unique<grpc::GenericStub>(backend->channel);
    backends->by_service_.emplace(service, backend.get());
    backends->backends_.push_back(std::move(backend));
  }
  return backends;
}

Backend* Backends::Find(absl::string_view service) const {
  auto it = by_service_.find(service);
  return it == by_service_.end() ? nullptr : it->second;
}

bool Backends::AllServing() const {
  for (const auto& backend : backends_) {
    if (!backend->serving.load(std::memory_order_relaxed)) return false;
  }
  return true;
}

HealthPoller::HealthPoller(Backends* backends, absl::Duration interval, absl::Duration timeout,
                           std::function<void(const Backend&)> on_change)
    : backends_(backends),
      interval_(interval),
      timeout_(timeout),
      on_change_(std::move(on_change)) {
  thread_ = std::thread([this] { Run(); });
}

HealthPoller::~HealthPoller() {
  stop_.Notify();
  thread_.join();
}

void HealthPoller::Run() {
  CheckAll(/*report_all=*/true);
  while (!stop_.WaitForNotificationWithTimeout(interval_)) CheckAll(/*report_all=*/false);
}

void HealthPoller::CheckAll(bool report_all) {
  for (const auto& backend : backends_->all()) {
    const bool serving = Check(*backend);
    const bool before = backend->serving.exchange(serving);
    if (report_all || before != serving) on_change_(*backend);
  }
}

bool HealthPoller::Check(Backend& backend) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  const grpc::ByteBuffer request = EmptyBuffer();  // HealthCheckRequest{service: ""}
  grpc::ByteBuffer response;
  grpc::Status status;
  absl::Notification done;
  backend.stub->UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                          &response, [&](grpc::Status s) {
                            status = std::move(s);
                            done.Notify();
                          });
  done.WaitForNotification();
  return status.ok() && IsServing(response);
}

}  // namespace shidang::gateway

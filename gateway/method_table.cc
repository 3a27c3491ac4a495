#include "gateway/method_table.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor_database.h"

namespace shidang::gateway {
namespace {

namespace pb = google::protobuf;

// Collects the pool's complaints so a bad descriptor set is refused with a message that says why.
class Errors : public pb::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, const std::string& element_name,
                const pb::Message* /*descriptor*/, ErrorLocation /*location*/,
                const std::string& message) override {
    errors_.push_back(absl::StrCat(filename, ": ", element_name, ": ", message));
  }
  std::string Joined() const { return absl::StrJoin(errors_, "; "); }
  bool empty() const { return errors_.empty(); }

 private:
  std::vector<std::string> errors_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<MethodTable>> MethodTable::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("descriptor set ", path, " cannot be read"));
  }
  std::stringstream bytes;
  bytes << in.rdbuf();
  auto table = FromSerializedSet(bytes.str());
  if (!table.ok()) {
    return absl::Status(table.status().code(), absl::StrCat(path, ": ", table.status().message()));
  }
  return table;
}

absl::StatusOr<std::unique_ptr<MethodTable>> MethodTable::FromSerializedSet(
    absl::string_view bytes) {
  pb::FileDescriptorSet set;
  if (!set.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || set.file_size() == 0) {
    return absl::InvalidArgumentError(
        "not a FileDescriptorSet with files (build it with protoc --include_imports "
        "--descriptor_set_out)");
  }
  std::unique_ptr<MethodTable> table(new MethodTable());
  for (const pb::FileDescriptorProto& file : set.file()) {
    table->files_.emplace(file.name(), file);
  }
  // protoc writes dependencies before the files that import them; build in that order and report
  // every error at once.
  for (const pb::FileDescriptorProto& file : set.file()) {
    Errors errors;
    if (table->pool_.BuildFileCollectingErrors(file, &errors) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("descriptor set does not build: ", errors.Joined()));
    }
  }

  std::set<std::string> services;
  std::set<std::string> public_services;
  for (const pb::FileDescriptorProto& file : set.file()) {
    const std::string prefix = file.package().empty() ? "" : absl::StrCat(file.package(), ".");
    for (const pb::ServiceDescriptorProto& service : file.service()) {
      const std::string service_name = absl::StrCat(prefix, service.name());
      services.insert(service_name);
      for (const pb::MethodDescriptorProto& method : service.method()) {
        auto info = std::make_unique<MethodInfo>();
        info->service = service_name;
        info->method = method.name();
        info->path = absl::StrCat("/", service_name, "/", method.name());
        info->client_streaming = method.client_streaming();
        info->server_streaming = method.server_streaming();
        info->descriptor =
            table->pool_.FindMethodByName(absl::StrCat(service_name, ".", method.name()));

        // Re-parse into the generated MethodOptions, whose registry knows our extensions.
        pb::MethodOptions options;
        if (!options.ParseFromString(method.options().SerializeAsString())) {
          return absl::InvalidArgumentError(
              absl::StrCat("options of ", info->path, " do not parse"));
        }
        for (int i = 0; i < options.ExtensionSize(common::v1::roles); ++i) {
          const auto role =
              static_cast<common::v1::Role>(options.GetExtension(common::v1::roles, i));
          if (role == common::v1::ROLE_UNSPECIFIED) {
            return absl::InvalidArgumentError(
                absl::StrCat(info->path, " lists ROLE_UNSPECIFIED in its roles option"));
          }
          info->roles.insert(role);
        }
        info->idempotent = options.GetExtension(common::v1::idempotent);
        info->without_token = options.GetExtension(common::v1::without_token);
        info->has_http = options.HasExtension(common::v1::http);
        if (info->has_http) info->http = options.GetExtension(common::v1::http);
        if (info->is_public()) public_services.insert(service_name);
        table->by_path_.emplace(info->path, info.get());
        table->methods_.push_back(std::move(info));
      }
    }
  }
  table->services_.assign(services.begin(), services.end());
  table->public_services_.assign(public_services.begin(), public_services.end());
  return table;
}

const MethodInfo* MethodTable::Find(absl::string_view path) const {
  auto it = by_path_.find(path);
  return it == by_path_.end() ? nullptr : it->second;
}

std::vector<std::string> MethodTable::IdempotentMethods(absl::string_view service) const {
  std::vector<std::string> names;
  for (const auto& method : methods_) {
    if (method->service == service && method->idempotent) names.push_back(method->method);
  }
  return names;
}

const google::protobuf::FileDescriptorProto* MethodTable::FileProto(absl::string_view name) const {
  auto it = files_.find(name);
  return it == files_.end() ? nullptr : &it->second;
}

}  // namespace shidang::gateway

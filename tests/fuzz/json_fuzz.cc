// The gateway's JSON mapping over arbitrary bodies: the strict check (json_strict.h), then
// protobuf's JSON parser into real request types, then the query-string and path-text setters.
// Each must refuse or accept, never crash or read out of bounds. The first byte picks the type.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gateway/http_transcode.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/type_resolver_util.h"
#include "shidang/profile/v1/profile.pb.h"
#include "shidang/rotation/v1/rotation.pb.h"
#include "shidang/training/v1/training.pb.h"

namespace {

namespace pb = google::protobuf;

const std::vector<const pb::Descriptor*>& Types() {
  static const auto* types = new std::vector<const pb::Descriptor*>{
      shidang::profile::v1::CreateTeacherRequest::descriptor(),
      shidang::profile::v1::UpdateTeacherRequest::descriptor(),
      shidang::profile::v1::AddTimelineEntryRequest::descriptor(),
      shidang::training::v1::RecordCompletionsRequest::descriptor(),
      shidang::training::v1::RegisterCourseRequest::descriptor(),
      shidang::rotation::v1::CreateRotationRequest::descriptor()};
  return *types;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* resolver = new shidang::gateway::CachingTypeResolver(
      std::unique_ptr<pb::util::TypeResolver>(pb::util::NewTypeResolverForDescriptorPool(
          "type.googleapis.com", pb::DescriptorPool::generated_pool())));
  static auto* factory = new pb::DynamicMessageFactory(pb::DescriptorPool::generated_pool());
  if (size == 0) return 0;
  const pb::Descriptor* type = Types()[data[0] % Types().size()];
  const std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  std::unique_ptr<pb::Message> message(factory->GetPrototype(type)->New());
  const std::string url = "type.googleapis.com/" + type->full_name();
  (void)shidang::gateway::MergeJson(resolver, url, body, message.get());
  // The same bytes as a query string and as one path binding's text.
  message->Clear();
  (void)shidang::gateway::MergeQuery(body, message.get());
  (void)shidang::gateway::SetFieldFromText(message.get(), "request_id", body);
  return 0;
}

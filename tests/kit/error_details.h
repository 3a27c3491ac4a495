#pragma once

// What a refused gRPC call says in its details: the field violations of the BadRequest the
// services' edge puts there (services/common/status.h), for tests that check the field and rule.

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "shidang/common/v1/error.pb.h"

namespace shidang::testing {

inline std::vector<common::v1::FieldViolation> FieldViolationsOf(const grpc::Status& s) {
  common::v1::RpcStatus rpc;
  rpc.ParseFromString(s.error_details());
  std::vector<common::v1::FieldViolation> violations;
  for (const google::protobuf::Any& any : rpc.details()) {
    common::v1::BadRequest bad;
    if (!any.UnpackTo(&bad)) continue;
    violations.insert(violations.end(), bad.field_violations().begin(),
                      bad.field_violations().end());
  }
  return violations;
}

// The rule each field violation names ("CAPACITY", ...).
inline std::vector<std::string> RulesOf(const grpc::Status& s) {
  std::vector<std::string> rules;
  for (const common::v1::FieldViolation& v : FieldViolationsOf(s)) rules.push_back(v.rule());
  return rules;
}

// The field and rule of each field violation ("activity.date in_pairing", ...).
inline std::vector<std::string> ViolationsOf(const grpc::Status& s) {
  std::vector<std::string> violations;
  for (const common::v1::FieldViolation& v : FieldViolationsOf(s)) {
    violations.push_back(absl::StrCat(v.field(), " ", v.rule()));
  }
  return violations;
}

}  // namespace shidang::testing

#pragma once

#include <string>
#include <vector>

#include "services/common/jwt.h"

namespace shidang::testing {

// The files a gateway under test reads, written into one directory: a random principal key (the
// backends verify principals with it), a JWT keyset with one random key "k1", and a descriptor set.
struct GatewayTestFiles {
  static GatewayTestFiles Write(const std::string& dir, const std::string& descriptor_set);

  // --principal_key_file, --descriptor_set, --jwt_keys_file, --jwt_issuer, --jwt_audience.
  std::vector<std::string> Flags(const std::string& issuer, const std::string& audience) const;

  std::string principal_key;
  std::string principal_key_path;
  JwtKey jwt_key;
  std::string jwt_keys_path;
  std::string descriptor_path;
};

}  // namespace shidang::testing

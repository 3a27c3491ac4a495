#include "tests/kit/gateway_files.h"

#include "tests/kit/files.h"

namespace shidang::testing {

GatewayTestFiles GatewayTestFiles::Write(const std::string& dir,
                                         const std::string& descriptor_set) {
  GatewayTestFiles files;
  files.principal_key = RandomBytes(32);
  files.principal_key_path = dir + "/principal.key";
  WriteFile(files.principal_key_path, files.principal_key);
  files.jwt_key = JwtKey{"k1", RandomBytes(32)};
  files.jwt_keys_path = dir + "/jwt.keys";
  WriteFile(files.jwt_keys_path, FormatJwtKeyLine(files.jwt_key));
  files.descriptor_path = dir + "/gateway.desc";
  WriteFile(files.descriptor_path, descriptor_set);
  return files;
}

std::vector<std::string> GatewayTestFiles::Flags(const std::string& issuer,
                                                 const std::string& audience) const {
  return {"--principal_key_file=" + principal_key_path, "--descriptor_set=" + descriptor_path,
          "--jwt_keys_file=" + jwt_keys_path, "--jwt_issuer=" + issuer,
          "--jwt_audience=" + audience};
}

}  // namespace shidang::testing

#pragma once

// Test kit: the small file and key helpers tests keep needing (key files for services, reading
// what a process wrote).

#include <cstddef>
#include <string>

namespace shidang::testing {

// The whole file, or "" when it cannot be read.
std::string ReadFile(const std::string& path);
// Writes (replacing) the file; a failure fails the current test.
void WriteFile(const std::string& path, const std::string& bytes);
// n bytes from OpenSSL's generator, e.g. for key files.
std::string RandomBytes(size_t n);

}  // namespace shidang::testing

#include "gateway/static_files.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gateway/http_transcode.h"
#include "services/common/digest.h"

namespace shidang::gateway {

namespace fs = std::filesystem;

namespace {

constexpr char kImmutable[] = "public, max-age=31536000, immutable";
constexpr char kRevalidate[] = "no-cache";

std::string Etag(absl::string_view bytes, absl::string_view suffix) {
  return absl::StrCat("\"", absl::BytesToHexString(Sha256(bytes)).substr(0, 32), suffix, "\"");
}

absl::StatusOr<std::string> ReadWhole(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::InvalidArgumentError(absl::StrCat("--web_root: cannot read ", path.string()));
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// "/a/b.js" for root/a/b.js; the separators are '/' whatever the platform.
std::string UrlPath(const fs::path& root, const fs::path& file) {
  return "/" + file.lexically_relative(root).generic_string();
}

bool AcceptsGzip(absl::string_view accept_encoding) {
  for (absl::string_view part : absl::StrSplit(accept_encoding, ',')) {
    std::vector<absl::string_view> params = absl::StrSplit(part, ';');
    if (absl::AsciiStrToLower(absl::StripAsciiWhitespace(params[0])) != "gzip") continue;
    // "gzip;q=0" refuses it.
    for (size_t i = 1; i < params.size(); ++i) {
      absl::string_view param = absl::StripAsciiWhitespace(params[i]);
      if (absl::ConsumePrefix(&param, "q=") && param.find_first_not_of("0.") == param.npos) {
        return false;
      }
    }
    return true;
  }
  return false;
}

}  // namespace

std::string ContentTypeForPath(absl::string_view path) {
  static const auto* const kTypes = new std::map<std::string, std::string, std::less<>>{
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"ico", "image/x-icon"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"txt", "text/plain; charset=utf-8"},
      {"csv", "text/csv; charset=utf-8"},
  };
  const size_t slash = path.rfind('/');
  const absl::string_view name = slash == path.npos ? path : path.substr(slash + 1);
  const size_t dot = name.rfind('.');
  if (dot == name.npos) return "application/octet-stream";
  auto it = kTypes->find(absl::AsciiStrToLower(name.substr(dot + 1)));
  return it == kTypes->end() ? "application/octet-stream" : it->second;
}

bool IsHashedAssetName(absl::string_view path) {
  const size_t slash = path.rfind('/');
  absl::string_view name = slash == path.npos ? path : path.substr(slash + 1);
  const size_t dot = name.find('.');
  if (dot == name.npos) return false;
  const absl::string_view stem = name.substr(0, dot);
  const size_t dash = stem.rfind('-');
  if (dash == stem.npos) return false;
  const absl::string_view hash = stem.substr(dash + 1);
  if (hash.size() < 8) return false;
  // Bundlers' hashes are upper-case letters and digits (esbuild: base32); a lower-case word
  // ("-dashboard") is a name, not a hash.
  for (char c : hash) {
    if (!absl::ascii_isupper(static_cast<unsigned char>(c)) &&
        !absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

bool EtagMatches(absl::string_view if_none_match, absl::string_view etag) {
  for (absl::string_view candidate : absl::StrSplit(if_none_match, ',')) {
    candidate = absl::StripAsciiWhitespace(candidate);
    if (candidate == "*") return true;
    absl::ConsumePrefix(&candidate, "W/");  // If-None-Match compares weakly (RFC 9110 13.1.2)
    if (candidate == etag) return true;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<StaticSite>> StaticSite::Load(const std::string& root,
                                                             size_t max_bytes) {
  std::error_code ec;
  const fs::path base = fs::canonical(root, ec);
  if (ec || !fs::is_directory(base, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--web_root: \"", root, "\" is not a folder (build the page first)"));
  }
  std::unique_ptr<StaticSite> site(new StaticSite());
  std::map<std::string, std::string> gzipped;  // "/app.js" -> bytes of app.js.gz
  size_t total = 0;
  for (auto it = fs::recursive_directory_iterator(base, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    auto bytes = ReadWhole(it->path());
    if (!bytes.ok()) return bytes.status();
    total += bytes->size();
    if (total > max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("--web_root: the files under \"", root, "\" exceed ", max_bytes, " bytes"));
    }
    std::string path = UrlPath(base, it->path());
    if (absl::EndsWith(path, ".gz")) gzipped[path.substr(0, path.size() - 3)] = *bytes;
    StaticFile file;
    file.content_type = ContentTypeForPath(path);
    file.cache_control = IsHashedAssetName(path) ? kImmutable : kRevalidate;
    file.etag = Etag(*bytes, "");
    file.body = *std::move(bytes);
    site->files_.emplace(std::move(path), std::move(file));
  }
  if (ec) return absl::InvalidArgumentError(absl::StrCat("--web_root: ", ec.message()));
  for (auto& [path, bytes] : gzipped) {
    auto it = site->files_.find(path);
    if (it == site->files_.end()) continue;
    it->second.gzip_etag = Etag(it->second.body, "-gz");
    it->second.gzip_body = std::move(bytes);
  }
  auto index = site->files_.find("/index.html");
  if (index == site->files_.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--web_root: \"", root, "\" holds no index.html (build the page first)"));
  }
  site->index_ = &index->second;
  return site;
}

StaticSite::Answer StaticSite::Find(absl::string_view path, absl::string_view accept_encoding,
                                    absl::string_view if_none_match) const {
  Answer answer;
  auto decoded = PercentDecode(path, false);
  if (!decoded.ok()) return answer;
  const absl::string_view name = *decoded;
  auto it = files_.find(name == "/" ? absl::string_view("/index.html") : name);
  if (it != files_.end()) {
    answer.file = &it->second;
  } else {
    const size_t slash = name.rfind('/');
    const absl::string_view last = slash == name.npos ? name : name.substr(slash + 1);
    if (last.find('.') != last.npos) return answer;
    answer.file = index_;  // one of the app's routes
  }
  answer.gzip = !answer.file->gzip_body.empty() && AcceptsGzip(accept_encoding);
  answer.not_modified =
      !if_none_match.empty() &&
      EtagMatches(if_none_match, answer.gzip ? answer.file->gzip_etag : answer.file->etag);
  return answer;
}

}  // namespace shidang::gateway

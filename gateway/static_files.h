#pragma once

// The web page's files (issue 17), served by the HTTP front from the same origin as /v1/...
//
// The folder (--web_root) is read once at start into memory: the page is a few files the run
// command builds before the gateway starts, and a lookup in a map of the files found there cannot
// be led outside the folder by `..`, `%2e%2e`, symlinks or encodings, whatever the path says.
//
// Per file: its content type from the extension, a strong ETag (SHA-256 of the bytes), and its
// caching: names the bundler hashed (`app-5QJ4ZK2N.js`: a stem ending in `-` and 8 or more
// upper-case letters and digits) are `public, max-age=31536000, immutable`; everything else,
// index.html above all, is `no-cache` (the browser revalidates with If-None-Match and gets 304). A
// file `X.gz` beside `X` is X's gzip encoding, sent to clients that accept gzip. A GET of a path
// that is no file and whose last segment has no dot is one of the app's own routes (/hr/training):
// it answers index.html. A missing file with an extension is 404.

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shidang::gateway {

struct StaticFile {
  std::string content_type;
  std::string cache_control;
  std::string body;
  std::string etag;       // quoted
  std::string gzip_body;  // empty when there is no X.gz
  std::string gzip_etag;  // quoted
};

class StaticSite {
 public:
  // Reads every regular file under `root` (symlinks are skipped). INVALID_ARGUMENT when `root`
  // is not a folder, holds no index.html, or holds more than `max_bytes` in all.
  static absl::StatusOr<std::unique_ptr<StaticSite>> Load(const std::string& root,
                                                          size_t max_bytes = 256 << 20);

  struct Answer {
    const StaticFile* file = nullptr;  // nullptr: 404
    bool gzip = false;                 // send file->gzip_body with Content-Encoding: gzip
    bool not_modified = false;         // If-None-Match matched: 304, no body
  };
  // The answer to `GET path` (the raw path of the request target, percent-encoded, no query).
  Answer Find(absl::string_view path, absl::string_view accept_encoding,
              absl::string_view if_none_match) const;

  size_t file_count() const { return files_.size(); }

 private:
  StaticSite() = default;
  std::map<std::string, StaticFile, std::less<>> files_;  // "/assets/app-X.js" -> file
  const StaticFile* index_ = nullptr;
};

// Exposed for tests.
std::string ContentTypeForPath(absl::string_view path);
bool IsHashedAssetName(absl::string_view path);
bool EtagMatches(absl::string_view if_none_match, absl::string_view etag);

}  // namespace shidang::gateway

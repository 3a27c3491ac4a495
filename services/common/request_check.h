#pragma once

// The checks every request gets before its use case runs, driven by the message's descriptor so
// that a new service's requests get them without code of their own (HandleCall runs them):
//
//   - an enum field holds a value its enum defines (proto3 keeps unknown numbers otherwise);
//   - a string field is at most its kind's length and holds no character its kind refuses.
//
// String kinds and their limits (the one place they are written down):
//
//   kind        fields                                        at most            allows
//   id          `id`, `*_id`, `*_ids`, `etag`                  128 bytes          one line
//   token       `*page_token`                                  1024 bytes         one line
//   multi-line  `description`, `note`, `why`, `reason`,       4000 characters    LF and TAB
//               `*_reason`
//   line        every other string                            256 characters     one line
//
// Refused in every kind: C0 controls (U+0000–U+001F) other than those allowed above, DEL and C1
// controls (U+007F–U+009F), U+FEFF (a byte order mark inside text), the bidi embeddings and
// overrides U+202A–U+202E and isolates U+2066–U+2069 (they make text display other than it
// reads), and in one-line kinds U+2028/U+2029 (line and paragraph separators). `bytes` fields
// (uploads) are not text and are left to their use cases.
//
// A field the naming rule gets wrong goes into kFieldKindOverrides (request_check.cc) by its full
// name; an enum field whose unknown numbers must pass (none today) goes into kOpenEnumFields.

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shidang {

enum class TextKind { kId, kToken, kMultiLine, kLine };

inline constexpr size_t kMaxIdBytes = 128;
inline constexpr size_t kMaxTokenBytes = 1024;
inline constexpr size_t kMaxMultiLineChars = 4000;
inline constexpr size_t kMaxLineChars = 256;

// The kind of a string field (by override, else by its name).
TextKind TextKindOf(const google::protobuf::FieldDescriptor& field);

// OK, or INVALID_ARGUMENT naming every offending field by its path ("teacher.name",
// "rows[2].teacher_id") with what is allowed; at most 10 are named.
absl::Status CheckRequestFields(const google::protobuf::Message& request);

// Why `bytes` does not parse as a `type`: INVALID_ARGUMENT naming the first string field that
// holds invalid UTF-8, or saying the bytes are not such a message at all.
absl::Status ExplainUnparsableRequest(absl::string_view bytes,
                                      const google::protobuf::Descriptor& type);

// The check of one string value of the given kind; `field` names it in the error.
absl::Status CheckText(absl::string_view value, TextKind kind, absl::string_view field);

}  // namespace shidang

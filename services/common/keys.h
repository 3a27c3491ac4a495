#pragma once

// Key-building helpers every service shares. Each service still builds its own key names in its
// store; these only fix the parts that must agree across services: the hash tag that keeps one
// atomic script on one Redis Cluster slot, and the names of the keys the kit itself writes.

#include <string>

#include "absl/strings/string_view.h"

namespace shidang::keys {

// HashTag("c", "110105") -> "{c:110105}": the part of a key Redis Cluster hashes. Keys of one
// county share "{c:<county>}", keys of one course provider "{p:<provider>}" (DESIGN "Data and
// flow").
std::string HashTag(absl::string_view kind, absl::string_view id);

// The part of `key` Redis Cluster hashes to pick its slot: the text between the first '{' and the
// first '}' after it when that is non-empty, otherwise the whole key (CLUSTER KEYSLOT's rule).
// Two keys with equal HashedPart are always in one slot.
absl::string_view HashedPart(absl::string_view key);

// The slot Redis Cluster puts `key` in (CRC16/XMODEM of HashedPart, mod 16384).
int KeySlot(absl::string_view key);

// "<service>:<hash_tag>:events": the service's event stream for the state under that tag.
std::string StreamKey(absl::string_view service, absl::string_view hash_tag);

// "<service>:streams": the set of a service's stream keys that consumers read (see events.h).
// It has no hash tag of state and is never touched from a state script.
std::string StreamIndexKey(absl::string_view service);

}  // namespace shidang::keys

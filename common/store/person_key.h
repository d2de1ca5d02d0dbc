#pragma once

#include <cstddef>
#include <string_view>

#include "common/util/string_hash.h"

namespace gk {

// Names one person's record without building its Redis key: the business unit and either the
// external id (as written) or the email (normalised: trimmed and lower-cased).
struct PersonKey {
  std::string_view bu;
  std::string_view id;
  // person_key_hash(bu, id) when the caller has it already (0: not computed), so that the
  // several probes one message makes for one name hash it once.
  std::size_t hash = 0;
};

// The hash every table and index keyed by a person's name uses.
inline std::size_t person_key_hash(std::string_view bu, std::string_view id) noexcept {
  return string_pair_hash(bu, id);
}

// The key's hash: the one it brings, else computed from its parts.
inline std::size_t hash_of(PersonKey key) noexcept {
  return key.hash != 0 ? key.hash : person_key_hash(key.bu, key.id);
}

}  // namespace gk

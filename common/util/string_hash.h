#pragma once

#include <absl/hash/hash.h>
#include <absl/strings/string_view.h>

#include <cstddef>
#include <string_view>
#include <utility>

namespace gk {

// abseil's own string hash. This abseil's string_view is its own type, not std::string_view,
// so hashing a std::string_view directly falls back to std::hash (libstdc++'s slower
// _Hash_bytes); these go through absl::string_view instead.
inline absl::string_view absl_view(std::string_view s) noexcept {
  return {s.data(), s.size()};
}

inline std::size_t string_hash(std::string_view s) noexcept {
  return absl::Hash<absl::string_view>{}(absl_view(s));
}

// Two strings as one key: ("ab", "c") and ("a", "bc") hash apart.
inline std::size_t string_pair_hash(std::string_view a, std::string_view b) noexcept {
  return absl::Hash<std::pair<absl::string_view, absl::string_view>>{}(
      {absl_view(a), absl_view(b)});
}

}  // namespace gk

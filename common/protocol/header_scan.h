#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gk::header_scan {

// One value the header decoder reads, as the scan found it: its msgpack type and, for a
// string, a view into the frame.
struct Value {
  enum class Kind : std::uint8_t { kAbsent, kNil, kStr, kBool, kMap, kOther };
  Kind kind = Kind::kAbsent;
  std::string_view str;
  bool boolean = false;

  bool absent() const noexcept { return kind == Kind::kAbsent; }
  bool nil() const noexcept { return kind == Kind::kNil; }
  bool is_str() const noexcept { return kind == Kind::kStr; }
};

// The keys read at one level of the header, in the order of `names`; `duplicate` is the
// first of them met a second time (its first value is kept), `id_twice` is kept apart for
// the top level, where the id decides what a decision can carry.
template <std::size_t N>
struct Fields {
  std::array<Value, N> values{};
  const char* duplicate = nullptr;
  bool id_twice = false;
};

inline constexpr std::array<std::string_view, 5> kTopKeys = {"id", "channel", "user", "campaign",
                                                             "to"};
inline constexpr std::array<std::string_view, 3> kUserKeys = {"id", "email", "bu"};
inline constexpr std::array<std::string_view, 4> kCampaignKeys = {"type", "transactional", "id",
                                                                  "topic"};
enum Top { kId, kChannel, kUser, kCampaign, kTo };
enum User { kUserId, kUserEmail, kUserBu };
enum Campaign { kCampaignType, kCampaignTransactional, kCampaignId, kCampaignTopic };

// What one pass over a header frame collects: the root's kind and the fields of the root, of
// the first `user` map and of the first `campaign` map. Nothing else is kept.
struct Scan {
  Value::Kind root = Value::Kind::kAbsent;
  Fields<kTopKeys.size()> top;
  Fields<kUserKeys.size()> user;
  Fields<kCampaignKeys.size()> campaign;
};

// Walks `size` bytes of msgpack once without building an object tree, within the limits
// that bound a hostile frame (containers nested at most 16 deep, at most 1024 elements or
// pairs each). Allocates nothing and keeps no state between frames.
//
// Hand-written rather than msgpack-c's visitor parser: the header is read once per message
// on the hot path, and the generic parser cost more there than everything else the screen
// does (docs/PERFORMANCE.md). tests/support/reference_scan.h keeps the msgpack-c visitor
// version, and the unit tests and the header fuzzer check that both agree on every input.
class Scanner {
 public:
  // False when the bytes are not exactly one msgpack value within the limits.
  bool scan(const char* data, std::size_t size, Scan& out) const noexcept;
};

// Where the value of key `i` of `names` goes in `fields` (none for -1), unless the key was
// met before: then the first value is kept and the duplicate noted (the top-level id apart,
// as it decides what a decision can carry). Shared with the reference.
template <std::size_t N>
Value* claim(Fields<N>& fields, const std::array<std::string_view, N>& names, int i,
             bool top) noexcept {
  if (i < 0) return nullptr;
  if (fields.values[i].absent()) return &fields.values[i];
  if (top && i == kId) {
    fields.id_twice = true;
  } else if (fields.duplicate == nullptr) {
    fields.duplicate = names[i].data();
  }
  return nullptr;
}

// The limits, shared with the reference.
inline constexpr std::size_t kMaxDepth = 16;
inline constexpr std::uint32_t kMaxElements = 1024;

}  // namespace gk::header_scan

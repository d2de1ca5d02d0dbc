#pragma once

// The header scan as msgpack-c's visitor parser does it: the oracle the hand-written
// common/protocol/header_scan.cc is checked against (unit tests, the header fuzzer). Slower,
// and kept only for that. Header-only so the fuzz target can use it without the test libraries.
#include <msgpack.hpp>

#include <exception>

#include "common/protocol/header_scan.h"

namespace gk::test::reference_scan {

using header_scan::Fields;
using header_scan::kCampaign;
using header_scan::kCampaignKeys;
using header_scan::kId;
using header_scan::kMaxDepth;
using header_scan::kMaxElements;
using header_scan::kTopKeys;
using header_scan::kUser;
using header_scan::kUserKeys;
using header_scan::Scan;
using header_scan::Value;

// Which of the scanned maps a container is; everything else is walked and forgotten.
enum class Role : std::uint8_t { kRoot, kUser, kCampaign, kIgnored };

struct Frame {
  Role role = Role::kIgnored;
  bool map = false;
  bool in_key = false;
  Value* target = nullptr;  // where the value of the current pair goes, if it is read
};

class Visitor : public msgpack::null_visitor {
 public:
  // Called by the parser's init(), before each frame.
  void init() { depth_ = 0; }
  void set_output(Scan& out) { out_ = &out; }

  bool visit_nil() { return value({Value::Kind::kNil, {}, false}); }
  bool visit_boolean(bool v) { return value({Value::Kind::kBool, {}, v}); }
  bool visit_positive_integer(std::uint64_t) { return other(); }
  bool visit_negative_integer(std::int64_t) { return other(); }
  bool visit_float32(float) { return other(); }
  bool visit_float64(double) { return other(); }
  bool visit_str(const char* v, std::uint32_t size) {
    return value({Value::Kind::kStr, {v, size}, false});
  }
  bool visit_bin(const char*, std::uint32_t) { return other(); }
  bool visit_ext(const char*, std::uint32_t) { return other(); }

  bool start_array(std::uint32_t n) {
    if (n > kMaxElements || !other()) return false;
    return push(Role::kIgnored, false);
  }
  bool end_array() { return pop(); }

  bool start_map(std::uint32_t n) {
    if (n > kMaxElements) return false;
    // The role of the new map follows from where it stands: the root, or the first value
    // of the root's `user` or `campaign`.
    Role role = Role::kIgnored;
    if (depth_ == 0) {
      role = Role::kRoot;
    } else if (const Frame& parent = frames_[depth_ - 1];
               parent.role == Role::kRoot && !parent.in_key && parent.target != nullptr) {
      if (parent.target == &out_->top.values[kUser]) role = Role::kUser;
      if (parent.target == &out_->top.values[kCampaign]) role = Role::kCampaign;
    }
    if (!value({Value::Kind::kMap, {}, false})) return false;
    return push(role, true);
  }
  bool start_map_key() {
    frames_[depth_ - 1].in_key = true;
    return true;
  }
  bool end_map_key() {
    frames_[depth_ - 1].in_key = false;
    return true;
  }
  bool end_map_value() {
    frames_[depth_ - 1].target = nullptr;
    return true;
  }
  bool end_map() { return pop(); }

 private:
  bool other() { return value({Value::Kind::kOther, {}, false}); }

  bool push(Role role, bool map) {
    if (depth_ >= kMaxDepth) return false;
    frames_[depth_++] = Frame{role, map, false, nullptr};
    return true;
  }
  bool pop() {
    --depth_;
    return true;
  }

  // A value (or the start of a container) at the current position.
  bool value(const Value& v) {
    if (depth_ == 0) {
      out_->root = v.kind;
      return true;
    }
    Frame& f = frames_[depth_ - 1];
    if (f.map && f.in_key) {
      key(f, v);
    } else if (f.target != nullptr) {
      *f.target = v;
    }
    return true;
  }

  // The key's field by a search of the names (the walker spells them out instead).
  template <std::size_t N>
  static Value* claim(Fields<N>& fields, const std::array<std::string_view, N>& names,
                      std::string_view name, bool top) {
    for (std::size_t i = 0; i < N; ++i) {
      if (names[i] == name) return header_scan::claim(fields, names, static_cast<int>(i), top);
    }
    return nullptr;
  }

  // A key: only string keys name the fields read (a binary "id" is another key).
  void key(Frame& f, const Value& k) {
    f.target = nullptr;
    if (!k.is_str()) return;
    switch (f.role) {
      case Role::kRoot:
        f.target = claim(out_->top, kTopKeys, k.str, true);
        break;
      case Role::kUser:
        f.target = claim(out_->user, kUserKeys, k.str, false);
        break;
      case Role::kCampaign:
        f.target = claim(out_->campaign, kCampaignKeys, k.str, false);
        break;
      case Role::kIgnored:
        break;
    }
  }

  Scan* out_ = nullptr;
  std::array<Frame, kMaxDepth> frames_{};
  std::size_t depth_ = 0;
};

// One parse of `size` bytes, as header_scan::Scanner::scan answers it.
inline bool scan(const char* data, std::size_t size, Scan& out) {
  out = Scan{};
  if (size == 0) return false;
  Visitor visitor;
  visitor.set_output(out);
  msgpack::v2::detail::parse_helper<Visitor> helper{visitor};
  helper.init();
  std::size_t offset = 0;
  try {
    return helper.execute(data, size, offset) == msgpack::PARSE_SUCCESS && offset == size;
  } catch (const std::exception&) {
    return false;
  }
}

// Whether two scans read the same: each field's type, the same bytes of the frame for a
// string (an empty one has no position to agree on), the same booleans and duplicates.
inline bool same_value(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  if (a.kind == Value::Kind::kStr) {
    return a.str.size() == b.str.size() && (a.str.empty() || a.str.data() == b.str.data());
  }
  return a.kind != Value::Kind::kBool || a.boolean == b.boolean;
}

template <std::size_t N>
bool same_fields(const Fields<N>& a, const Fields<N>& b) {
  for (std::size_t i = 0; i < N; ++i) {
    if (!same_value(a.values[i], b.values[i])) return false;
  }
  const std::string_view da = a.duplicate ? a.duplicate : "", db = b.duplicate ? b.duplicate : "";
  return da == db && a.id_twice == b.id_twice;
}

inline bool same_scan(const Scan& a, const Scan& b) {
  return a.root == b.root && same_fields(a.top, b.top) && same_fields(a.user, b.user) &&
         same_fields(a.campaign, b.campaign);
}

}  // namespace gk::test::reference_scan

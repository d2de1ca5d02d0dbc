#include "common/protocol/header_scan.h"

#include <msgpack.hpp>

#include <exception>

namespace gk::header_scan {

namespace {

constexpr std::size_t kMaxDepth = 16;
constexpr std::uint32_t kMaxElements = 1024;

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

  template <std::size_t N>
  static Value* claim(Fields<N>& fields, const std::array<std::string_view, N>& names,
                      std::string_view name, bool top) {
    for (std::size_t i = 0; i < N; ++i) {
      if (names[i] != name) continue;
      if (fields.values[i].absent()) return &fields.values[i];
      // Seen before: the first value stays; the duplicate is noted, the id's apart.
      if (top && i == kId) {
        fields.id_twice = true;
      } else if (fields.duplicate == nullptr) {
        fields.duplicate = names[i].data();
      }
      return nullptr;
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

}  // namespace

// msgpack::v2::parse() builds a parser, and with it a std::vector for its stack, per call:
// one allocation per message. The parser it builds is kept here instead and reset per frame.
struct Scanner::Parser {
  Visitor visitor;
  msgpack::v2::detail::parse_helper<Visitor> helper{visitor};
};

Scanner::Scanner() : parser_(std::make_unique<Parser>()) {}
Scanner::~Scanner() = default;

bool Scanner::scan(const char* data, std::size_t size, Scan& out) noexcept {
  out = Scan{};
  if (size == 0) return false;
  parser_->visitor.set_output(out);
  parser_->helper.init();
  std::size_t offset = 0;
  try {
    // Anything but one complete value that ends the frame (insufficient bytes, a parse
    // error, a limit the visitor refused, bytes after the value) is not a header.
    return parser_->helper.execute(data, size, offset) == msgpack::PARSE_SUCCESS && offset == size;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace gk::header_scan

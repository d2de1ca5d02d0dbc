#include "common/protocol/header_scan.h"

#include <cstring>

namespace gk::header_scan {

namespace {

// Which of the scanned maps a container is; everything else is walked and forgotten.
enum class Role : std::uint8_t { kRoot, kUser, kCampaign, kIgnored };

// Compares with a name of known length, so the compiler inlines the comparison.
template <std::size_t N>
bool is(std::string_view key, const char (&name)[N]) noexcept {
  return key.size() == N - 1 && std::memcmp(key.data(), name, N - 1) == 0;
}

// Which of kTopKeys, kUserKeys or kCampaignKeys a key is; -1 for none. The names are
// spelled out so each comparison has a constant length; the asserts keep them the lists'.
static_assert(kTopKeys[kId] == "id" && kTopKeys[kChannel] == "channel" &&
              kTopKeys[kUser] == "user" && kTopKeys[kCampaign] == "campaign" &&
              kTopKeys[kTo] == "to");
static_assert(kUserKeys[kUserId] == "id" && kUserKeys[kUserEmail] == "email" &&
              kUserKeys[kUserBu] == "bu");
static_assert(kCampaignKeys[kCampaignType] == "type" &&
              kCampaignKeys[kCampaignTransactional] == "transactional" &&
              kCampaignKeys[kCampaignId] == "id" && kCampaignKeys[kCampaignTopic] == "topic");

int top_index(std::string_view k) noexcept {
  if (is(k, "id")) return kId;
  if (is(k, "channel")) return kChannel;
  if (is(k, "user")) return kUser;
  if (is(k, "campaign")) return kCampaign;
  if (is(k, "to")) return kTo;
  return -1;
}

int user_index(std::string_view k) noexcept {
  if (is(k, "id")) return kUserId;
  if (is(k, "email")) return kUserEmail;
  if (is(k, "bu")) return kUserBu;
  return -1;
}

int campaign_index(std::string_view k) noexcept {
  if (is(k, "type")) return kCampaignType;
  if (is(k, "transactional")) return kCampaignTransactional;
  if (is(k, "id")) return kCampaignId;
  if (is(k, "topic")) return kCampaignTopic;
  return -1;
}

// A recursive descent over one value; the depth is bounded by kMaxDepth, so is the stack.
class Walker {
 public:
  Walker(const unsigned char* p, const unsigned char* end, Scan& out) noexcept
      : p_(p), end_(end), out_(out) {}

  bool at_end() const noexcept { return p_ == end_; }

  // One value at the cursor; its summary goes to `slot` unless that is null, and a map here
  // takes `role`. `depth`: how many containers enclose it.
  bool value(Value* slot, Role role, std::size_t depth) noexcept {
    if (p_ == end_) return false;
    const unsigned b = *p_++;
    if (b <= 0x7f || b >= 0xe0) return set(slot, Value::Kind::kOther);  // fixint
    if (b <= 0x8f) return map(b & 0x0f, slot, role, depth);
    if (b <= 0x9f) return array(b & 0x0f, slot, depth);
    if (b <= 0xbf) return str(b & 0x1f, slot);
    std::uint32_t n = 0;
    switch (b) {
      case 0xc0:
        return set(slot, Value::Kind::kNil);
      case 0xc2:
      case 0xc3:
        if (slot != nullptr) *slot = Value{Value::Kind::kBool, {}, b == 0xc3};
        return true;
      case 0xc4:  // bin 8, 16, 32
      case 0xc5:
      case 0xc6:
        return length(1u << (b - 0xc4), n) && skip(n) && set(slot, Value::Kind::kOther);
      case 0xc7:  // ext 8, 16, 32: a type byte after the length
      case 0xc8:
      case 0xc9:
        return length(1u << (b - 0xc7), n) && skip(std::size_t{n} + 1) &&
               set(slot, Value::Kind::kOther);
      case 0xca:  // float 32, 64
        return skip(4) && set(slot, Value::Kind::kOther);
      case 0xcb:
        return skip(8) && set(slot, Value::Kind::kOther);
      case 0xcc:  // uint 8..64, int 8..64
      case 0xcd:
      case 0xce:
      case 0xcf:
        return skip(std::size_t{1} << (b - 0xcc)) && set(slot, Value::Kind::kOther);
      case 0xd0:
      case 0xd1:
      case 0xd2:
      case 0xd3:
        return skip(std::size_t{1} << (b - 0xd0)) && set(slot, Value::Kind::kOther);
      case 0xd4:  // fixext 1..16: a type byte, then the data
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        return skip((std::size_t{1} << (b - 0xd4)) + 1) && set(slot, Value::Kind::kOther);
      case 0xd9:  // str 8, 16, 32
      case 0xda:
      case 0xdb:
        return length(1u << (b - 0xd9), n) && str(n, slot);
      case 0xdc:  // array 16, 32
      case 0xdd:
        return length(b == 0xdc ? 2 : 4, n) && array(n, slot, depth);
      case 0xde:  // map 16, 32
      case 0xdf:
        return length(b == 0xde ? 2 : 4, n) && map(n, slot, role, depth);
      default:  // 0xc1: never used
        return false;
    }
  }

 private:
  static bool set(Value* slot, Value::Kind kind) noexcept {
    if (slot != nullptr) *slot = Value{kind, {}, false};
    return true;
  }

  bool skip(std::size_t n) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }

  // A big-endian length of `bytes` (1, 2 or 4) bytes.
  bool length(unsigned bytes, std::uint32_t& n) noexcept {
    if (static_cast<std::size_t>(end_ - p_) < bytes) return false;
    n = 0;
    for (unsigned i = 0; i < bytes; ++i) n = (n << 8) | *p_++;
    return true;
  }

  bool str(std::uint32_t n, Value* slot) noexcept {
    const unsigned char* begin = p_;
    if (!skip(n)) return false;
    if (slot != nullptr) {
      *slot = Value{Value::Kind::kStr, {reinterpret_cast<const char*>(begin), n}, false};
    }
    return true;
  }

  bool array(std::uint32_t n, Value* slot, std::size_t depth) noexcept {
    if (n > kMaxElements) return false;
    set(slot, Value::Kind::kOther);
    if (depth >= kMaxDepth) return false;
    for (std::uint32_t i = 0; i < n; ++i) {
      if (!value(nullptr, Role::kIgnored, depth + 1)) return false;
    }
    return true;
  }

  bool map(std::uint32_t n, Value* slot, Role role, std::size_t depth) noexcept {
    if (n > kMaxElements) return false;
    set(slot, Value::Kind::kMap);
    if (depth >= kMaxDepth) return false;
    for (std::uint32_t i = 0; i < n; ++i) {
      // Only string keys name the fields read (a binary "id" is another key). Nearly every
      // key is a short string: read in place, without the general path.
      Value* target = nullptr;
      if (p_ != end_ && (*p_ & 0xe0) == 0xa0) {
        const std::uint32_t size = *p_++ & 0x1f;
        const auto* name = reinterpret_cast<const char*>(p_);
        if (!skip(size)) return false;
        if (role != Role::kIgnored) target = field(role, {name, size});
      } else {
        Value key;
        if (!value(&key, Role::kIgnored, depth + 1)) return false;
        if (key.is_str()) target = field(role, key.str);
      }
      // The first `user` and `campaign` of the root are the maps read below it.
      Role child = Role::kIgnored;
      if (target == &out_.top.values[kUser]) child = Role::kUser;
      if (target == &out_.top.values[kCampaign]) child = Role::kCampaign;
      if (!value(target, child, depth + 1)) return false;
    }
    return true;
  }

  Value* field(Role role, std::string_view key) noexcept {
    switch (role) {
      case Role::kRoot:
        return claim(out_.top, kTopKeys, top_index(key), true);
      case Role::kUser:
        return claim(out_.user, kUserKeys, user_index(key), false);
      case Role::kCampaign:
        return claim(out_.campaign, kCampaignKeys, campaign_index(key), false);
      case Role::kIgnored:
        break;
    }
    return nullptr;
  }

  const unsigned char* p_;
  const unsigned char* const end_;
  Scan& out_;
};

}  // namespace

bool Scanner::scan(const char* data, std::size_t size, Scan& out) const noexcept {
  out = Scan{};
  if (size == 0) return false;
  const auto* begin = reinterpret_cast<const unsigned char*>(data);
  Walker walker(begin, begin + size, out);
  Value root;
  // Anything but one complete value that ends the frame is not a header.
  const bool ok = walker.value(&root, Role::kRoot, 0);
  out.root = root.kind;
  return ok && walker.at_end();
}

}  // namespace gk::header_scan

// The hand-written header scan against msgpack-c's visitor parser (tests/support/
// reference_scan.h) on generated frames: every msgpack type in every width, the keys the scan
// reads at every level, duplicates, deep and wide containers, then the same frames cut
// short, with a byte changed and with a byte too many. Both must answer alike on each.
#include "common/protocol/header_scan.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/reference_scan.h"

namespace {

using gk::header_scan::Scan;
using gk::header_scan::Value;

// Random msgpack, biased towards what a header holds so the fields are often found.
class Generator {
 public:
  explicit Generator(std::uint64_t seed) : rng_(seed) {}

  std::string frame() {
    out_.clear();
    // Mostly a map at the root, as a header is.
    if (pick(10) < 8) {
      map(0, true);
    } else {
      any(0);
    }
    return out_;
  }

  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }

 private:
  void byte(unsigned b) { out_.push_back(static_cast<char>(b)); }
  void be(std::uint64_t v, unsigned bytes) {
    for (unsigned i = bytes; i-- > 0;) byte(static_cast<unsigned>((v >> (8 * i)) & 0xff));
  }

  // A length prefix in one of the widths that can hold n (the narrowest is not required).
  void head(std::uint32_t n, unsigned fix_base, unsigned fix_max, unsigned w8, unsigned w16,
            unsigned w32) {
    const std::size_t form = pick(4);
    if (form == 0 && n <= fix_max) return byte(fix_base | n);
    if (form == 1 && w8 != 0 && n <= 0xff) return byte(w8), be(n, 1);
    if (form == 2 && n <= 0xffff) return byte(w16), be(n, 2);
    if (form == 3) return byte(w32), be(n, 4);
    if (n <= fix_max) return byte(fix_base | n);
    byte(w32), be(n, 4);
  }

  void str(std::string_view s) {
    head(static_cast<std::uint32_t>(s.size()), 0xa0, 31, 0xd9, 0xda, 0xdb);
    out_.append(s);
  }

  std::string_view key_name() {
    static const std::vector<std::string_view> read = {"id",    "channel", "user", "campaign", "to",
                                                       "email", "bu",      "type", "topic"};
    if (pick(2) == 0) return read[pick(read.size())];
    static const std::vector<std::string_view> names = {
        "id",   "channel", "user",     "campaign",      "to",    "email", "bu",
        "type", "topic",   "realtime", "transactional", "extra", "",      "i",
        "ids",  "users",   "tO",       "campaigns"};
    return names[pick(names.size())];
  }

  // A key; its name when it is a string.
  std::string_view key(std::size_t depth) {
    // Most keys are strings; some are another type, as msgpack allows.
    if (pick(12) != 0) {
      const std::string_view name = key_name();
      str(name);
      return name;
    }
    if (pick(2) == 0) {
      byte(0xc4), be(2, 1), out_.append("id");  // a binary "id"
      return {};
    }
    any(depth + 1);
    return {};
  }

  void map(std::size_t depth, bool header_like) {
    std::uint32_t n = static_cast<std::uint32_t>(pick(header_like ? 9 : 5));
    if (pick(300) == 0) n = 1024 + static_cast<std::uint32_t>(pick(2));  // at and past the limit
    head(n, 0x80, 15, 0, 0xde, 0xdf);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (n > 16) {
        byte(0xc0), byte(0xc0);
        continue;
      }
      const std::string_view name = key(depth);
      // The values of the keys read are often what a header holds there.
      if ((name == "user" || name == "campaign") && pick(2) == 0 && depth < 3) {
        map(depth + 1, true);
      } else if (!name.empty() && name != "user" && name != "campaign" && pick(2) == 0) {
        str(pick(2) == 0 ? std::string_view("someone@example.com") : std::string_view(""));
      } else {
        any(depth + 1);
      }
    }
  }

  void array(std::size_t depth) {
    std::uint32_t n = static_cast<std::uint32_t>(pick(4));
    if (pick(300) == 0) n = 1024 + static_cast<std::uint32_t>(pick(2));
    head(n, 0x90, 15, 0, 0xdc, 0xdd);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (n > 16) {
        byte(0xc0);
      } else {
        any(depth + 1);
      }
    }
  }

  // Any value; containers become rarer with depth but can pass the depth limit.
  void any(std::size_t depth) {
    const std::size_t kind = pick(depth > 20 ? 16 : 19);
    switch (kind) {
      case 0:
        return byte(0xc0);
      case 1:
        return byte(pick(2) == 0 ? 0xc2 : 0xc3);
      case 2:
        return byte(static_cast<unsigned>(pick(128)));
      case 3:
        return byte(0xcc + static_cast<unsigned>(pick(4))), be(rng_(), 1u << (out_.back() & 3));
      case 4:
        return byte(0xd0 + static_cast<unsigned>(pick(4))), be(rng_(), 1u << (out_.back() & 3));
      case 5:
        return byte(0xca), be(rng_(), 4);
      case 6:
        return byte(0xcb), be(rng_(), 8);
      case 7:
      case 8:
      case 9:
        return str(pick(2) == 0 ? key_name() : std::string_view("someone@example.com"));
      case 10: {
        const unsigned w = static_cast<unsigned>(pick(3));
        const std::uint32_t n = static_cast<std::uint32_t>(pick(6));
        byte(0xc4 + w), be(n, 1u << w);
        out_.append(n, 'b');
        return;
      }
      case 11: {
        const unsigned w = static_cast<unsigned>(pick(3));
        const std::uint32_t n = static_cast<std::uint32_t>(pick(6));
        byte(0xc7 + w), be(n, 1u << w), byte(1);
        out_.append(n, 'e');
        return;
      }
      case 12: {
        const unsigned w = static_cast<unsigned>(pick(5));
        byte(0xd4 + w), byte(2);
        out_.append(std::size_t{1} << w, 'f');
        return;
      }
      case 13:
        return byte(0xe0 + static_cast<unsigned>(pick(32)));
      case 14:
        return byte(0xc1);  // never used: invalid
      case 15:
        return str("realtime");
      case 16:
      case 17:
        return map(depth, false);
      default:
        return array(depth);
    }
  }

  std::mt19937_64 rng_;
  std::string out_;
};

// Both scanners on one frame; on success every field read must be the same.
void agree(const std::string& frame, std::size_t& accepted) {
  Scan fast, slow;
  const gk::header_scan::Scanner scanner;
  const bool a = scanner.scan(frame.data(), frame.size(), fast);
  const bool b = gk::test::reference_scan::scan(frame.data(), frame.size(), slow);
  if (a != b) {
    std::string hex;
    for (unsigned char c : frame.substr(0, 200)) {
      static const char* digits = "0123456789abcdef";
      hex += digits[c >> 4];
      hex += digits[c & 15];
    }
    INFO("frame (" << frame.size() << " bytes): " << hex);
    CHECK(a == b);
    return;
  }
  if (!a) return;
  ++accepted;
  CHECK(gk::test::reference_scan::same_scan(fast, slow));
}

}  // namespace

TEST_CASE("header scan: agrees with msgpack-c's parser on generated frames", "[header][scan]") {
  Generator gen(20261201);
  std::size_t accepted = 0, with_user = 0, frames = 0;
  for (int i = 0; i < 30000; ++i) {
    const std::string frame = gen.frame();
    ++frames;
    agree(frame, accepted);
    Scan s;
    if (gk::header_scan::Scanner{}.scan(frame.data(), frame.size(), s) &&
        s.user.values[gk::header_scan::kUserId].is_str()) {
      ++with_user;
    }
    // The same frame cut short, changed in one byte, and with a byte after it.
    if (!frame.empty()) {
      agree(frame.substr(0, gen.pick(frame.size())), accepted);
      std::string changed = frame;
      changed[gen.pick(changed.size())] = static_cast<char>(gen.pick(256));
      agree(changed, accepted);
    }
    agree(frame + '\xc0', accepted);
  }
  // The generator reaches what matters: most frames parse, and many name a user id.
  CHECK(accepted > frames / 2);
  CHECK(with_user > 200);
}

TEST_CASE("header scan: the limits on depth and width", "[header][scan]") {
  const gk::header_scan::Scanner scanner;
  Scan s;
  // 16 nested arrays are allowed, 17 are not.
  for (const std::size_t depth : {16, 17}) {
    std::string frame(depth, '\x91');
    frame.back() = '\x90';
    CHECK(scanner.scan(frame.data(), frame.size(), s) == (depth == 16));
    CHECK(gk::test::reference_scan::scan(frame.data(), frame.size(), s) == (depth == 16));
  }
  // 1024 elements are allowed, 1025 are not.
  for (const std::uint32_t n : {1024u, 1025u}) {
    std::string frame = {'\xdc', static_cast<char>(n >> 8), static_cast<char>(n & 0xff)};
    frame.append(n, '\xc0');
    CHECK(scanner.scan(frame.data(), frame.size(), s) == (n == 1024));
    CHECK(gk::test::reference_scan::scan(frame.data(), frame.size(), s) == (n == 1024));
  }
  // A length that claims more than the frame holds.
  const std::string long_str =
      "\xdb\xff\xff\xff\xff"
      "abc";
  CHECK_FALSE(scanner.scan(long_str.data(), long_str.size(), s));
}

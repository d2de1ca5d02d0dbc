#include "common/store/erasure_hash.h"

#include <openssl/evp.h>

#include <array>
#include <bit>
#include <cstring>

namespace gk {

namespace {

constexpr std::uint64_t rotl(std::uint64_t x, int b) noexcept {
  return (x << b) | (x >> (64 - b));
}

// Little-endian, as SipHash reads its input; one load on the machines we build for.
std::uint64_t load64(const unsigned char* p) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
  } else {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
  }
}

}  // namespace

std::uint64_t siphash24(std::uint64_t k0, std::uint64_t k1, std::string_view data) noexcept {
  std::uint64_t v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1,
                v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
  auto round = [&] {
    v0 += v1;
    v1 = rotl(v1, 13);
    v1 ^= v0;
    v0 = rotl(v0, 32);
    v2 += v3;
    v3 = rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = rotl(v1, 17);
    v1 ^= v2;
    v2 = rotl(v2, 32);
  };
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t n = data.size();
  const std::size_t whole = n - n % 8;
  for (std::size_t i = 0; i < whole; i += 8) {
    const std::uint64_t m = load64(p + i);
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  std::uint64_t last = static_cast<std::uint64_t>(n & 0xff) << 56;
  for (std::size_t i = 0; i < n % 8; ++i) {
    last |= static_cast<std::uint64_t>(p[whole + i]) << (8 * i);
  }
  v3 ^= last;
  round();
  round();
  v0 ^= last;
  v2 ^= 0xff;
  round();
  round();
  round();
  round();
  return v0 ^ v1 ^ v2 ^ v3;
}

TombstoneHasher::TombstoneHasher(std::string_view salt) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  const std::string input = std::string("gatekeeper erasure keys\0", 24) + std::string(salt);
  if (EVP_Digest(input.data(), input.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size < 32) {
    digest.fill(0);
  }
  k0_ = load64(digest.data());
  k1_ = load64(digest.data() + 8);
  k2_ = load64(digest.data() + 16);
  k3_ = load64(digest.data() + 24);
}

void TombstoneHasher::input(std::string_view kind, std::string_view a, std::string_view b) const {
  // NUL separators: no two different (kind, a, b) give the same input (none of the
  // identifiers may hold a control character).
  buffer_.clear();
  buffer_.append(kind).push_back('\0');
  buffer_.append(a).push_back('\0');
  buffer_.append(b);
}

TombstoneId TombstoneHasher::hash(std::string_view kind, std::string_view a,
                                  std::string_view b) const {
  input(kind, a, b);
  return {siphash24(k0_, k1_, buffer_), siphash24(k2_, k3_, buffer_)};
}

std::uint64_t TombstoneHasher::user_hi(std::string_view bu, std::string_view external_id) const {
  input("user", bu, external_id);
  return siphash24(k0_, k1_, buffer_);
}

std::uint64_t TombstoneHasher::address_hi(std::string_view channel,
                                          std::string_view address) const {
  input("address", channel, address);
  return siphash24(k0_, k1_, buffer_);
}

TombstoneId TombstoneHasher::user(std::string_view bu, std::string_view external_id) const {
  return hash("user", bu, external_id);
}

TombstoneId TombstoneHasher::address(std::string_view channel, std::string_view address) const {
  return hash("address", channel, address);
}

std::string TombstoneHasher::hex(const TombstoneId& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (int i = 0; i < 16; ++i) {
    out[15 - i] = kHex[(id.hi >> (4 * i)) & 15];
    out[31 - i] = kHex[(id.lo >> (4 * i)) & 15];
  }
  return out;
}

std::optional<TombstoneId> TombstoneHasher::parse(std::string_view hex) noexcept {
  if (hex.size() != 32) return std::nullopt;
  TombstoneId id;
  for (std::size_t i = 0; i < 32; ++i) {
    const char c = hex[i];
    int d = 0;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    std::uint64_t& half = i < 16 ? id.hi : id.lo;
    half = (half << 4) | static_cast<std::uint64_t>(d);
  }
  return id;
}

std::string tombstone_of_user(std::string_view salt, std::string_view bu,
                              std::string_view external_id) {
  return TombstoneHasher::hex(TombstoneHasher(salt).user(bu, external_id));
}

std::string tombstone_of_address(std::string_view salt, std::string_view channel,
                                 std::string_view address) {
  return TombstoneHasher::hex(TombstoneHasher(salt).address(channel, address));
}

}  // namespace gk

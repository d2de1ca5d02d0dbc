#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/util/timestamp.h"

namespace gk {

// What a one-click unsubscribe link leaves (PROTOCOL.md 10).
enum class LinkScope : std::uint8_t { kChannel = 1, kTopic = 2, kAll = 3 };

// Everything a link carries, sealed inside its token.
struct LinkPayload {
  LinkScope scope = LinkScope::kAll;
  std::string name;  // canonical channel or topic as configured; empty for kAll
  std::string bu;
  std::string external_id;
  std::string email;
  EpochMs issued = 0;  // kept to the second
  friend bool operator==(const LinkPayload&, const LinkPayload&) = default;
};

// The longest token issued; URLs stay short enough for every mail header and client.
inline constexpr std::size_t kMaxTokenChars = 400;

enum class TokenStatus {
  kOk,
  kMalformed,  // not a token at all: wrong characters or length
  kInvalid,    // well-formed, but no secret authenticates it (tampered or unknown)
};

// Seals link payloads into URL-safe tokens and opens them: AES-256-GCM (OpenSSL EVP) under a
// key derived with HKDF-SHA256 from each configured secret, a random 96-bit nonce per token,
// base64url without padding. The first secret seals; every secret opens, so a secret can be
// rotated by putting a new one first and dropping the old one after the links' lifetime.
// Authenticated (any changed character fails the GCM tag, checked in constant time by
// OpenSSL) and confidential (the identity is encrypted). Thread-safe: no shared mutable state.
class TokenCodec {
 public:
  // Throws std::invalid_argument when `secrets` is empty.
  explicit TokenCodec(const std::vector<std::string>& secrets);

  // The token, or "" when the payload does not fit kMaxTokenChars.
  std::string seal(const LinkPayload& payload) const;
  TokenStatus open(std::string_view token, LinkPayload& out) const;

 private:
  using Key = std::array<unsigned char, 32>;
  std::vector<Key> keys_;
};

// base64url without padding, and its strict inverse (false on any other character or a
// length no encoder produces).
std::string base64url_encode(std::string_view bytes);
bool base64url_decode(std::string_view text, std::string& out);

}  // namespace gk

#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace gk {

// The salted hashes that name erasure tombstones (PROTOCOL.md 13): a keyed 128-bit
// SipHash-2-4 (two 64-bit SipHashes under two keys), the keys derived from `erasure.salt` with
// SHA-256, over the kind of identifier and the identifier. SipHash rather than HMAC-SHA256:
// it is a PRF built for short inputs and costs tens of nanoseconds, which the message loop
// pays per identifier whenever any tombstone exists; 128 bits make a collision between the
// few tombstones and the identifiers of all messages negligible. Keyed, so the identifier cannot be
// recovered from the name without the salt; fast (tens of nanoseconds), so the message loop
// can hash a message's identifiers whenever anyone is erased. Two kinds:
//   a full user            user(bu, externalId)
//   an address on channel  address("MAIL", "a@b.c") (stored form); a lead's e-mail and a
//                          header's `user.email` are their MAIL address.
struct TombstoneId {
  std::uint64_t hi = 0, lo = 0;
  friend bool operator==(const TombstoneId&, const TombstoneId&) = default;
};

// Already a keyed hash: its low half is as good a table hash as any.
struct TombstoneIdHash {
  std::size_t operator()(const TombstoneId& t) const noexcept { return t.lo; }
};

class TombstoneHasher {
 public:
  explicit TombstoneHasher(std::string_view salt);

  TombstoneId user(std::string_view bu, std::string_view external_id) const;
  TombstoneId address(std::string_view channel, std::string_view address) const;
  // The first half alone (one SipHash instead of two): what the message loop probes first,
  // since almost every message matches no tombstone.
  std::uint64_t user_hi(std::string_view bu, std::string_view external_id) const;
  std::uint64_t address_hi(std::string_view channel, std::string_view address) const;

  // The 32 hex digits a tombstone key ends with, and back.
  static std::string hex(const TombstoneId& id);
  static std::optional<TombstoneId> parse(std::string_view hex) noexcept;

 private:
  TombstoneId hash(std::string_view kind, std::string_view a, std::string_view b) const;
  // Fills buffer_ with the input of both halves.
  void input(std::string_view kind, std::string_view a, std::string_view b) const;

  std::uint64_t k0_ = 0, k1_ = 0, k2_ = 0, k3_ = 0;
  mutable std::string buffer_;  // reused: hashing allocates nothing once grown
};

// SipHash-2-4 of `data` under the key (k0, k1), as in the reference implementation.
std::uint64_t siphash24(std::uint64_t k0, std::uint64_t k1, std::string_view data) noexcept;

// Hex names, for callers that hash once (the management side).
std::string tombstone_of_user(std::string_view salt, std::string_view bu,
                              std::string_view external_id);
std::string tombstone_of_address(std::string_view salt, std::string_view channel,
                                 std::string_view address);

}  // namespace gk

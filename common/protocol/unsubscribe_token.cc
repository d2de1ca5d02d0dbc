#include "common/protocol/unsubscribe_token.h"

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace gk {

namespace {

constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr unsigned char kVersion = 1;
// Binds the ciphertext to its use: a token of some other feature sealed under the same
// secret cannot pass for a link.
constexpr std::string_view kAad = "gatekeeper unsubscribe link v1";
constexpr std::string_view kHkdfInfo = "gatekeeper unsubscribe link key v1";
constexpr std::string_view kHkdfSalt = "gatekeeper";
constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
  void operator()(EVP_PKEY_CTX* c) const noexcept { EVP_PKEY_CTX_free(c); }
};

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

std::array<unsigned char, 32> derive_key(const std::string& secret) {
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  std::array<unsigned char, 32> key{};
  std::size_t len = key.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), bytes(kHkdfSalt),
                                  static_cast<int>(kHkdfSalt.size())) <= 0 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), bytes(secret), static_cast<int>(secret.size())) <= 0 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), bytes(kHkdfInfo),
                                  static_cast<int>(kHkdfInfo.size())) <= 0 ||
      EVP_PKEY_derive(ctx.get(), key.data(), &len) <= 0 || len != key.size()) {
    throw std::runtime_error("HKDF key derivation failed");
  }
  return key;
}

void put_string(std::string& out, std::string_view s) {
  out.push_back(static_cast<char>(s.size()));
  out.append(s);
}

bool get_string(std::string_view& in, std::string& out) {
  if (in.empty()) return false;
  const auto n = static_cast<unsigned char>(in.front());
  in.remove_prefix(1);
  if (in.size() < n) return false;
  out.assign(in.substr(0, n));
  in.remove_prefix(n);
  return true;
}

// version, scope, issue time (seconds, 5 bytes: good until year 36812), then four short
// strings each behind its one-byte length.
bool serialize(const LinkPayload& p, std::string& out) {
  for (std::string_view s : {std::string_view(p.name), std::string_view(p.bu),
                             std::string_view(p.external_id), std::string_view(p.email)}) {
    if (s.size() > 255) return false;
  }
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(p.scope));
  const std::uint64_t seconds = static_cast<std::uint64_t>(p.issued < 0 ? 0 : p.issued / 1000);
  for (int shift = 32; shift >= 0; shift -= 8) out.push_back(static_cast<char>(seconds >> shift));
  put_string(out, p.name);
  put_string(out, p.bu);
  put_string(out, p.external_id);
  put_string(out, p.email);
  return true;
}

bool deserialize(std::string_view in, LinkPayload& p) {
  if (in.size() < 7 || static_cast<unsigned char>(in[0]) != kVersion) return false;
  const auto scope = static_cast<unsigned char>(in[1]);
  if (scope < 1 || scope > 3) return false;
  p.scope = static_cast<LinkScope>(scope);
  std::uint64_t seconds = 0;
  for (int i = 2; i < 7; ++i) seconds = (seconds << 8) | static_cast<unsigned char>(in[i]);
  p.issued = static_cast<EpochMs>(seconds) * 1000;
  in.remove_prefix(7);
  return get_string(in, p.name) && get_string(in, p.bu) && get_string(in, p.external_id) &&
         get_string(in, p.email) && in.empty();
}

}  // namespace

std::string base64url_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                            (static_cast<unsigned char>(in[i + 1]) << 8) |
                            static_cast<unsigned char>(in[i + 2]);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (const std::size_t rest = in.size() - i; rest > 0) {
    std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    if (rest == 2) out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

bool base64url_decode(std::string_view text, std::string& out) {
  out.clear();
  if (text.size() % 4 == 1) return false;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = -1;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '-')
      v = 62;
    else if (c == '_')
      v = 63;
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // Leftover bits must be zero, so each byte string has exactly one encoding.
  return (acc & ((1U << bits) - 1)) == 0;
}

TokenCodec::TokenCodec(const std::vector<std::string>& secrets) {
  if (secrets.empty()) throw std::invalid_argument("unsubscribe links need at least one secret");
  for (const auto& s : secrets) keys_.push_back(derive_key(s));
}

std::string TokenCodec::seal(const LinkPayload& payload) const {
  std::string plain;
  plain.reserve(64);
  if (!serialize(payload, plain)) return {};
  const std::size_t sealed_bytes = kNonceBytes + plain.size() + kTagBytes;
  if ((sealed_bytes * 4 + 2) / 3 > kMaxTokenChars) return {};
  std::string sealed(kNonceBytes + plain.size() + kTagBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(sealed.data());
  if (RAND_bytes(out, static_cast<int>(kNonceBytes)) != 1) return {};
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int aad_len = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, keys_.front().data(), out) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &aad_len, bytes(kAad), static_cast<int>(kAad.size())) !=
          1 ||
      EVP_EncryptUpdate(ctx.get(), out + kNonceBytes, &len, bytes(plain),
                        static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out + kNonceBytes + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                          out + kNonceBytes + plain.size()) != 1) {
    return {};
  }
  return base64url_encode(sealed);
}

TokenStatus TokenCodec::open(std::string_view token, LinkPayload& out) const {
  if (token.size() > kMaxTokenChars) return TokenStatus::kMalformed;
  std::string sealed;
  if (!base64url_decode(token, sealed) || sealed.size() < kNonceBytes + kTagBytes + 7) {
    return TokenStatus::kMalformed;
  }
  const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  const std::size_t text_len = sealed.size() - kNonceBytes - kTagBytes;
  std::string plain(text_len, '\0');
  auto* plain_out = reinterpret_cast<unsigned char*>(plain.data());
  std::unique_ptr<EVP_CIPHER_CTX, CtxFree> ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return TokenStatus::kInvalid;
  for (const Key& key : keys_) {
    int len = 0;
    int aad_len = 0;
    // GCM checks the tag in EVP_DecryptFinal_ex (CRYPTO_memcmp: constant time).
    std::array<unsigned char, kTagBytes> tag{};
    std::copy(in + kNonceBytes + text_len, in + sealed.size(), tag.begin());
    const bool ok =
        EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), in) == 1 &&
        EVP_DecryptUpdate(ctx.get(), nullptr, &aad_len, bytes(kAad),
                          static_cast<int>(kAad.size())) == 1 &&
        EVP_DecryptUpdate(ctx.get(), plain_out, &len, in + kNonceBytes,
                          static_cast<int>(text_len)) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                            tag.data()) == 1 &&
        EVP_DecryptFinal_ex(ctx.get(), plain_out + len, &len) == 1;
    if (ok) return deserialize(plain, out) ? TokenStatus::kOk : TokenStatus::kInvalid;
  }
  return TokenStatus::kInvalid;
}

}  // namespace gk

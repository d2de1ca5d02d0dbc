#include <catch2/catch.hpp>

#include <set>

#include "common/protocol/unsubscribe_token.h"

using namespace gk;

namespace {

const std::string kSecretA = "first secret, at least thirty-two characters long";
const std::string kSecretB = "second secret, also thirty-two characters or more";

LinkPayload sample() {
  LinkPayload p;
  p.scope = LinkScope::kTopic;
  p.name = "newsletter";
  p.bu = "bu1";
  p.external_id = "customer-4711";
  p.email = "alice@example.com";
  p.issued = 1'790'000'000'000;
  return p;
}

}  // namespace

TEST_CASE("token: base64url round-trips and refuses other alphabets and stray bits", "[links]") {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\xfe", 3)}) {
    std::string back;
    REQUIRE(base64url_decode(base64url_encode(s), back));
    CHECK(back == s);
  }
  std::string out;
  CHECK_FALSE(base64url_decode("ab+/", out));
  CHECK_FALSE(base64url_decode("abc=", out));
  CHECK_FALSE(base64url_decode("a", out));
  CHECK_FALSE(base64url_decode("AB", out));  // "A" then bits that no encoder leaves set
}

TEST_CASE("token: seals, opens, and hides the identity", "[links]") {
  const TokenCodec codec({kSecretA});
  const LinkPayload p = sample();
  const std::string token = codec.seal(p);
  REQUIRE(!token.empty());
  CHECK(token.size() <= kMaxTokenChars);
  CHECK(
      token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
      std::string::npos);
  LinkPayload back;
  REQUIRE(codec.open(token, back) == TokenStatus::kOk);
  CHECK(back == p);
  // A fresh nonce each time: two links for the same person and scope differ.
  CHECK(codec.seal(p) != token);
  // Neither the id nor the email, in any common encoding, is in the token.
  std::string raw;
  REQUIRE(base64url_decode(token, raw));
  for (const std::string& secret :
       {p.external_id, p.email, std::string("alice"), std::string("4711")}) {
    CHECK(token.find(secret) == std::string::npos);
    CHECK(raw.find(secret) == std::string::npos);
    CHECK(token.find(base64url_encode(secret).substr(0, 6)) == std::string::npos);
  }
}

TEST_CASE("token: any changed character at any position makes it invalid", "[links]") {
  const TokenCodec codec({kSecretA});
  const std::string token = codec.seal(sample());
  for (std::size_t i = 0; i < token.size(); ++i) {
    std::string t = token;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    LinkPayload out;
    INFO("position " << i);
    CHECK(codec.open(t, out) != TokenStatus::kOk);
  }
  LinkPayload out;
  CHECK(codec.open(token.substr(0, token.size() - 1), out) != TokenStatus::kOk);
  CHECK(codec.open(token + "A", out) != TokenStatus::kOk);
  CHECK(codec.open("", out) == TokenStatus::kMalformed);
  CHECK(codec.open("not a token!", out) == TokenStatus::kMalformed);
  CHECK(codec.open(std::string(500, 'A'), out) == TokenStatus::kMalformed);
}

TEST_CASE("token: the first secret signs, every secret verifies", "[links]") {
  const TokenCodec old_codec({kSecretA});
  const TokenCodec rotated({kSecretB, kSecretA});
  const TokenCodec retired({kSecretB});
  const std::string old_token = old_codec.seal(sample());
  const std::string new_token = rotated.seal(sample());
  LinkPayload out;
  CHECK(rotated.open(old_token, out) == TokenStatus::kOk);
  CHECK(retired.open(new_token, out) == TokenStatus::kOk);
  CHECK(retired.open(old_token, out) == TokenStatus::kInvalid);
  CHECK(old_codec.open(new_token, out) == TokenStatus::kInvalid);
}

TEST_CASE("token: identities too long for 400 characters are refused, not truncated", "[links]") {
  const TokenCodec codec({kSecretA});
  LinkPayload p = sample();
  p.email = std::string(250, 'x') + "@example.com";
  CHECK(codec.seal(p).empty());
  p.email = std::string(200, 'x') + "@example.com";
  p.external_id = "";
  const std::string token = codec.seal(p);
  REQUIRE(!token.empty());
  CHECK(token.size() <= kMaxTokenChars);
}

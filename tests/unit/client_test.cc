// The C++ sender API's header builder, checked against the gatekeeper's own decoder, and the
// decision decoder of its reader.
#include "common/protocol/client.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

#include "common/protocol/header.h"

namespace {

using gk::HeaderDecoder;
using gk::HeaderStatus;
using gk::MessageHeader;
using gk::client::CampaignType;
using gk::client::Decision;
using gk::client::HeaderBuilder;
using Json = nlohmann::json;

constexpr std::size_t kMaxHeader = 8192;

Json as_json(const std::string& bytes) {
  return Json::from_msgpack(bytes);
}

std::string to_msgpack(const Json& j) {
  const auto bytes = Json::to_msgpack(j);
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

TEST_CASE("client: a full header round-trips through the gatekeeper's decoder", "[client]") {
  const std::string bytes = HeaderBuilder()
                                .id("m-1")
                                .channel("MAIL")
                                .user_id("u-1")
                                .email("Ann@Example.com")
                                .bu("eu")
                                .to("ann@example.com")
                                .campaign("c-1", CampaignType::kRealtime, true)
                                .extra("template", "tpl-9")
                                .build();
  HeaderDecoder decoder(kMaxHeader);
  MessageHeader h;
  REQUIRE(decoder.decode(bytes.data(), bytes.size(), h) == HeaderStatus::kOk);
  CHECK(h.id == "m-1");
  CHECK(h.channel == "MAIL");
  CHECK(h.user_id == "u-1");
  CHECK(h.email == "Ann@Example.com");
  CHECK(h.bu == "eu");
  CHECK(h.to == "ann@example.com");
  CHECK(h.realtime);
  CHECK(h.transactional);
  CHECK(h.realtime_transactional());

  SECTION("every key is a msgpack string or bool, in the protocol's shape") {
    CHECK(as_json(bytes) ==
          Json{{"id", "m-1"},
               {"channel", "MAIL"},
               {"user", {{"id", "u-1"}, {"email", "Ann@Example.com"}, {"bu", "eu"}}},
               {"to", "ann@example.com"},
               {"campaign", {{"id", "c-1"}, {"type", "realtime"}, {"transactional", true}}},
               {"template", "tpl-9"}});
  }
}

TEST_CASE("client: the least header has id, channel and one identity", "[client]") {
  HeaderDecoder decoder(kMaxHeader);
  MessageHeader h;

  SECTION("a lead by email") {
    const std::string bytes = HeaderBuilder().id("m-2").channel("sms").email("x@y.z").build();
    REQUIRE(decoder.decode(bytes.data(), bytes.size(), h) == HeaderStatus::kOk);
    CHECK(h.email == "x@y.z");
    CHECK(h.user_id.empty());
    CHECK_FALSE(h.has_address());
    CHECK(as_json(bytes) ==
          Json{{"id", "m-2"}, {"channel", "sms"}, {"user", {{"email", "x@y.z"}}}});
  }
  SECTION("no campaign means batch, not transactional") {
    const std::string bytes = HeaderBuilder().id("m-3").channel("MAIL").user_id("u").build();
    REQUIRE(decoder.decode(bytes.data(), bytes.size(), h) == HeaderStatus::kOk);
    CHECK_FALSE(h.realtime);
    CHECK_FALSE(h.transactional);
  }
  SECTION("a transactional batch campaign is not realtime") {
    const std::string bytes = HeaderBuilder()
                                  .id("m-4")
                                  .channel("MAIL")
                                  .user_id("u")
                                  .campaign("", CampaignType::kBatch, true)
                                  .build();
    REQUIRE(decoder.decode(bytes.data(), bytes.size(), h) == HeaderStatus::kOk);
    CHECK_FALSE(h.realtime);
    CHECK(h.transactional);
    CHECK_FALSE(as_json(bytes)["campaign"].contains("id"));
  }
}

TEST_CASE("client: extra keys keep their order, a repeated key replaces its value", "[client]") {
  const std::string bytes = HeaderBuilder()
                                .id("m")
                                .channel("MAIL")
                                .user_id("u")
                                .extra("b", "1")
                                .extra("a", "2")
                                .extra("b", "3")
                                .build();
  const Json j = as_json(bytes);
  CHECK(j["b"] == "3");
  CHECK(j["a"] == "2");
  CHECK(j.size() == 5);
  // Same calls, same bytes: a sender can compare or hash headers.
  CHECK(
      bytes ==
      HeaderBuilder().id("m").channel("MAIL").user_id("u").extra("b", "3").extra("a", "2").build());
}

TEST_CASE("client: an incomplete header is refused with the reason", "[client]") {
  SECTION("no id") {
    HeaderBuilder b;
    b.channel("MAIL").user_id("u");
    CHECK(b.problem() == "header needs an id");
    CHECK_THROWS_AS(b.build(), std::invalid_argument);
  }
  SECTION("no channel") {
    CHECK(HeaderBuilder().id("m").user_id("u").problem() == "header needs a channel");
  }
  SECTION("no identity") {
    CHECK(HeaderBuilder().id("m").channel("MAIL").bu("eu").problem() ==
          "header needs a user id or an email");
  }
  SECTION("an extra key named like a protocol key") {
    HeaderBuilder b;
    b.id("m").channel("MAIL").user_id("u").extra("to", "x");
    CHECK_THROWS_WITH(b.build(), "extra key 'to' would shadow the protocol's key");
  }
  SECTION("pack_into skips the check, so tests can build what the gatekeeper must reject") {
    msgpack::sbuffer buffer;
    HeaderBuilder().id("m").channel("MAIL").pack_into(buffer);
    HeaderDecoder decoder(kMaxHeader);
    MessageHeader h;
    CHECK(decoder.decode(buffer.data(), buffer.size(), h) == HeaderStatus::kNoIdentity);
  }
}

TEST_CASE("client: decisions decode with or without detail", "[client]") {
  Decision d;
  SECTION("a suppression") {
    REQUIRE(gk::client::decode_decision(to_msgpack({{"id", "m1"},
                                                    {"verdict", "suppressed"},
                                                    {"reason", "opt_out:MAIL"},
                                                    {"channel", "MAIL"}}),
                                        d));
    CHECK(d.id == "m1");
    CHECK(d.verdict == "suppressed");
    CHECK(d.reason == "opt_out:MAIL");
    CHECK(d.channel == "MAIL");
    CHECK(d.detail.empty());
    CHECK(d.error.empty());
  }
  SECTION("a malformed message, with detail") {
    REQUIRE(gk::client::decode_decision(to_msgpack({{"id", ""},
                                                    {"verdict", "rejected"},
                                                    {"reason", "malformed"},
                                                    {"channel", ""},
                                                    {"detail", "header has no `id`"}}),
                                        d));
    CHECK(d.detail == "header has no `id`");
  }
  SECTION("not msgpack") {
    CHECK_FALSE(gk::client::decode_decision("\xc1", d));
    CHECK_THAT(d.error, Catch::Contains("not msgpack"));
  }
  SECTION("not a map") {
    CHECK_FALSE(gk::client::decode_decision(to_msgpack(Json::array({1, 2})), d));
    CHECK(d.error == "decision frame is not a msgpack map");
  }
  SECTION("no verdict") {
    CHECK_FALSE(gk::client::decode_decision(to_msgpack({{"id", "m"}, {"reason", "x"}}), d));
    CHECK(d.error == "decision map lacks a string verdict or reason");
  }
}

// Regression tests for what the fuzzers (tests/fuzz, scripts/fuzz) and the sanitizer builds
// found, each with the input that showed the bug written out inline.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <string>

#include "common/channels.h"
#include "common/config.h"
#include "common/optout_record.h"
#include "gatekeeper/http_server.h"

namespace {

// `count` channels C0, C1, ... each on an endpoint of its own.
std::string config_with_channels(std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count; ++i) {
    text += "[channels.C" + std::to_string(i) + "]\nendpoint = \"inproc://c" + std::to_string(i) +
            "\"\n";
  }
  return text;
}

}  // namespace

// fuzz_config + UBSan: 65 channels were accepted, and the 65th shifted a 64-bit record by 64
// ("shift exponent 64 is too large", common/optout_record.cc) and counted past the end of
// the per-channel counter table of the message loop.
TEST_CASE("fuzz regression: a config with more channels than a record has bits is refused",
          "[config][fuzz]") {
  SECTION("65 channels are an error naming `channels`") {
    const gk::ConfigResult result = gk::parse_config(config_with_channels(65), "test.toml");
    REQUIRE_FALSE(result.config);
    REQUIRE(result.errors.size() == 1);
    CHECK(result.errors[0].key == "channels");
    CHECK(result.errors[0].message == "at most 64 channels, got 65");
  }
  SECTION("64 channels are accepted and each can carry a status of its own") {
    const gk::ConfigResult result = gk::parse_config(config_with_channels(64), "test.toml");
    REQUIRE(result.config);
    const gk::ChannelRegistry channels(result.config->channels);
    REQUIRE(channels.routable_count() == 64);
    gk::OptOutRecord record;
    gk::apply_status_field(record, channels, "C63", "1");
    CHECK(record.opted_out(63));
    CHECK_FALSE(record.opted_out(0));
  }
}

// fuzz_http: `X-XNG-ApiVersion: 2\xff...` made the 400 answer echo bytes that are not UTF-8;
// nlohmann's dump() threw type_error 316 and the client got a 500 "internal error" instead.
TEST_CASE("fuzz regression: an error message echoing non-UTF-8 request bytes is still JSON",
          "[http][fuzz]") {
  httplib::Response res;
  const std::string message = "unsupported X-XNG-ApiVersion '2\xff\xff\xc3' (supported: 1)";
  REQUIRE_NOTHROW(gk::send_error(res, 400, message));
  CHECK(res.status == 400);
  const auto body = nlohmann::json::parse(res.body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body["error"] == "unsupported X-XNG-ApiVersion '2\uFFFD\uFFFD\uFFFD' (supported: 1)");
}

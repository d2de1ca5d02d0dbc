// Regression tests for what the fuzzers (tests/fuzz, scripts/fuzz) and the sanitizer builds
// found, each with the input that showed the bug written out inline.
#include <catch2/catch.hpp>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/config/config.h"
#include "common/rules/channels.h"
#include "common/rules/optout_record.h"
#include "common/rules/verdict.h"
#include "gatekeeper/admission/pipeline_stats.h"
#include "gatekeeper/http/http_server.h"
#include "gatekeeper/pipeline/message_pipeline.h"

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

// Routes the default logger to a null sink at debug level while it lives, so debug lines are
// formatted (their arguments read) but print nothing, and puts the previous logger back.
class DebugLogsToNowhere {
 public:
  DebugLogsToNowhere() : previous_(spdlog::default_logger()) {
    auto quiet = std::make_shared<spdlog::logger>("quiet-debug",
                                                  std::make_shared<spdlog::sinks::null_sink_mt>());
    quiet->set_level(spdlog::level::debug);
    spdlog::set_default_logger(std::move(quiet));
  }
  ~DebugLogsToNowhere() {
    spdlog::set_default_logger(previous_);
    spdlog::drop("quiet-debug");
  }
  DebugLogsToNowhere(const DebugLogsToNowhere&) = delete;
  DebugLogsToNowhere& operator=(const DebugLogsToNowhere&) = delete;

 private:
  std::shared_ptr<spdlog::logger> previous_;
};

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

// malformed_corpus_e2e_test under ASan: heap-use-after-free in MessagePipeline::reject. The
// header's `channel` (a view into frame 0) was read to pick the counter row after frame 0
// had been handed to ZeroMQ, which frees it once sent; with debug logs, so was `id`. Here the
// message loop runs in process on inproc sockets (no Redis needed for malformed input), with
// debug logs on (to a null sink): under ASan a regression shows as a use-after-free report,
// elsewhere perhaps as a wrong row. TSan does not see it: the free happens inside libzmq.
TEST_CASE("fuzz regression: a malformed message is counted under its channel after it is sent",
          "[pipeline][fuzz]") {
  auto loaded = gk::parse_config(R"(
[ingress]
messages = "inproc://uaf-messages"
events = "inproc://uaf-events"
[egress]
decisions = "inproc://uaf-decisions"
events = "inproc://uaf-system-events"
[channels.MAIL]
endpoint = "inproc://uaf-mail"
[redis]
url = "redis://127.0.0.1:1/0"
)",
                                 "test.toml");
  REQUIRE(loaded.config);
  const gk::Config config = *loaded.config;
  zmq::context_t context(1);
  gk::PipelineStats stats;
  gk::Health health;
  std::atomic<bool> stop{false};
  constexpr std::size_t kCount = 5000;
  // The config's [log] level is applied by the server, not the pipeline: set it here. The
  // null sink also swallows the loop's expected warnings about the absent Redis.
  DebugLogsToNowhere debug_logs;
  {
    gk::MessagePipeline pipeline(config, context, stats, health);
    pipeline.bind();
    zmq::socket_t decisions(context, zmq::socket_type::pull);
    decisions.set(zmq::sockopt::rcvtimeo, 5000);
    decisions.connect(config.egress.decisions);
    zmq::socket_t sender(context, zmq::socket_type::push);
    sender.connect(config.ingress.messages);
    std::thread loop([&] { pipeline.run(stop); });

    // `user` is not a map: malformed, yet `id` and `channel` were read. Frames this long are
    // allocated by ZeroMQ, not kept inline in the message.
    const std::vector<std::uint8_t> bytes = nlohmann::json::to_msgpack(
        {{"id", std::string(100, 'i')}, {"channel", "MAIL"}, {"user", "not-a-map"}});
    const std::string head(bytes.begin(), bytes.end());
    // A reader of its own drops each decision as it comes, so frames are freed while the
    // loop is still busy with the rest of its batch.
    std::size_t received = 0;
    std::thread reader([&] {
      zmq::message_t part;
      while (received < kCount && decisions.recv(part, zmq::recv_flags::none)) {
        if (!part.more()) ++received;
      }
    });
    for (std::size_t i = 0; i < kCount; ++i) {
      (void)sender.send(zmq::buffer(head), zmq::send_flags::none);
    }
    reader.join();
    stop = true;
    loop.join();
    CHECK(received == kCount);
  }
  const auto malformed = static_cast<std::size_t>(gk::Reason::kMalformed);
  CHECK(stats.by_channel_reason[0][malformed].get() == kCount);
  CHECK(stats.by_channel_reason[gk::kMaxChannelTypes][malformed].get() == 0);
}

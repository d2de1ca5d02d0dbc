// gatekeeper-ctl's pure parts: the command-line parser, URL handling, the Prometheus text
// reader and summary, and the JSON shape of decisions and system events.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "gatekeeper/ctl/api_client.h"
#include "gatekeeper/ctl/args.h"
#include "gatekeeper/ctl/metrics_summary.h"
#include "gatekeeper/ctl/wire_json.h"

namespace {

using gk::ctl::CommandSpec;
using gk::ctl::parse_args;
using gk::ctl::UsageError;
using Json = nlohmann::json;

CommandSpec spec() {
  return {"status set",
          {"ID"},
          "Opt a person out.",
          "",
          {{"--channel", "C", "channel"}, {"--opt-out", "", "out"}, {"--count", "N", "how many"}}};
}

std::string msgpack_of(const Json& j) {
  const auto bytes = Json::to_msgpack(j);
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

TEST_CASE("ctl args: options, flags and positionals in any order", "[ctl]") {
  const auto a = parse_args(spec(), {"--opt-out", "bob", "--channel", "MAIL"});
  CHECK(a.positionals() == std::vector<std::string>{"bob"});
  CHECK(a.flag("--opt-out"));
  CHECK(a.value("--channel") == "MAIL");
  CHECK_FALSE(a.value("--count"));
  CHECK(a.integer("--count", 7, 0, 10) == 7);

  SECTION("--name=value and values that start with a dash") {
    const auto b = parse_args(spec(), {"--channel=SMS", "--count", "3", "--", "-odd-id"});
    CHECK(b.value("--channel") == "SMS");
    CHECK(b.integer("--count", 0, 0, 10) == 3);
    CHECK(b.positionals() == std::vector<std::string>{"-odd-id"});
  }
}

TEST_CASE("ctl args: every mistake names what is wrong", "[ctl]") {
  CHECK_THROWS_WITH(parse_args(spec(), {}), "missing ID (see gatekeeper-ctl status set --help)");
  CHECK_THROWS_WITH(parse_args(spec(), {"a", "b"}),
                    "unexpected argument 'b' (see gatekeeper-ctl status set --help)");
  CHECK_THROWS_WITH(parse_args(spec(), {"a", "--colour"}),
                    "unknown option --colour (see gatekeeper-ctl status set --help)");
  CHECK_THROWS_WITH(parse_args(spec(), {"a", "--channel"}),
                    "--channel needs a value (--channel C)");
  CHECK_THROWS_WITH(parse_args(spec(), {"a", "--opt-out=yes"}),
                    Catch::StartsWith("--opt-out takes no value"));
  CHECK_THROWS_WITH(parse_args(spec(), {"a", "--channel", "A", "--channel", "B"}),
                    "--channel is given twice");
  const auto a = parse_args(spec(), {"a", "--count", "x"});
  CHECK_THROWS_AS(a.integer("--count", 0, 0, 10), UsageError);
  CHECK_THROWS_WITH(parse_args(spec(), {"a", "--count", "11"}).integer("--count", 0, 0, 10),
                    "--count must be an integer from 0 to 10, not '11'");
  CHECK_THROWS_WITH(a.required("--channel"),
                    "--channel is required (see gatekeeper-ctl status set --help)");
}

TEST_CASE("ctl args: help lists every option and --help", "[ctl]") {
  const std::string help = gk::ctl::help_text(spec());
  CHECK_THAT(help, Catch::StartsWith("Usage: gatekeeper-ctl status set ID [options]"));
  CHECK_THAT(help, Catch::Contains("  --channel C  channel\n"));
  CHECK_THAT(help, Catch::Contains("  --opt-out    out\n"));
  CHECK_THAT(help, Catch::Contains("  --help       print this text and exit\n"));
}

TEST_CASE("ctl http: base URLs and percent-encoding", "[ctl]") {
  auto base = gk::ctl::parse_base_url("http://127.0.0.1:8080");
  CHECK(base.origin == "http://127.0.0.1:8080");
  CHECK(base.prefix.empty());
  base = gk::ctl::parse_base_url("https://proxy.example.com/gk/");
  CHECK(base.origin == "https://proxy.example.com");
  CHECK(base.prefix == "/gk");
  CHECK_THROWS_AS(gk::ctl::parse_base_url("127.0.0.1:8080"), UsageError);
  CHECK_THROWS_AS(gk::ctl::parse_base_url("http://"), UsageError);

  CHECK(gk::ctl::percent_encode("bob") == "bob");
  CHECK(gk::ctl::percent_encode("a/b c?d&e=f") == "a%2Fb%20c%3Fd%26e%3Df");
  CHECK(gk::ctl::percent_encode("Ann@Ex.com") == "Ann%40Ex.com");
  CHECK(gk::ctl::percent_encode("\xc3\xa9") == "%C3%A9");
}

TEST_CASE("ctl metrics: the Prometheus text format is read sample by sample", "[ctl]") {
  const auto samples = gk::ctl::parse_prometheus_text(
      "# HELP gk_messages_received_total Candidate messages.\n"
      "# TYPE gk_messages_received_total counter\n"
      "gk_messages_received_total 12\n"
      "gk_decisions_total{channel=\"MAIL\",reason=\"opt_out:MAIL\",verdict=\"suppressed\"} 3\r\n"
      "gk_latency_bucket{le=\"+Inf\",odd=\"a\\\"}b\"} 5 1700000000000\n"
      "\n"
      "broken{unclosed=\"x 1\n"
      "gk_nan NaN\n");
  REQUIRE(samples.size() == 4);
  CHECK(samples[0].name == "gk_messages_received_total");
  CHECK(samples[0].value == 12);
  CHECK(samples[1].labels.at("reason") == "opt_out:MAIL");
  CHECK(samples[1].value == 3);
  CHECK(samples[2].labels.at("odd") == "a\"}b");
  CHECK(samples[2].value == 5);
  CHECK(samples[3].name == "gk_nan");
}

TEST_CASE("ctl metrics: the summary adds up families and shows what is missing", "[ctl]") {
  const auto samples = gk::ctl::parse_prometheus_text(
      "gk_messages_received_total 10\n"
      "gk_messages_forwarded_total 6\n"
      "gk_messages_suppressed_total 3\n"
      "gk_messages_rejected_total 1\n"
      "gk_messages_held 0\n"
      "gk_decisions_total{channel=\"MAIL\",reason=\"\",verdict=\"forwarded\"} 6\n"
      "gk_decisions_total{channel=\"MAIL\",reason=\"opt_out:MAIL\",verdict=\"suppressed\"} 2\n"
      "gk_decisions_total{channel=\"SMS\",reason=\"blacklisted\",verdict=\"suppressed\"} 1\n"
      "gk_decisions_total{channel=\"\",reason=\"unknown_channel\",verdict=\"rejected\"} 1\n"
      "gk_cache_hits_total 3\n"
      "gk_cache_misses_total 1\n"
      "gk_redis_up 1\n"
      "gk_decision_latency_seconds_bucket{le=\"+Inf\"} 100\n"
      "gk_decision_latency_seconds_bucket{le=\"0.0005\"} 90\n"
      "gk_decision_latency_seconds_bucket{le=\"0.001\"} 100\n"
      "gk_decision_latency_seconds_count 100\n"
      "gk_config_reloads_total 2\n");
  const Json s = gk::ctl::summarize_metrics(samples);
  CHECK(s["messages"]["received"] == 10);
  CHECK(s["messages"]["backlog"].is_null());
  CHECK(s["reasons"] == Json{{"opt_out:MAIL", 2}, {"blacklisted", 1}, {"unknown_channel", 1}});
  CHECK(s["cache"]["hit_ratio"] == 0.75);
  CHECK(s["redis"]["up"] == true);
  CHECK(s["redis"]["errors"].is_null());
  CHECK(s["latency"]["decision_p99_le_seconds"] == 0.001);
  CHECK(s["latency"]["redis_p99_le_seconds"].is_null());
  CHECK(s["config"]["reloads"] == 2);

  const std::string text = gk::ctl::format_summary(s);
  CHECK_THAT(text, Catch::Contains("received 10  forwarded 6  suppressed 3  rejected 1  held 0  "
                                   "backlog n/a"));
  CHECK_THAT(text, Catch::Contains("hit ratio 75.0% (hits 3, misses 1)"));
  CHECK_THAT(text, Catch::Contains("redis     up"));
  CHECK_THAT(text, Catch::Contains("99% of decisions within 1ms, of Redis round trips within n/a"));
  CHECK_THAT(text, Catch::Contains("config    reloads 2  failed n/a"));

  SECTION("no lookups yet: no ratio; Redis down is loud") {
    const Json quiet = gk::ctl::summarize_metrics(gk::ctl::parse_prometheus_text(
        "gk_cache_hits_total 0\ngk_cache_misses_total 0\ngk_redis_up 0\n"));
    CHECK(quiet["cache"]["hit_ratio"].is_null());
    CHECK_THAT(gk::ctl::format_summary(quiet), Catch::Contains("redis     DOWN"));
  }
}

TEST_CASE("ctl tail: decisions and system events become JSON objects", "[ctl]") {
  gk::client::Decision d;
  d.id = "m1";
  d.verdict = "rejected";
  d.reason = "malformed";
  d.detail = "header has no `channel`";
  d.frames = {msgpack_of({{"id", "m1"}}), "payload"};
  Json j = gk::ctl::decision_json(d);
  CHECK(j["detail"] == "header has no `channel`");
  CHECK(j["header"] == Json{{"id", "m1"}});
  CHECK(j["payload_bytes"] == 7);

  d.frames = {"\xc1 not msgpack"};
  j = gk::ctl::decision_json(d);
  CHECK(j["header_bytes"] == 13);
  CHECK_FALSE(j.contains("header"));
  CHECK(j["payload_bytes"] == 0);

  const Json event = {{"event", "Opt Out"}, {"id", "bob"}, {"channel.type", "MAIL"}};
  CHECK(gk::ctl::system_event_json({"Opt Out", msgpack_of(event)}) == event);
  const Json bad = gk::ctl::system_event_json({"Opt Out", "\xc1"});
  CHECK(bad["topic"] == "Opt Out");
  CHECK(bad.contains("error"));
}

// GET /metrics after real traffic, checked by Prometheus's own tools: `promtool check metrics`
// lints the page, and a real Prometheus server on a loopback port scrapes it. Both come with
// the Debian package `prometheus` (scripts/setup installs it); without them the checks are
// skipped with a warning and the families are still asserted.
#include <httplib.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>

#include "gatekeeper/ctl/api_client.h"
#include "gatekeeper/ctl/metrics_summary.h"
#include "tests/support/ports.h"
#include "tests/support/process.h"
#include "tests/support/rig.h"
#include "tests/support/skip.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kPromtool = "/usr/bin/promtool";
constexpr const char* kPrometheus = "/usr/bin/prometheus";

// The value of the one sample of `name` whose labels include `labels`; NaN when none.
double sample(const std::vector<gk::ctl::Sample>& samples, const std::string& name,
              const std::map<std::string, std::string>& labels = {}) {
  for (const auto& s : samples) {
    if (s.name != name) continue;
    const bool match = std::all_of(labels.begin(), labels.end(), [&](const auto& kv) {
      const auto it = s.labels.find(kv.first);
      return it != s.labels.end() && it->second == kv.second;
    });
    if (match) return s.value;
  }
  return std::nan("");
}

// Traffic with every kind of outcome and one API write, then the page.
std::string traffic_and_scrape(Rig& rig) {
  rig.redis.hset("gk:u::opted", "MAIL", "1");
  rig.sender->send(header("fwd-1", "MAIL", {{"id", "u1"}}, {{"to", "a@x"}}), "p");
  rig.sender->send(header("fwd-2", "SMS", {{"id", "u1"}}, {{"to", "+1"}}), "p");
  rig.sender->send(header("sup", "MAIL", {{"id", "opted"}}, {{"to", "a@x"}}), "p");
  rig.sender->send(header("noaddr", "SMS", {{"id", "u2"}}), "p");
  rig.sender->send(Frames{"\xc1", "p"});
  REQUIRE(rig.collect(5).size() == 5);

  httplib::Client api("127.0.0.1", rig.opts.http_port);
  auto put =
      api.Put("/users/u3/optout-status?channelType=SMS", {{"X-XNG-AuthToken", rig.opts.auth_token}},
              R"({"optOut": true})", "application/json");
  REQUIRE(put);
  CHECK(put->status == 200);

  // An adapter can hold a message before the loop has counted it: the counters follow the
  // send. Every message is in the latency histogram once the loop has finished with it.
  HttpAnswer page;
  const bool counted = eventually([&] {
    page = http_get(rig.opts.http_port, "/metrics");
    return page.status == 200 && sample(gk::ctl::parse_prometheus_text(page.body),
                                        "gk_decision_latency_seconds_count") == 5;
  });
  INFO(page.body);
  REQUIRE(counted);
  return page.body;
}

}  // namespace

TEST_CASE("e2e metrics: the page after traffic passes promtool and holds the families",
          "[e2e][metrics]") {
  Rig rig;
  rig.start();
  const std::string page = traffic_and_scrape(rig);
  INFO(page);

  const auto samples = gk::ctl::parse_prometheus_text(page);
  CHECK(sample(samples, "gk_messages_received_total") == 5);
  CHECK(sample(samples, "gk_messages_forwarded_total") == 2);
  CHECK(sample(samples, "gk_messages_suppressed_total") == 1);
  CHECK(sample(samples, "gk_messages_rejected_total") == 2);
  CHECK(sample(samples, "gk_messages_held") == 0);
  CHECK(sample(samples, "gk_decisions_total",
               {{"channel", "MAIL"}, {"reason", "opt_out:MAIL"}, {"verdict", "suppressed"}}) == 1);
  CHECK(sample(samples, "gk_decisions_total",
               {{"channel", "SMS"}, {"reason", "no_address"}, {"verdict", "rejected"}}) == 1);
  CHECK(sample(samples, "gk_decisions_total", {{"reason", "malformed"}}) == 1);
  CHECK(sample(samples, "gk_decisions_total", {{"channel", "SMS"}, {"verdict", "forwarded"}}) == 1);
  CHECK(sample(samples, "gk_redis_up") == 1);
  CHECK(sample(samples, "gk_cache_misses_total") >= 1);
  CHECK(sample(samples, "gk_status_changes_total", {{"source", "api"}}) == 1);
  CHECK(sample(samples, "gk_http_requests_total", {{"status", "200"}}) >= 1);
  // Histograms: one decision latency per message, Redis round trips for the misses.
  CHECK(sample(samples, "gk_decision_latency_seconds_count") == 5);
  CHECK(sample(samples, "gk_decision_latency_seconds_bucket", {{"le", "+Inf"}}) == 5);
  CHECK(sample(samples, "gk_redis_round_trip_seconds_count") >= 1);
  CHECK(sample(samples, "gk_config_reloads_total") == 0);
  CHECK(sample(samples, "gk_config_reload_failures_total") == 0);
  // Every family says what it is: promtool would flag a sample without HELP and TYPE.
  CHECK_THAT(page, Catch::Contains("# TYPE gk_messages_received_total counter"));
  CHECK_THAT(page, Catch::Contains("# TYPE gk_messages_held gauge"));
  CHECK_THAT(page, Catch::Contains("# TYPE gk_decision_latency_seconds histogram"));

  if (!prerequisite(std::filesystem::exists(kPromtool),
                    std::string(kPromtool) +
                        " is absent, the promtool check did not run (Debian package "
                        "prometheus; scripts/setup)")) {
    return;
  }
  TempDir dir;
  const std::string file = dir.write("metrics.txt", page);
  // promtool reads the page on stdin; a shell connects the file to it.
  Process promtool({"/bin/sh", "-c", std::string(kPromtool) + R"( check metrics < "$0")", file},
                   dir.file("promtool.log"));
  const auto status = promtool.wait(30s);
  INFO("promtool check metrics:\n" << promtool.log());
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK(promtool.log().empty());
}

TEST_CASE("e2e metrics: a real Prometheus server scrapes the gatekeeper", "[e2e][metrics]") {
  if (!prerequisite(
          std::filesystem::exists(kPrometheus),
          std::string(kPrometheus) + " is absent (Debian package prometheus; scripts/setup)")) {
    return;
  }
  Rig rig;
  rig.start();
  traffic_and_scrape(rig);

  TempDir dir;
  const int port = free_port();
  const std::string config = dir.write("prometheus.yml",
                                       "global:\n"
                                       "  scrape_interval: 1s\n"
                                       "  scrape_timeout: 1s\n"
                                       "scrape_configs:\n"
                                       "  - job_name: gatekeeper\n"
                                       "    static_configs:\n"
                                       "      - targets: ['127.0.0.1:" +
                                           std::to_string(rig.opts.http_port) + "']\n");
  Process prometheus(
      {kPrometheus, "--config.file=" + config, "--storage.tsdb.path=" + dir.file("data"),
       "--web.listen-address=127.0.0.1:" + std::to_string(port)},
      dir.file("prometheus.log"));

  // The value Prometheus stored for an instant query, once it has one.
  auto query = [&](const std::string& promql) -> std::optional<std::string> {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(1, 0);
    auto res = client.Get("/api/v1/query?query=" + gk::ctl::percent_encode(promql));
    if (!res || res->status != 200) return std::nullopt;
    const json body = json::parse(res->body, nullptr, false);
    if (body.is_discarded() || body["data"]["result"].empty()) return std::nullopt;
    return body["data"]["result"][0]["value"][1].get<std::string>();
  };
  INFO(prometheus.log());
  CHECK(eventually([&] { return query("up{job=\"gatekeeper\"}") == "1"; }, 60s, 250ms));
  CHECK(eventually([&] { return query("gk_messages_received_total") == "5"; }, 30s, 250ms));
  CHECK(eventually(
      [&] {
        return query("sum(gk_decisions_total{verdict=\"suppressed\",reason=\"opt_out:MAIL\"})") ==
               "1";
      },
      30s, 250ms));

  // The scrape itself reported no problem (a page Prometheus cannot parse marks it down).
  httplib::Client client("127.0.0.1", port);
  auto targets = client.Get("/api/v1/targets");
  REQUIRE(targets);
  const json t = json::parse(targets->body);
  REQUIRE(t["data"]["activeTargets"].size() == 1);
  CHECK(t["data"]["activeTargets"][0]["health"] == "up");
  CHECK(t["data"]["activeTargets"][0]["lastError"] == "");
}

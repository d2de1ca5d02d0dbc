#include <catch2/catch.hpp>

#include <string>

#include "gatekeeper/metrics.h"

namespace {

gk::ChannelConfig channel(std::string name) {
  gk::ChannelConfig c;
  c.name = std::move(name);
  c.endpoint = "inproc://" + c.name;
  return c;
}

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

}  // namespace

TEST_CASE("metrics: every statistic of the message loop is exported under its own name") {
  gk::PipelineStats stats;
  gk::Health health;
  const gk::ChannelRegistry channels({channel("MAIL")});
  std::uint64_t value = 1000;
  for (const gk::ScalarStat& stat : gk::kPipelineScalars) (stats.*stat.member).set(value++);

  const std::string text = gk::Metrics(stats, health, channels).render();

  value = 1000;
  for (const gk::ScalarStat& stat : gk::kPipelineScalars) {
    INFO(stat.name);
    const std::string type = stat.kind == gk::StatKind::kCounter ? "counter" : "gauge";
    CHECK(has_line(text, "# TYPE " + std::string(stat.name) + " " + type));
    CHECK(has_line(text, std::string(stat.name) + " " + std::to_string(value++)));
  }
  CHECK(text.find("# TYPE gk_decision_latency_seconds histogram") != std::string::npos);
  CHECK(text.find("# TYPE gk_redis_round_trip_seconds histogram") != std::string::npos);
  CHECK(has_line(text, "gk_redis_up 0"));
}

TEST_CASE("metrics: topic reasons count as suppressed, message problems as rejected") {
  gk::PipelineStats stats;
  gk::Health health;
  const gk::ChannelRegistry channels({channel("MAIL")});
  auto& mail = stats.by_channel_reason[0];
  mail[static_cast<std::size_t>(gk::Reason::kOptOutTopic)].add(3);
  mail[static_cast<std::size_t>(gk::Reason::kNotSubscribedTopic)].add(4);
  mail[static_cast<std::size_t>(gk::Reason::kUnknownTopic)].add(5);

  const std::string text = gk::Metrics(stats, health, channels).render();

  CHECK(has_line(
      text, R"(gk_decisions_total{channel="MAIL",reason="opt_out:topic",verdict="suppressed"} 3)"));
  CHECK(has_line(
      text,
      R"(gk_decisions_total{channel="MAIL",reason="not_subscribed:topic",verdict="suppressed"} 4)"));
  CHECK(has_line(
      text, R"(gk_decisions_total{channel="MAIL",reason="unknown_topic",verdict="rejected"} 5)"));
}

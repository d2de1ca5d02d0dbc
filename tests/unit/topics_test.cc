#include <catch2/catch.hpp>

#include "common/config/config.h"
#include "common/rules/decide.h"
#include "common/rules/optout_record.h"

using namespace gk;

namespace {

ChannelRegistry registry() {
  return ChannelRegistry({ChannelConfig{"MAIL", {}, "tcp://127.0.0.1:1", true, 1},
                          ChannelConfig{"SMS", {}, "tcp://127.0.0.1:2", true, 1}},
                         {TopicConfig{"news", TopicDefault::kSubscribed, {}},
                          TopicConfig{"Promo", TopicDefault::kUnsubscribed, {}},
                          TopicConfig{"legal", TopicDefault::kRequired, {"SMS"}}});
}

}  // namespace

TEST_CASE("topics: stored fields become bits, explicit 0 differs from absent", "[topics]") {
  const auto r = registry();
  OptOutRecord rec;
  apply_status_field(rec, r, "topic:news", "1");
  apply_status_field(rec, r, "topic:PROMO", "0");
  apply_status_field(rec, r, "topic:news:ts", "123");
  apply_status_field(rec, r, "topic:unknown", "1");
  CHECK(rec.left_topic(0));
  CHECK_FALSE(rec.joined_topic(0));
  CHECK(rec.joined_topic(1));
  CHECK_FALSE(rec.left_topic(1));
  CHECK_FALSE(rec.left_topic(2));
  CHECK_FALSE(rec.joined_topic(2));
  apply_status_field(rec, r, "topic:news", "0");
  CHECK_FALSE(rec.left_topic(0));
  CHECK(rec.joined_topic(0));
  CHECK(rec.channels == 0);
}

TEST_CASE("topics: merging records, leaving wins over joining", "[topics]") {
  OptOutRecord user;
  OptOutRecord lead;
  user.topics_in = 1;   // joined topic 0
  lead.topics_out = 1;  // left topic 0
  user |= lead;
  DecisionInput in;
  in.channel_known = true;
  in.has_address = true;
  in.has_topic = true;
  in.topic_known = true;
  in.topic_index = 0;
  in.topic_default = TopicDefault::kUnsubscribed;
  in.status = &user;
  CHECK(decide(in) == Verdict{Action::kSuppress, Reason::kOptOutTopic});
}

TEST_CASE("topics: channel restriction and case-insensitive names", "[topics]") {
  const auto r = registry();
  REQUIRE(r.topics().find("PROMO") == std::optional<std::size_t>(1));
  CHECK_FALSE(r.topics().find("promo ").has_value());
  CHECK(r.topics().allowed_on(0, 0));
  CHECK_FALSE(r.topics().allowed_on(2, *r.find_type("MAIL")));
  CHECK(r.topics().allowed_on(2, *r.find_type("SMS")));
  CHECK(r.topics().field(1) == "topic:Promo");
}

TEST_CASE("topics: configuration is validated", "[topics][config]") {
  const std::string base = R"(
[channels.MAIL]
endpoint = "tcp://127.0.0.1:5601"
)";
  auto ok = parse_config(base + R"(
[topics.news]
[topics.promo]
default = "unsubscribed"
channels = ["email"]
)");
  REQUIRE(ok.config);
  REQUIRE(ok.config->topics.size() == 2);
  CHECK(ok.config->topics[0].name == "news");
  CHECK(ok.config->topics[0].policy == TopicDefault::kSubscribed);
  CHECK(ok.config->topics[1].channels == std::vector<std::string>{"MAIL"});

  auto bad = parse_config(base + R"(
[topics.news]
default = "maybe"
channels = ["FAX"]
[topics."bad name"]
)");
  REQUIRE_FALSE(bad.config);
  std::string all;
  for (const auto& e : bad.errors) all += e.to_string() + "\n";
  CHECK(all.find("topics.news.default") != std::string::npos);
  CHECK(all.find("unknown channel \"FAX\"") != std::string::npos);
  CHECK(all.find("bad name") != std::string::npos);
}

TEST_CASE("unsubscribe: configuration is validated", "[links][config]") {
  const std::string base = R"(
[channels.MAIL]
endpoint = "tcp://127.0.0.1:5601"
)";
  auto ok = parse_config(base + R"(
[unsubscribe]
base_url = "https://example.com/x/"
secrets = ["0123456789abcdef0123456789abcdef"]
)");
  REQUIRE(ok.config);
  CHECK(ok.config->unsubscribe.base_url == "https://example.com/x");
  CHECK(ok.config->unsubscribe.link_ttl_days == 365);
  auto bad = parse_config(base + R"(
[unsubscribe]
base_url = "example.com"
secrets = ["short"]
link_ttl_days = 30
)");
  REQUIRE_FALSE(bad.config);
  std::string all;
  for (const auto& e : bad.errors) all += e.to_string() + "\n";
  CHECK(all.find("unsubscribe.base_url") != std::string::npos);
  CHECK(all.find("at least 32 characters") != std::string::npos);
  CHECK(all.find("unsubscribe.link_ttl_days") != std::string::npos);
}

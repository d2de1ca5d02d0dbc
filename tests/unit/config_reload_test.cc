#include <catch2/catch.hpp>

#include "common/config/config_reload.h"

using namespace gk;

namespace {

Config base() {
  Config c;
  c.channels = {ChannelConfig{"MAIL", {"EMAIL"}, "tcp://127.0.0.1:1", true, 10},
                ChannelConfig{"SMS", {}, "tcp://127.0.0.1:2", true, 10}};
  return c;
}

}  // namespace

TEST_CASE("reload: nothing changed means nothing needs a restart", "[reload]") {
  CHECK(restart_only_changes(base(), base()).empty());
}

TEST_CASE("reload: endpoints, Redis address and listener are restart-only", "[reload]") {
  Config next = base();
  next.ingress.messages = "tcp://127.0.0.1:9";
  next.redis.url = "redis://10.0.0.1:6379/0";
  next.http.listen = "127.0.0.1:1";
  next.channels[1].endpoint = "tcp://127.0.0.1:3";
  const auto keys = restart_only_changes(base(), next);
  CHECK(keys == std::vector<std::string>{"ingress.messages", "channels (names, endpoints, sndhwm)",
                                         "redis.url", "http.listen"});
  SECTION("and a merge keeps their running values") {
    const Config merged = merge_reloadable(base(), next);
    CHECK(merged.ingress.messages == base().ingress.messages);
    CHECK(merged.redis.url == base().redis.url);
    CHECK(merged.http.listen == base().http.listen);
    CHECK(merged.channels[1].endpoint == "tcp://127.0.0.1:2");
  }
}

TEST_CASE("reload: limits, policies, tokens and channel rules are applied", "[reload]") {
  Config next = base();
  next.ingress.max_header_bytes = 300;
  next.on_store_unavailable.transactional = TransactionalPolicy::kHold;
  next.on_store_unavailable.hold_max_wait_ms = 7;
  next.http.auth_tokens = {"new-token"};
  next.cache.max_entries = 5;
  next.log.level = "debug";
  next.channels[0].require_address = false;
  next.channels[0].aliases = {"EMAIL", "E-MAIL"};
  CHECK(restart_only_changes(base(), next).empty());
  const Config merged = merge_reloadable(base(), next);
  CHECK(merged.ingress.max_header_bytes == 300);
  CHECK(merged.on_store_unavailable.transactional == TransactionalPolicy::kHold);
  CHECK(merged.on_store_unavailable.hold_max_wait_ms == 7);
  CHECK(merged.http.auth_tokens == std::vector<std::string>{"new-token"});
  CHECK(merged.cache.max_entries == 5);
  CHECK(merged.log.level == "debug");
  CHECK_FALSE(merged.channels[0].require_address);
  CHECK(merged.channels[0].aliases.size() == 2);
}

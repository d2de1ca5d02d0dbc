// The limits of issue 11 (defects 1 and 5) as configuration: [changes] max_future_ms and
// [identity] max_emails_per_user, their validation, the shipped file, reload, summary; and
// the clamping rule itself.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "common/config/config.h"
#include "common/config/config_reload.h"
#include "common/config/config_summary.h"
#include "common/store/status_script.h"

using namespace gk;

namespace {

constexpr std::string_view kOneChannel = R"(
[channels.MAIL]
endpoint = "tcp://127.0.0.1:5601"
)";

ConfigResult parse(std::string_view extra) {
  return parse_config(std::string(kOneChannel) + std::string(extra), "test.toml");
}

const ConfigError* error_for(const ConfigResult& r, std::string_view key) {
  for (const ConfigError& e : r.errors) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("limits config: defaults, values and ranges", "[config][limits]") {
  const ConfigResult defaults = parse("");
  REQUIRE(defaults.config);
  CHECK(defaults.config->changes.max_future_ms == 300000);
  CHECK(defaults.config->identity.max_emails_per_user == 100);

  const ConfigResult set =
      parse("[changes]\nmax_future_ms = 0\n[identity]\nmax_emails_per_user = 1\n");
  REQUIRE(set.config);
  CHECK(set.config->changes.max_future_ms == 0);
  CHECK(set.config->identity.max_emails_per_user == 1);

  struct Bad {
    const char* text;
    const char* key;
    const char* fragment;
  };
  for (const Bad& b : {
           Bad{"[changes]\nmax_future_ms = -1\n", "changes.max_future_ms",
               "between 0 and 86400000"},
           Bad{"[changes]\nmax_future_ms = 86400001\n", "changes.max_future_ms", "got 86400001"},
           Bad{"[changes]\nmax_future_ms = \"5m\"\n", "changes.max_future_ms", "integer"},
           Bad{"[changes]\nmax_future = 1\n", "changes.max_future", "unknown key"},
           Bad{"[identity]\nmax_emails_per_user = 0\n", "identity.max_emails_per_user",
               "between 1 and 10000"},
           Bad{"[identity]\nmax_emails_per_user = 100000\n", "identity.max_emails_per_user",
               "got 100000"},
       }) {
    INFO(b.text);
    const ConfigResult r = parse(b.text);
    CHECK_FALSE(r.config);
    const ConfigError* e = error_for(r, b.key);
    REQUIRE(e != nullptr);
    CHECK_THAT(e->message, Catch::Matchers::Contains(b.fragment));
    CHECK(e->line > 0);
  }
}

TEST_CASE("limits config: the shipped file, reload and summary list them", "[config][limits]") {
  const ConfigResult shipped = load_config_file(GK_SOURCE_DIR "/config/gatekeeper.toml");
  REQUIRE(shipped.config);
  const Config d;
  CHECK(shipped.config->changes.max_future_ms == d.changes.max_future_ms);
  CHECK(shipped.config->identity.max_emails_per_user == d.identity.max_emails_per_user);

  Config next = d;
  next.changes.max_future_ms = 1000;
  next.identity.max_emails_per_user = 7;
  const auto keys = restart_only_changes(d, next);
  CHECK(std::find(keys.begin(), keys.end(), "changes.max_future_ms") != keys.end());
  CHECK(std::find(keys.begin(), keys.end(), "identity.max_emails_per_user") != keys.end());

  const auto summary = summarize_config(next);
  CHECK(summary["changes"]["max_future_ms"] == 1000);
  CHECK(summary["identity"]["max_emails_per_user"] == 7);
}

TEST_CASE("limits: a change time past now + the bound becomes the time of receipt",
          "[limits][time]") {
  constexpr EpochMs kNow = 1795688100123;
  constexpr EpochMs kBound = 300000;
  bool clamped = true;
  CHECK(clamp_change_time(kNow + kBound, kNow, kNow, kBound, clamped) == kNow + kBound);
  CHECK_FALSE(clamped);
  CHECK(clamp_change_time(1, kNow, kNow, kBound, clamped) == 1);
  CHECK_FALSE(clamped);
  CHECK(clamp_change_time(kNow + kBound + 1, kNow - 5, kNow, kBound, clamped) == kNow - 5);
  CHECK(clamped);
  CHECK(clamp_change_time(kMaxEpochMs, kNow, kNow, kBound, clamped) == kNow);
  CHECK(clamped);
  // No time of receipt (a link, a caller that set none), or one itself past the bound: now.
  CHECK(clamp_change_time(kMaxEpochMs, 0, kNow, kBound, clamped) == kNow);
  CHECK(clamp_change_time(kMaxEpochMs, kMaxEpochMs, kNow, kBound, clamped) == kNow);
  CHECK(clamped);
  // A zero bound allows nothing ahead of the clock.
  CHECK(clamp_change_time(kNow + 1, kNow, kNow, 0, clamped) == kNow);
  CHECK(clamped);
}

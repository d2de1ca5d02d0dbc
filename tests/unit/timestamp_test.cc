// Change times at the edges (issue 11, defect 1): nothing past 9999-12-31T23:59:59.999Z, also
// after applying an offset, and a clear error for ms since the epoch out of range.
#include <catch2/catch.hpp>

#include <limits>

#include <nlohmann/json.hpp>

#include "common/protocol/events.h"
#include "common/util/timestamp.h"

using namespace gk;
using nlohmann::json;

namespace {

const ChannelRegistry& registry() {
  static const ChannelRegistry channels{{ChannelConfig{"MAIL", {"EMAIL"}, "tcp://x:1", true, 1}}};
  return channels;
}

Event event_with(const json& ts) {
  const json body = {{"id", "u"}, {"events", {{{"event", "Opt In"}, {"timestamp", ts}}}}};
  const auto r = parse_event_body(body.dump(), registry(), 50);
  REQUIRE(r.ok());
  return r.body.events[0];
}

}  // namespace

TEST_CASE("timestamps: the last representable time parses, nothing after it", "[time][limits]") {
  CHECK(parse_iso8601("9999-12-31T23:59:59.999Z") == kMaxEpochMs);
  CHECK(parse_iso8601("9999-12-31T23:59:59.999999Z") == kMaxEpochMs);
  // A positive offset moves the time back: still in range.
  CHECK(parse_iso8601("9999-12-31T23:59:59.999+14:00") == kMaxEpochMs - 14 * 3600 * 1000);
  // A negative offset moves it forward, into the year 10000: refused.
  for (const char* late : {"9999-12-31T23:59:59.999-00:01", "9999-12-31T23:30:00-01:00",
                           "9999-12-31T20:00:00-0500", "9999-12-31T23:59:59-23:59"}) {
    INFO(late);
    CHECK_FALSE(parse_iso8601(late));
  }
  // An offset may not move a time before the epoch either.
  CHECK_FALSE(parse_iso8601("1970-01-01T00:00:00+00:01"));
  CHECK(parse_iso8601("1970-01-01T00:00:00-00:01") == 60000);
}

TEST_CASE("timestamps: formatting never writes a five-digit year", "[time][limits]") {
  CHECK(format_iso8601(kMaxEpochMs) == "9999-12-31T23:59:59.999Z");
  CHECK(format_iso8601(kMaxEpochMs + 1) == "9999-12-31T23:59:59.999Z");
  CHECK(format_iso8601(std::numeric_limits<EpochMs>::max()) == "9999-12-31T23:59:59.999Z");
  CHECK(format_iso8601(-5) == "1970-01-01T00:00:00.000Z");
  for (EpochMs ms : {EpochMs{0}, EpochMs{1795688100123}, kMaxEpochMs}) {
    CHECK(parse_iso8601(format_iso8601(ms)) == ms);
  }
}

TEST_CASE("timestamps: ms since the epoch out of range is a clear error", "[time][limits]") {
  CHECK(event_with(kMaxEpochMs).timestamp == kMaxEpochMs);
  CHECK(event_with(0).timestamp == 0);
  for (const json& bad : {json(kMaxEpochMs + 1), json(-1), json(std::int64_t{-1795688100123}),
                          json(std::uint64_t{18446744073709551615ULL})}) {
    INFO(bad.dump());
    const Event e = event_with(bad);
    REQUIRE_FALSE(e.accepted());
    CHECK(e.error->field == "timestamp");
    CHECK_THAT(e.error->message, Catch::Matchers::Contains("0..253402300799999"));
  }
  SECTION("an ISO time past the year 9999 names the limit") {
    const Event e = event_with("9999-12-31T23:30:00-01:00");
    REQUIRE_FALSE(e.accepted());
    CHECK(e.error->field == "timestamp");
    CHECK_THAT(e.error->message, Catch::Matchers::Contains("9999-12-31T23:59:59.999Z"));
  }
}

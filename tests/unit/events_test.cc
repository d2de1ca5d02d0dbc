// Event bodies (PROTOCOL.md 5): both encodings, every bad input, timestamps, limits.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "common/protocol/events.h"
#include "common/protocol/system_event.h"
#include "common/util/timestamp.h"

using namespace gk;
using nlohmann::json;

namespace {

const ChannelRegistry& registry() {
  static const ChannelRegistry channels{{ChannelConfig{"MAIL", {"EMAIL"}, "tcp://x:1", true, 1},
                                         ChannelConfig{"SMS", {}, "tcp://x:2", true, 1}}};
  return channels;
}

EventBodyResult parse(const std::string& text, std::size_t max = 50) {
  return parse_event_body(text, registry(), max);
}

EventBodyResult parse_msgpack(const json& value, std::size_t max = 50) {
  const auto bytes = json::to_msgpack(value);
  return parse_event_body(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), registry(), max);
}

void require_body_error(const EventBodyResult& r, const std::string& field, ErrorType type) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.error->field == field);
  CHECK(r.error->type == type);
  CHECK_FALSE(r.error->message.empty());
}

// The body of PROTOCOL.md section 5, exactly.
constexpr const char* kProtocolBody = R"({ "id": "88c5a896-28bb-44e9-850c-2bf60f01a0f9",
  "events": [ { "event": "Opt Out", "channel.type": "MAIL",
                "timestamp": "2026-11-26T10:15:00.123Z",
                "properties": { "status": "opt out via xy" } } ] })";

}  // namespace

TEST_CASE("events: the body of PROTOCOL.md section 5 parses in JSON and in msgpack", "[events]") {
  for (const bool msgpack : {false, true}) {
    INFO((msgpack ? "msgpack" : "json"));
    const auto r = msgpack ? parse_msgpack(json::parse(kProtocolBody)) : parse(kProtocolBody);
    REQUIRE(r.ok());
    CHECK(r.body.identity.external_id == "88c5a896-28bb-44e9-850c-2bf60f01a0f9");
    CHECK(r.body.identity.email.empty());
    CHECK(r.body.identity.bu.empty());
    REQUIRE(r.body.events.size() == 1);
    const Event& e = r.body.events[0];
    CHECK(e.accepted());
    CHECK(e.kind == EventKind::kOptOut);
    CHECK(e.name == "Opt Out");
    CHECK(e.channel == "MAIL");
    CHECK(e.timestamp == parse_iso8601("2026-11-26T10:15:00.123Z"));
    CHECK(e.properties == json{{"status", "opt out via xy"}});
    const auto change = status_change(e, registry());
    REQUIRE(change);
    CHECK(change->field == "MAIL");
    CHECK(change->value);
    CHECK(event_source(e) == "event");
  }
}

TEST_CASE("events: identities", "[events]") {
  SECTION("a lead by email and business unit") {
    const auto r =
        parse(R"({"email": "Lead@X.com", "businessUnit": "de", "events": [{"event": "x"}]})");
    REQUIRE(r.ok());
    CHECK(r.body.identity.email == "lead@x.com");  // normalised: keys and events agree
    CHECK(r.body.identity.bu == "de");
    CHECK(r.body.identity.external_id.empty());
  }
  SECTION("both an id and an email") {
    const auto r = parse(R"({"id": "u1", "email": "a@x", "events": [{"event": "x"}]})");
    REQUIRE(r.ok());
    CHECK(r.body.identity.external_id == "u1");
    CHECK(r.body.identity.email == "a@x");
  }
  SECTION("null counts as absent") {
    const auto r =
        parse(R"({"id": "u1", "email": null, "businessUnit": null, "events": [{"event": "x"}]})");
    REQUIRE(r.ok());
    CHECK(r.body.identity.email.empty());
  }
  SECTION("no identity") {
    require_body_error(parse(R"({"events": [{"event": "x"}]})"), "id", ErrorType::kMissingValue);
    require_body_error(parse(R"({"id": "", "events": [{"event": "x"}]})"), "id",
                       ErrorType::kMissingValue);
  }
  SECTION("identity keys of the wrong type") {
    require_body_error(parse(R"({"id": 42, "events": [{"event": "x"}]})"), "id",
                       ErrorType::kInvalidValue);
    require_body_error(parse(R"({"email": ["a@x"], "events": [{"event": "x"}]})"), "email",
                       ErrorType::kInvalidValue);
    require_body_error(parse(R"({"id": "u", "businessUnit": 1, "events": [{"event": "x"}]})"),
                       "businessUnit", ErrorType::kInvalidValue);
  }
}

TEST_CASE("events: body-level problems stop the whole body", "[events]") {
  SECTION("not JSON") {
    require_body_error(parse(R"({"id": "u1", "events": [)"), "body", ErrorType::kInvalidFormat);
    require_body_error(parse("{\"id\": \"u1\"} trailing"), "body", ErrorType::kInvalidFormat);
  }
  SECTION("neither JSON nor msgpack") {
    require_body_error(parse("\xc1\xc1\xc1"), "body", ErrorType::kInvalidFormat);
    require_body_error(parse("not json"), "body", ErrorType::kInvalidFormat);
  }
  SECTION("empty or blank") {
    require_body_error(parse(""), "body", ErrorType::kInvalidFormat);
    require_body_error(parse("  \n "), "body", ErrorType::kInvalidFormat);
  }
  SECTION("msgpack with trailing bytes") {
    auto bytes = json::to_msgpack(json{{"id", "u"}, {"events", {{{"event", "x"}}}}});
    bytes.push_back(0x01);
    require_body_error(parse(std::string(bytes.begin(), bytes.end())), "body",
                       ErrorType::kInvalidFormat);
  }
  SECTION("msgpack that is not a map") {
    require_body_error(parse_msgpack(json::array({1, 2})), "body", ErrorType::kInvalidValue);
    require_body_error(parse_msgpack(json("text")), "body", ErrorType::kInvalidValue);
  }
  SECTION("leading whitespace before JSON is allowed") {
    CHECK(parse("\n  {\"id\": \"u\", \"events\": [{\"event\": \"x\"}]}").ok());
  }
  SECTION("events missing, not a list, empty") {
    require_body_error(parse(R"({"id": "u1"})"), "events", ErrorType::kMissingValue);
    require_body_error(parse(R"({"id": "u1", "events": null})"), "events",
                       ErrorType::kMissingValue);
    require_body_error(parse(R"({"id": "u1", "events": {"event": "x"}})"), "events",
                       ErrorType::kInvalidValue);
    require_body_error(parse(R"({"id": "u1", "events": []})"), "events", ErrorType::kInvalidValue);
  }
  SECTION("nesting deeper than the limit, in either encoding") {
    std::string deep = R"({"id": "u", "events": [{"event": "x", "properties": {"a": )";
    for (int i = 0; i < 100; ++i) deep += "[";
    for (int i = 0; i < 100; ++i) deep += "]";
    deep += "}}]}";
    require_body_error(parse(deep), "body", ErrorType::kInvalidFormat);
    // 100 000 one-element arrays: a recursive reader would exhaust the stack.
    std::string packed(100000, '\x91');
    packed += '\x01';
    require_body_error(parse(packed), "body", ErrorType::kInvalidFormat);
  }
  SECTION("a msgpack array claiming more elements than bytes") {
    require_body_error(parse(std::string("\xdd\xff\xff\xff\xff", 5)), "body",
                       ErrorType::kInvalidFormat);
  }
  SECTION("brackets inside strings do not count as nesting") {
    const std::string brackets(200, '[');
    CHECK(parse(R"({"id": "u", "events": [{"event": ")" + brackets + R"("}]})").ok());
  }
}

TEST_CASE("events: the per-body limit", "[events]") {
  json body = {{"id", "u1"}, {"events", json::array()}};
  for (int i = 0; i < 50; ++i) body["events"].push_back({{"event", "x"}});
  CHECK(parse(body.dump()).ok());
  CHECK(parse_msgpack(body).ok());
  body["events"].push_back({{"event", "x"}});
  const auto r = parse(body.dump());
  require_body_error(r, "events", ErrorType::kInvalidValue);
  CHECK(r.error->message.find("at most 50") != std::string::npos);
  CHECK(parse(body.dump(), 100).ok());
}

TEST_CASE("events: problems of one event reject only that event", "[events]") {
  const auto r = parse(R"({"id": "u1", "events": [
      {"event": "Opt Out", "channel.type": "MAIL"},
      {"channel.type": "MAIL"},
      {"event": ""},
      {"event": 7},
      {"event": "Opt Out", "channel.type": "FAX"},
      {"event": "Opt Out", "channel.type": 3},
      {"event": "Opt Out", "channel.type": "MAIL", "timestamp": "yesterday"},
      {"event": "Opt Out", "channel.type": "MAIL", "properties": [1]},
      "not an object",
      {"event": "Opt In", "channel.type": "sms"}
  ]})");
  REQUIRE(r.ok());
  REQUIRE(r.body.events.size() == 10);
  const auto& ev = r.body.events;
  CHECK(ev[0].accepted());
  auto rejected = [&](std::size_t i, const char* field, ErrorType type) {
    INFO("event " << i);
    REQUIRE_FALSE(ev[i].accepted());
    CHECK(ev[i].error->field == field);
    CHECK(ev[i].error->type == type);
    CHECK_FALSE(status_change(ev[i], registry()));
  };
  rejected(1, "event", ErrorType::kMissingValue);
  rejected(2, "event", ErrorType::kInvalidValue);
  rejected(3, "event", ErrorType::kInvalidValue);
  rejected(4, "channel.type", ErrorType::kUnknownValue);
  CHECK(ev[4].error->message == "unknown channel.type 'FAX'");
  rejected(5, "channel.type", ErrorType::kInvalidValue);
  rejected(6, "timestamp", ErrorType::kInvalidValue);
  rejected(7, "properties", ErrorType::kInvalidValue);
  rejected(8, "events", ErrorType::kInvalidValue);
  CHECK(ev[9].accepted());
  CHECK(ev[9].channel == "SMS");
}

TEST_CASE("events: channel types", "[events]") {
  auto channel_of = [](const std::string& event) {
    const auto r = parse(R"({"id": "u", "events": [)" + event + "]}");
    REQUIRE(r.ok());
    return r.body.events[0];
  };
  CHECK(channel_of(R"({"event": "Opt Out", "channel.type": "email"})").channel == "MAIL");
  CHECK(channel_of(R"({"event": "Opt Out", "channel.type": "all"})").channel == "ALL");
  CHECK(channel_of(R"({"event": "Opt Out", "channel.type": "Sms"})").channel == "SMS");
  SECTION("platform channel types without an adapter still carry statuses") {
    CHECK(channel_of(R"({"event": "Opt Out", "channel.type": "push_notification"})").channel ==
          "PUSH_NOTIFICATION");
  }
  SECTION("the nested spelling is read too") {
    CHECK(channel_of(R"({"event": "Opt Out", "channel": {"type": "sms"}})").channel == "SMS");
  }
  SECTION("BLACKLIST is a status field, not a channel") {
    CHECK_FALSE(channel_of(R"({"event": "Opt Out", "channel.type": "BLACKLIST"})").accepted());
  }
  SECTION("an empty channel type is unknown") {
    CHECK(channel_of(R"({"event": "Opt Out", "channel.type": ""})").error->type ==
          ErrorType::kUnknownValue);
  }
}

TEST_CASE("events: what each event name changes", "[events]") {
  auto change_of = [](const std::string& event) {
    const auto r = parse(R"({"id": "u", "events": [)" + event + "]}");
    REQUIRE(r.ok());
    REQUIRE(r.body.events[0].accepted());
    return std::make_pair(r.body.events[0], status_change(r.body.events[0], registry()));
  };
  SECTION("Opt Out / Opt In with a channel set it true / false") {
    auto [e, c] = change_of(R"({"event": "Opt In", "channel.type": "ALL"})");
    REQUIRE(c);
    CHECK(c->field == "ALL");
    CHECK_FALSE(c->value);
  }
  SECTION("Opt Out without a channel changes nothing") {
    auto [e, c] = change_of(R"({"event": "Opt Out"})");
    CHECK(e.kind == EventKind::kOptOut);
    CHECK_FALSE(c);
  }
  SECTION("mail.unsubscribe sets MAIL, from the ESP") {
    auto [e, c] = change_of(R"({"event": "mail.unsubscribe"})");
    REQUIRE(c);
    CHECK(c->field == "MAIL");
    CHECK(c->value);
    CHECK(event_source(e) == "esp");
  }
  SECTION("Blacklisted / Whitelisted set and clear the blacklist") {
    auto [b, set] = change_of(R"({"event": "Blacklisted"})");
    REQUIRE(set);
    CHECK(set->field == "BLACKLIST");
    CHECK(set->value);
    auto [w, clear] = change_of(R"({"event": "Whitelisted"})");
    REQUIRE(clear);
    CHECK(clear->field == "BLACKLIST");
    CHECK_FALSE(clear->value);
  }
  SECTION("known names match case-insensitively and are republished canonically") {
    auto [e, c] = change_of(R"({"event": "opt out", "channel.type": "MAIL"})");
    CHECK(e.name == "Opt Out");
    CHECK(c);
  }
  SECTION("other names change nothing and keep their spelling") {
    auto [e, c] = change_of(R"({"event": "Page Viewed", "channel.type": "MAIL"})");
    CHECK(e.kind == EventKind::kOther);
    CHECK(e.name == "Page Viewed");
    CHECK_FALSE(c);
  }
}

TEST_CASE("events: timestamps", "[events][time]") {
  constexpr EpochMs kT = 1795688100123;  // 2026-11-26T10:15:00.123Z
  CHECK(parse_iso8601("2026-11-26T10:15:00.123Z") == kT);
  CHECK(parse_iso8601("2026-11-26T10:15:00Z") == kT - 123);
  CHECK(parse_iso8601("2026-11-26T10:15:00.123+00:00") == kT);
  CHECK(parse_iso8601("2026-11-26T10:15:00.123+0000") == kT);
  CHECK(parse_iso8601("2026-11-26T11:15:00.123+01:00") == kT);
  CHECK(parse_iso8601("2026-11-26T10:15:00.123456789Z") == kT);
  CHECK(parse_iso8601("2026-11-26T10:15:00.1Z") == kT - 23);
  CHECK(parse_iso8601("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_iso8601("2024-02-29T00:00:00Z"));
  for (const char* bad : {"2026-11-26", "2026-11-26T10:15:00", "2026-11-26T10:15:00.Z",
                          "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-26T24:00:00Z",
                          "2026-11-26T10:60:00Z", "1969-12-31T23:59:59Z", "2026-11-26T10:15:00Zx",
                          "2026-11-26T10:15:00+25:00", "tomorrow", ""}) {
    INFO(bad);
    CHECK_FALSE(parse_iso8601(bad));
  }
  CHECK(format_iso8601(kT) == "2026-11-26T10:15:00.123Z");
  CHECK(format_iso8601(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_iso8601(951782400000) == "2000-02-29T00:00:00.000Z");

  auto ts_of = [](const json& ts) {
    const auto r = parse_msgpack({{"id", "u"}, {"events", {{{"event", "x"}, {"timestamp", ts}}}}});
    REQUIRE(r.ok());
    return r.body.events[0];
  };
  SECTION("integer ms since the epoch, in either encoding") {
    CHECK(ts_of(kT).timestamp == kT);
    CHECK(parse(R"({"id": "u", "events": [{"event": "x", "timestamp": 1795688100123}]})")
              .body.events[0]
              .timestamp == kT);
  }
  SECTION("absent or null: none, so the time of receipt applies") {
    CHECK_FALSE(ts_of(nullptr).timestamp);
  }
  SECTION("negative, fractional, too large or of another type: rejected") {
    CHECK_FALSE(ts_of(-1).accepted());
    CHECK_FALSE(ts_of(1.5).accepted());
    CHECK_FALSE(ts_of(std::uint64_t{1795688100123000000}).accepted());
    CHECK_FALSE(ts_of(true).accepted());
  }
}

TEST_CASE("system events: msgpack map and stream fields", "[events][system]") {
  SystemEvent e;
  e.event = "Opt Out";
  e.id = "u1";
  e.bu = "de";
  e.channel = "MAIL";
  e.timestamp = 1795688100123;
  e.source = "esp";
  e.changed = true;
  e.properties = {{"status", "opt out via xy"}};
  const std::string packed = to_msgpack(e);
  const json map = json::from_msgpack(packed);
  CHECK(map == json{{"event", "Opt Out"},
                    {"id", "u1"},
                    {"businessUnit", "de"},
                    {"channel.type", "MAIL"},
                    {"timestamp", "2026-11-26T10:15:00.123Z"},
                    {"source", "esp"},
                    {"changed", true},
                    {"properties", {{"status", "opt out via xy"}}}});
  const auto fields = stream_fields(e);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"event", "Opt Out"},
      {"id", "u1"},
      {"businessUnit", "de"},
      {"channel.type", "MAIL"},
      {"timestamp", "2026-11-26T10:15:00.123Z"},
      {"source", "esp"},
      {"changed", "true"},
      {"properties", R"({"status":"opt out via xy"})"}};
  CHECK(fields == expected);

  SECTION("keys without a value are left out") {
    SystemEvent lead;
    lead.event = "Page Viewed";
    lead.email = "a@x";
    lead.source = "event";
    const json m = json::from_msgpack(to_msgpack(lead));
    CHECK_FALSE(m.contains("id"));
    CHECK_FALSE(m.contains("channel.type"));
    CHECK(m["email"] == "a@x");
    CHECK(m["businessUnit"] == "");
    CHECK(m["changed"] == false);
    CHECK(m["properties"] == json::object());
  }
  SECTION("bytes that are not UTF-8 become U+FFFD in the stream entry, the rest intact") {
    e.properties = {{"status", std::string("ok \xff\xfe end")}};
    const auto bad = stream_fields(e);
    // Every field but properties is the same as above.
    REQUIRE(bad.size() == expected.size());
    for (std::size_t i = 0; i + 1 < expected.size(); ++i) CHECK(bad[i] == expected[i]);
    CHECK(bad.back().first == "properties");
    // Each invalid byte is replaced, so the field is valid UTF-8 JSON that parses back.
    CHECK(bad.back().second == "{\"status\":\"ok \xEF\xBF\xBD\xEF\xBF\xBD end\"}");
    const json back = json::parse(bad.back().second);
    CHECK(back["status"] == "ok \xEF\xBF\xBD\xEF\xBF\xBD end");
  }
}

TEST_CASE("events: the identity follows the rules of common/identity.h", "[events][identity]") {
  struct Case {
    const char* what;
    json body;
    const char* field;
    const char* message;
  };
  const json events = json::array({{{"event", "Opt In"}, {"channel.type", "MAIL"}}});
  const Case cases[] = {
      {"':' in a user's businessUnit (another tenant's key)",
       {{"id", "X"}, {"businessUnit", "T:b"}},
       "businessUnit",
       "businessUnit must not contain ':'"},
      {"':' in a lead's businessUnit",
       {{"email", "x@y.z"}, {"businessUnit", "T:b"}},
       "businessUnit",
       "businessUnit must not contain ':'"},
      {"newline in businessUnit",
       {{"id", "X"}, {"businessUnit", "T\n"}},
       "businessUnit",
       "businessUnit must not contain whitespace"},
      {"tab in businessUnit",
       {{"id", "X"}, {"businessUnit", "\tT"}},
       "businessUnit",
       "businessUnit must not contain whitespace"},
      {"space in businessUnit",
       {{"id", "X"}, {"businessUnit", "T b"}},
       "businessUnit",
       "businessUnit must not contain whitespace"},
      {"businessUnit too long",
       {{"id", "X"}, {"businessUnit", std::string(65, 'b')}},
       "businessUnit",
       "businessUnit must be at most 64 bytes"},
      {"id too long", {{"id", std::string(257, 'x')}}, "id", "id must be at most 256 bytes"},
      {"control character in id",
       {{"id", std::string("X\0", 2)}},
       "id",
       "id must not contain control characters"},
      {"email without @", {{"email", "nobody"}}, "email", "email must contain exactly one '@'"},
      {"email of whitespace alone", {{"email", " \t\n"}}, "email", "email must not be empty"},
      {"email with whitespace inside",
       {{"email", "pat @example.com"}},
       "email",
       "email must not contain whitespace"},
      {"bad email beside a good id",
       {{"id", "X"}, {"email", "a@b@c"}},
       "email",
       "email must contain exactly one '@'"},
  };
  for (const Case& c : cases) {
    for (const bool msgpack : {false, true}) {
      INFO(c.what << (msgpack ? " (msgpack)" : " (json)"));
      json body = c.body;
      body["events"] = events;
      const auto r = msgpack ? parse_msgpack(body) : parse(body.dump());
      require_body_error(r, c.field, ErrorType::kInvalidValue);
      CHECK(r.error->message == c.message);
    }
  }
}

TEST_CASE("events: an email is trimmed and lower-cased once, at the door", "[events][identity]") {
  const auto r =
      parse(R"({"email": "  Pat@Example.com\n", "businessUnit": "T", "events": [{"event": "x"}]})");
  REQUIRE(r.ok());
  CHECK(r.body.identity.email == "pat@example.com");
  CHECK(r.body.identity.bu == "T");
  // ':' inside an external id is fine: the business unit before it cannot hold one.
  const auto colon = parse(R"({"id": "b:X", "businessUnit": "T", "events": [{"event": "x"}]})");
  REQUIRE(colon.ok());
  CHECK(colon.body.identity.external_id == "b:X");
}

TEST_CASE("events: a parse error names kind and position, never the input", "[events][identity]") {
  const std::string secret = "pat@example.com";
  const std::string bodies[] = {
      R"({"email": "pat@example.com" "events": []})",                // missing comma
      R"({"email": "pat@example.com, "events": [{"event": "x"}]})",  // unterminated string
      R"({"email": pat@example.com, "events": []})",                 // bare word
      R"({"id": "u1", "events": [{"event": "x", "note": "pat@example.com)",
      R"({"email": "pat@example.com\q", "events": []})",              // unknown escape
      "{\"email\": \"pat@example.com\x01\", \"events\": []}",         // raw control byte
      R"({"email": "pat@example.com", "n": 1e99999, "events": []})",  // number out of range
  };
  for (const std::string& body : bodies) {
    INFO(body);
    const auto r = parse(body);
    if (r.ok()) continue;  // a body that is valid after all has nothing to leak here
    REQUIRE(r.error->field == "body");
    CHECK(r.error->type == ErrorType::kInvalidFormat);
    CHECK(r.error->message.find(secret) == std::string::npos);
    CHECK(r.error->message.find("pat@") == std::string::npos);
    CHECK(r.error->message.find("last read") == std::string::npos);
    CHECK_THAT(r.error->message, Catch::Contains("not valid JSON"));
  }
  const auto r = parse(R"({"email": "pat@example.com" "events": []})");
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error->message, Catch::Contains("(at byte "));
  CHECK(r.error->message ==
        "body is not valid JSON: syntax error while parsing object - unexpected string literal; "
        "expected '}' (at byte 36)");
  CHECK_THAT(r.error->message, Catch::Contains("syntax error while parsing object"));
}

TEST_CASE("events: a key that says whom or what, given twice, refuses the body",
          "[events][identity]") {
  for (const char* key : {"id", "email", "businessUnit", "events"}) {
    INFO(key);
    const std::string k(key);
    const std::string events = R"([{"event": "Opt In", "channel.type": "ALL"}])";
    auto value = [&](int n) {
      if (k == "events") return events;
      if (k == "email") return "\"p" + std::to_string(n) + "@x.y\"";
      return "\"v" + std::to_string(n) + "\"";
    };
    std::string body = "{\"" + k + "\": " + value(1) + ", \"" + k + "\": " + value(2);
    if (k != "events") body += ", \"events\": " + events;
    if (k != "id") body += R"(, "id": "u1")";
    body += "}";
    INFO(body);
    const auto r = parse(body);
    require_body_error(r, k, ErrorType::kInvalidFormat);
    CHECK(r.error->message == k + " is given twice");

    // The same in msgpack, packed by hand since a JSON value cannot repeat a key.
    std::string mp = "\x83";  // fixmap of 3
    auto str = [](const std::string& s) {
      return std::string(1, static_cast<char>(0xa0 | s.size())) + s;  // fixstr
    };
    const auto ev = json::to_msgpack(json::parse(events));
    const std::string ev_bytes(ev.begin(), ev.end());
    auto packed_value = [&](int n) {
      if (k == "events") return ev_bytes;
      return str(k == "email" ? "p" + std::to_string(n) + "@x.y" : "v" + std::to_string(n));
    };
    mp += str(k) + packed_value(1) + str(k) + packed_value(2);
    mp += k == "events" ? str("id") + str("u1") : str("events") + ev_bytes;
    const auto m = parse_event_body(mp, registry(), 50);
    require_body_error(m, k, ErrorType::kInvalidFormat);
  }
  // Repeats deeper down, or of keys nobody reads, are left alone.
  CHECK(parse(R"({"id": "u1", "x": 1, "x": 2, "events": [{"event": "a", "event": "b"}]})").ok());
}

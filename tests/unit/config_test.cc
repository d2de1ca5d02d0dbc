#include "common/config/config.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>

namespace {

using gk::ConfigError;
using gk::ConfigResult;

ConfigResult parse(std::string_view text) {
  return gk::parse_config(text, "test.toml");
}

// The 1-based line of the first occurrence of `needle`, so tests do not count lines by hand.
int line_of(std::string_view text, std::string_view needle) {
  const std::size_t at = text.find(needle);
  REQUIRE(at != std::string_view::npos);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

std::string describe(const ConfigResult& result) {
  std::string out;
  for (const ConfigError& e : result.errors) out += e.to_string() + "\n";
  return out;
}

const ConfigError* error_for(const ConfigResult& result, std::string_view key) {
  for (const ConfigError& e : result.errors) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

// Asserts a failure with an error on `key` whose message mentions `fragment`. Returns copies,
// since callers pass temporaries.
ConfigError expect_error(const ConfigResult& result, std::string_view key,
                         std::string_view fragment) {
  INFO("errors:\n" << describe(result));
  CHECK_FALSE(result.config.has_value());
  const ConfigError* e = error_for(result, key);
  REQUIRE(e != nullptr);
  CHECK_THAT(e->message, Catch::Matchers::Contains(std::string(fragment)));
  return *e;
}

gk::Config expect_ok(const ConfigResult& result) {
  INFO("errors:\n" << describe(result));
  REQUIRE(result.errors.empty());
  REQUIRE(result.config.has_value());
  return *result.config;
}

constexpr std::string_view kOneChannel = R"(
[channels.MAIL]
endpoint = "tcp://127.0.0.1:5601"
)";

// kOneChannel plus `extra`, for tests about one other section.
std::string with_channel(std::string_view extra) {
  return std::string(kOneChannel) + std::string(extra);
}

constexpr std::string_view kProtocolExample = R"(
[ingress]
messages = "tcp://127.0.0.1:5570"
events   = "tcp://127.0.0.1:5580"

[egress]
decisions = "tcp://127.0.0.1:5571"
events    = "tcp://127.0.0.1:5590"

[channels.MAIL]
aliases = ["EMAIL"]
endpoint = "tcp://127.0.0.1:5601"
require_address = true

[channels.SMS]
endpoint = "tcp://127.0.0.1:5602"
require_address = true

[redis]
url = "redis://127.0.0.1:6379/0"
key_prefix = "gk:"

[http]
listen = "127.0.0.1:8080"
auth_tokens = ["change-me"]

[log]
level = "info"
)";

}  // namespace

TEST_CASE("config: the PROTOCOL.md example parses with its values", "[config]") {
  const gk::Config c = expect_ok(parse(kProtocolExample));
  CHECK(c.ingress.messages == "tcp://127.0.0.1:5570");
  CHECK(c.ingress.events == "tcp://127.0.0.1:5580");
  CHECK(c.egress.decisions == "tcp://127.0.0.1:5571");
  CHECK(c.egress.events == "tcp://127.0.0.1:5590");
  REQUIRE(c.channels.size() == 2);
  CHECK(c.channels[0].name == "MAIL");
  CHECK(c.channels[0].aliases == std::vector<std::string>{"EMAIL"});
  CHECK(c.channels[0].endpoint == "tcp://127.0.0.1:5601");
  CHECK(c.channels[0].require_address);
  CHECK(c.channels[1].name == "SMS");
  CHECK(c.channels[1].aliases.empty());
  CHECK(c.channels[1].endpoint == "tcp://127.0.0.1:5602");
  CHECK(c.redis.url == "redis://127.0.0.1:6379/0");
  CHECK(c.redis.host == "127.0.0.1");
  CHECK(c.redis.port == 6379);
  CHECK(c.redis.db == 0);
  CHECK(c.redis.key_prefix == "gk:");
  CHECK(c.http.host == "127.0.0.1");
  CHECK(c.http.port == 8080);
  CHECK(c.http.auth_tokens == std::vector<std::string>{"change-me"});
  CHECK(c.log.level == "info");
}

TEST_CASE("config: absent sections and keys take the defaults of config.h", "[config]") {
  const gk::Config c = expect_ok(parse(kOneChannel));
  const gk::Config d;
  const gk::ChannelConfig dc;
  CHECK(c.ingress.messages == d.ingress.messages);
  CHECK(c.ingress.events == d.ingress.events);
  CHECK(c.ingress.rcvhwm == d.ingress.rcvhwm);
  CHECK(c.ingress.max_header_bytes == d.ingress.max_header_bytes);
  CHECK(c.ingress.max_frames == d.ingress.max_frames);
  CHECK(c.ingress.batch_size == d.ingress.batch_size);
  CHECK(c.egress.decisions == d.egress.decisions);
  CHECK(c.egress.events == d.egress.events);
  CHECK(c.egress.sndhwm == d.egress.sndhwm);
  REQUIRE(c.channels.size() == 1);
  CHECK(c.channels[0].require_address == dc.require_address);
  CHECK(c.channels[0].sndhwm == dc.sndhwm);
  CHECK(c.redis.url == d.redis.url);
  CHECK(c.redis.host == d.redis.host);
  CHECK(c.redis.port == d.redis.port);
  CHECK(c.redis.db == d.redis.db);
  CHECK(c.redis.username.empty());
  CHECK(c.redis.password.empty());
  CHECK(c.redis.key_prefix == d.redis.key_prefix);
  CHECK(c.redis.connect_timeout_ms == d.redis.connect_timeout_ms);
  CHECK(c.redis.command_timeout_ms == d.redis.command_timeout_ms);
  CHECK(c.redis.events_stream_maxlen == d.redis.events_stream_maxlen);
  CHECK(c.redis.history_length == d.redis.history_length);
  CHECK(c.http.listen == d.http.listen);
  CHECK(c.http.host == d.http.host);
  CHECK(c.http.port == d.http.port);
  CHECK(c.http.auth_tokens.empty());
  CHECK(c.http.auth_tokens_env == d.http.auth_tokens_env);
  CHECK(c.http.auth_tokens_file == d.http.auth_tokens_file);
  CHECK(c.http.max_body_bytes == d.http.max_body_bytes);
  CHECK(c.http.max_events_per_body == d.http.max_events_per_body);
  CHECK(c.http.read_timeout_ms == d.http.read_timeout_ms);
  CHECK(c.http.write_timeout_ms == d.http.write_timeout_ms);
  CHECK(c.http.threads == d.http.threads);
  CHECK(c.http.metrics_require_token == d.http.metrics_require_token);
  CHECK(c.log.level == d.log.level);
  CHECK(c.log.format == d.log.format);
  CHECK(c.cache.enabled == d.cache.enabled);
  CHECK(c.cache.max_entries == d.cache.max_entries);
  CHECK(c.on_store_unavailable.transactional == d.on_store_unavailable.transactional);
  CHECK(c.on_store_unavailable.hold_max_messages == d.on_store_unavailable.hold_max_messages);
  CHECK(c.on_store_unavailable.hold_max_wait_ms == d.on_store_unavailable.hold_max_wait_ms);
  CHECK(c.on_store_unavailable.retry_initial_ms == d.on_store_unavailable.retry_initial_ms);
  CHECK(c.on_store_unavailable.retry_max_ms == d.on_store_unavailable.retry_max_ms);
}

TEST_CASE("config: every key can be set", "[config]") {
  const gk::Config c = expect_ok(parse(R"(
[ingress]
messages = "ipc:///tmp/gk-messages"
events = "inproc://events"
rcvhwm = 10
max_header_bytes = 64
max_frames = 16
batch_size = 1
[egress]
decisions = "tcp://[::1]:7001"
events = "tcp://*:7002"
sndhwm = 20
[channels.push_notification]
aliases = ["push"]
endpoint = "tcp://127.0.0.1:7003"
require_address = false
sndhwm = 30
[redis]
url = "redis://alice:s3cret@redis.internal:6380/2"
key_prefix = "test:"
connect_timeout_ms = 1
command_timeout_ms = 600000
events_stream_maxlen = 7
history_length = 10000
[http]
listen = "[::1]:0"
auth_tokens = ["a", "b"]
auth_tokens_env = ""
auth_tokens_file = "/etc/gatekeeper/tokens"
max_body_bytes = 1024
max_events_per_body = 1000
read_timeout_ms = 100
write_timeout_ms = 200
threads = 64
metrics_require_token = true
[log]
level = "debug"
format = "json"
[cache]
enabled = false
max_entries = 5
[on_store_unavailable]
transactional = "hold"
hold_max_messages = 3
hold_max_wait_ms = 0
retry_initial_ms = 10
retry_max_ms = 10
)"));
  CHECK(c.ingress.messages == "ipc:///tmp/gk-messages");
  CHECK(c.ingress.events == "inproc://events");
  CHECK(c.ingress.rcvhwm == 10);
  CHECK(c.ingress.max_header_bytes == 64);
  CHECK(c.ingress.max_frames == 16);
  CHECK(c.ingress.batch_size == 1);
  CHECK(c.egress.decisions == "tcp://[::1]:7001");
  CHECK(c.egress.sndhwm == 20);
  REQUIRE(c.channels.size() == 1);
  CHECK(c.channels[0].name == "PUSH_NOTIFICATION");
  CHECK(c.channels[0].aliases == std::vector<std::string>{"PUSH"});
  CHECK_FALSE(c.channels[0].require_address);
  CHECK(c.channels[0].sndhwm == 30);
  CHECK(c.redis.host == "redis.internal");
  CHECK(c.redis.port == 6380);
  CHECK(c.redis.db == 2);
  CHECK(c.redis.username == "alice");
  CHECK(c.redis.password == "s3cret");
  CHECK(c.redis.key_prefix == "test:");
  CHECK(c.redis.connect_timeout_ms == 1);
  CHECK(c.redis.command_timeout_ms == 600000);
  CHECK(c.redis.events_stream_maxlen == 7);
  CHECK(c.redis.history_length == 10000);
  CHECK(c.http.host == "::1");
  CHECK(c.http.port == 0);
  CHECK(c.http.auth_tokens == std::vector<std::string>{"a", "b"});
  CHECK(c.http.auth_tokens_env.empty());
  CHECK(c.http.auth_tokens_file == "/etc/gatekeeper/tokens");
  CHECK(c.http.max_body_bytes == 1024);
  CHECK(c.http.max_events_per_body == 1000);
  CHECK(c.http.read_timeout_ms == 100);
  CHECK(c.http.write_timeout_ms == 200);
  CHECK(c.http.threads == 64);
  CHECK(c.http.metrics_require_token);
  CHECK(c.log.level == "debug");
  CHECK(c.log.format == "json");
  CHECK_FALSE(c.cache.enabled);
  CHECK(c.cache.max_entries == 5);
  CHECK(c.on_store_unavailable.transactional == gk::TransactionalPolicy::kHold);
  CHECK(c.on_store_unavailable.hold_max_messages == 3);
  CHECK(c.on_store_unavailable.hold_max_wait_ms == 0);
  CHECK(c.on_store_unavailable.retry_initial_ms == 10);
  CHECK(c.on_store_unavailable.retry_max_ms == 10);
}

TEST_CASE("config: channels keep file order and are upper-cased", "[config]") {
  const gk::Config c = expect_ok(parse(R"(
[channels.webhook]
endpoint = "tcp://127.0.0.1:5603"
[channels.Mail]
aliases = ["email", "E_Mail2"]
endpoint = "tcp://127.0.0.1:5601"
[channels.SMS]
endpoint = "tcp://127.0.0.1:5602"
)"));
  REQUIRE(c.channels.size() == 3);
  CHECK(c.channels[0].name == "WEBHOOK");
  CHECK(c.channels[1].name == "MAIL");
  CHECK(c.channels[1].aliases == std::vector<std::string>{"EMAIL", "E_MAIL2"});
  CHECK(c.channels[2].name == "SMS");
}

TEST_CASE("config: unknown key is an error naming its path", "[config]") {
  SECTION("at the top level") {
    const std::string text = with_channel("\n[metrics]\nport = 9090\n");
    const ConfigError e = expect_error(parse(text), "metrics", "unknown key");
    CHECK(e.line == line_of(text, "[metrics]"));
  }
  SECTION("in a section, with the known keys listed") {
    const std::string text = with_channel("[redis]\nurl = \"redis://h\"\nurll = \"x\"\n");
    const ConfigError e = expect_error(parse(text), "redis.urll", "unknown key");
    CHECK(e.line == line_of(text, "urll"));
    CHECK_THAT(e.message, Catch::Matchers::Contains("url"));
  }
  SECTION("in a channel") {
    const std::string text = R"(
[channels.MAIL]
endpoint = "tcp://127.0.0.1:5601"
require_adress = false
)";
    const ConfigError e = expect_error(parse(text), "channels.MAIL.require_adress", "unknown");
    CHECK(e.line == line_of(text, "require_adress"));
  }
  SECTION("a key that needs quoting is shown quoted") {
    expect_error(parse(with_channel("[log]\n\"my key\" = 1\n")), "log.\"my key\"", "unknown key");
  }
}

TEST_CASE("config: a wrong type is an error naming the expected type", "[config]") {
  SECTION("integer given as a string") {
    const std::string text = with_channel("[ingress]\nbatch_size = \"512\"\n");
    const ConfigError e = expect_error(parse(text), "ingress.batch_size", "expected integer");
    CHECK_THAT(e.message, Catch::Matchers::Contains("got string"));
    CHECK(e.line == line_of(text, "batch_size"));
  }
  SECTION("boolean given as an integer") {
    expect_error(parse(with_channel("[cache]\nenabled = 1\n")), "cache.enabled",
                 "expected boolean, got integer");
  }
  SECTION("string given as a float") {
    expect_error(parse(with_channel("[http]\nlisten = 8080.0\n")), "http.listen",
                 "expected string, got float");
  }
  SECTION("a section that is not a table") {
    expect_error(parse("log = \"debug\"\n" + std::string(kOneChannel)), "log",
                 "expected table, got string");
  }
  SECTION("aliases not an array") {
    expect_error(parse(R"(
[channels.MAIL]
aliases = "EMAIL"
endpoint = "tcp://127.0.0.1:5601"
)"),
                 "channels.MAIL.aliases", "expected array of strings");
  }
  SECTION("an array element of the wrong type names its index") {
    expect_error(parse(with_channel("[http]\nauth_tokens = [\"a\", 7]\n")), "http.auth_tokens[1]",
                 "expected string, got integer");
  }
  SECTION("a channel that is not a table") {
    expect_error(parse("[channels]\nMAIL = \"tcp://127.0.0.1:5601\"\n"), "channels.MAIL",
                 "expected table");
  }
}

TEST_CASE("config: a channel without endpoint is an error", "[config]") {
  const std::string text = R"(
[channels.MAIL]
aliases = ["EMAIL"]
)";
  const ConfigError e = expect_error(parse(text), "channels.MAIL.endpoint", "required");
  CHECK(e.to_string() == "channels.MAIL.endpoint (line " +
                             std::to_string(line_of(text, "[channels.MAIL]")) +
                             "): required key missing");
}

TEST_CASE("config: at least one channel is required", "[config]") {
  SECTION("no [channels] at all") {
    expect_error(parse("[log]\nlevel = \"info\"\n"), "channels",
                 "at least one channel is required");
  }
  SECTION("an empty [channels] table") {
    expect_error(parse("[channels]\n"), "channels", "at least one channel is required");
  }
  SECTION("an empty file") {
    expect_error(parse(""), "channels", "at least one channel");
  }
}

TEST_CASE("config: channel names and aliases are checked", "[config]") {
  SECTION("reserved names") {
    expect_error(parse("[channels.all]\nendpoint = \"tcp://127.0.0.1:5601\"\n"), "channels.all",
                 "\"ALL\" is reserved");
    expect_error(parse(R"(
[channels.MAIL]
aliases = ["blacklist"]
endpoint = "tcp://127.0.0.1:5601"
)"),
                 "channels.MAIL.aliases[0]", "\"BLACKLIST\" is reserved");
  }
  SECTION("characters outside letters, digits and _") {
    expect_error(parse("[channels.\"e-mail\"]\nendpoint = \"tcp://127.0.0.1:5601\"\n"),
                 "channels.e-mail", "may only contain letters, digits and _");
    expect_error(parse(R"(
[channels.MAIL]
aliases = ["E MAIL"]
endpoint = "tcp://127.0.0.1:5601"
)"),
                 "channels.MAIL.aliases[0]", "may only contain");
  }
  SECTION("an empty alias") {
    expect_error(parse(R"(
[channels.MAIL]
aliases = [""]
endpoint = "tcp://127.0.0.1:5601"
)"),
                 "channels.MAIL.aliases[0]", "alias is empty");
  }
}

TEST_CASE("config: alias collisions are errors naming both channels", "[config]") {
  SECTION("an alias equal to another channel's name") {
    const std::string text = R"(
[channels.MAIL]
endpoint = "tcp://127.0.0.1:5601"
[channels.SMS]
aliases = ["mail"]
endpoint = "tcp://127.0.0.1:5602"
)";
    const ConfigError e = expect_error(parse(text), "channels.SMS.aliases", "alias \"MAIL\"");
    CHECK_THAT(e.message,
               Catch::Matchers::Contains("the name of channels.MAIL (line " +
                                         std::to_string(line_of(text, "[channels.MAIL]")) + ")"));
    CHECK(e.line == line_of(text, "[\"mail\"]"));
  }
  SECTION("the same alias on two channels") {
    const std::string text = R"(
[channels.MAIL]
aliases = ["EMAIL"]
endpoint = "tcp://127.0.0.1:5601"
[channels.NEWSLETTER]
aliases = ["Email"]
endpoint = "tcp://127.0.0.1:5602"
)";
    const ConfigError e =
        expect_error(parse(text), "channels.NEWSLETTER.aliases", "an alias of channels.MAIL");
    CHECK_THAT(e.message, Catch::Matchers::Contains("EMAIL"));
  }
  SECTION("a channel name equal to an earlier alias") {
    expect_error(parse(R"(
[channels.MAIL]
aliases = ["EMAIL"]
endpoint = "tcp://127.0.0.1:5601"
[channels.EMAIL]
endpoint = "tcp://127.0.0.1:5602"
)"),
                 "channels.EMAIL",
                 "channel name \"EMAIL\" collides with an alias of channels.MAIL");
  }
  SECTION("two tables that differ only in case") {
    expect_error(parse(R"(
[channels.MAIL]
endpoint = "tcp://127.0.0.1:5601"
[channels.mail]
endpoint = "tcp://127.0.0.1:5602"
)"),
                 "channels.mail", "collides with the name of channels.MAIL");
  }
  SECTION("an alias repeating the channel's own name or listed twice") {
    const ConfigResult r = parse(R"(
[channels.MAIL]
aliases = ["mail", "EMAIL", "email"]
endpoint = "tcp://127.0.0.1:5601"
)");
    expect_error(r, "channels.MAIL.aliases", "own name");
    CHECK(r.errors.size() == 2);
    CHECK_THAT(describe(r), Catch::Matchers::Contains("listed twice"));
  }
}

TEST_CASE("config: endpoints must be ZeroMQ addresses", "[config]") {
  auto channel_endpoint = [](std::string_view endpoint) {
    return parse("[channels.MAIL]\nendpoint = \"" + std::string(endpoint) + "\"\n");
  };
  SECTION("accepted forms") {
    for (const char* ok :
         {"tcp://127.0.0.1:5601", "tcp://*:5601", "tcp://[::1]:5601", "tcp://localhost:5601",
          "tcp://127.0.0.1:*", "ipc:///tmp/gk.sock", "inproc://mail"}) {
      INFO(ok);
      expect_ok(channel_endpoint(ok));
    }
  }
  SECTION("rejected forms") {
    expect_error(channel_endpoint("http://127.0.0.1:5601"), "channels.MAIL.endpoint",
                 "must start with tcp://, ipc:// or inproc://");
    expect_error(channel_endpoint("tcp://127.0.0.1"), "channels.MAIL.endpoint", "host:port");
    expect_error(channel_endpoint("tcp://:5601"), "channels.MAIL.endpoint", "host is missing");
    expect_error(channel_endpoint("tcp://127.0.0.1:65536"), "channels.MAIL.endpoint", "port");
    expect_error(channel_endpoint("tcp://::1:5601"), "channels.MAIL.endpoint", "brackets");
    expect_error(channel_endpoint("ipc://"), "channels.MAIL.endpoint", "no path");
    expect_error(channel_endpoint(""), "channels.MAIL.endpoint", "must start with");
  }
  SECTION("ingress and egress are checked too") {
    const ConfigResult r =
        parse(with_channel("[ingress]\nmessages = \"5570\"\n[egress]\nevents = \"pub\"\n"));
    expect_error(r, "ingress.messages", "must start with");
    expect_error(r, "egress.events", "must start with");
  }
}

TEST_CASE("config: bound endpoints must be distinct", "[config]") {
  SECTION("a channel on the ingress address") {
    const std::string text = R"(
[ingress]
messages = "tcp://127.0.0.1:6000"
[channels.MAIL]
endpoint = "tcp://127.0.0.1:6000"
)";
    const ConfigError e = expect_error(parse(text), "channels.MAIL.endpoint", "duplicate endpoint");
    CHECK_THAT(e.message,
               Catch::Matchers::Contains("ingress.messages (line " +
                                         std::to_string(line_of(text, "messages")) + ")"));
    CHECK(e.line == line_of(text, "endpoint"));
  }
  SECTION("a channel on a default address") {
    expect_error(parse("[channels.MAIL]\nendpoint = \"tcp://127.0.0.1:5590\"\n"),
                 "channels.MAIL.endpoint", "also used by egress.events");
  }
  SECTION("two channels on one address") {
    expect_error(parse(R"(
[channels.MAIL]
endpoint = "ipc:///tmp/gk-out"
[channels.SMS]
endpoint = "ipc:///tmp/gk-out"
)"),
                 "channels.SMS.endpoint", "channels.MAIL.endpoint");
  }
  SECTION("a wildcard host takes the port on every interface") {
    expect_error(parse(R"(
[egress]
decisions = "tcp://*:6001"
[channels.MAIL]
endpoint = "tcp://127.0.0.1:6001"
)"),
                 "channels.MAIL.endpoint", "binds the same port as egress.decisions");
  }
  SECTION("the same port on two specific hosts is fine") {
    expect_ok(parse(R"(
[channels.MAIL]
endpoint = "tcp://127.0.0.1:6001"
[channels.SMS]
endpoint = "tcp://127.0.0.2:6001"
)"));
  }
  SECTION("ephemeral ports never clash") {
    expect_ok(parse(R"(
[ingress]
messages = "tcp://127.0.0.1:*"
events = "tcp://127.0.0.1:*"
[channels.MAIL]
endpoint = "tcp://127.0.0.1:0"
[channels.SMS]
endpoint = "tcp://127.0.0.1:0"
)"));
  }
}

TEST_CASE("config: redis.url is parsed into its parts", "[config]") {
  auto redis = [](std::string_view url) {
    return expect_ok(parse(with_channel("[redis]\nurl = \"" + std::string(url) + "\"\n"))).redis;
  };
  SECTION("host only") {
    const gk::RedisConfig r = redis("redis://cache.local");
    CHECK(r.host == "cache.local");
    CHECK(r.port == 6379);
    CHECK(r.db == 0);
    CHECK(r.username.empty());
    CHECK(r.password.empty());
  }
  SECTION("password only") {
    const gk::RedisConfig r = redis("redis://:pw@10.0.0.5:7000/3");
    CHECK(r.host == "10.0.0.5");
    CHECK(r.port == 7000);
    CHECK(r.db == 3);
    CHECK(r.username.empty());
    CHECK(r.password == "pw");
  }
  SECTION("user, password with reserved characters, IPv6 host") {
    const gk::RedisConfig r = redis("redis://svc:p%40ss:w@rd@[::1]:6390/1");
    CHECK(r.username == "svc");
    CHECK(r.password == "p@ss:w@rd");
    CHECK(r.host == "::1");
    CHECK(r.port == 6390);
    CHECK(r.db == 1);
  }
  SECTION("IPv6 without port, trailing slash") {
    const gk::RedisConfig r = redis("redis://[::1]/");
    CHECK(r.host == "::1");
    CHECK(r.port == 6379);
    CHECK(r.db == 0);
  }
}

TEST_CASE("config: a bad redis.url is an error", "[config]") {
  auto bad = [](std::string_view url, std::string_view fragment) {
    INFO(url);
    const std::string text = with_channel("[redis]\nurl = \"" + std::string(url) + "\"\n");
    const ConfigError e = expect_error(parse(text), "redis.url", fragment);
    CHECK(e.line == line_of(text, "url ="));
  };
  bad("unix:///var/run/redis.sock", "unix:// sockets are not supported");
  bad("rediss://127.0.0.1", "TLS");
  bad("http://127.0.0.1:6379", "expected redis://");
  bad("127.0.0.1:6379", "expected redis://");
  bad("redis://", "host is missing");
  bad("redis://:6379", "host is missing");
  bad("redis://127.0.0.1:0", "port must be 1..65535");
  bad("redis://127.0.0.1:65536", "port must be 1..65535");
  bad("redis://127.0.0.1:abc", "port must be 1..65535");
  bad("redis://127.0.0.1:6379/-1", "database");
  bad("redis://127.0.0.1:6379/zero", "database");
  bad("redis://user@127.0.0.1", "credentials");
  bad("redis://user:@127.0.0.1", "password is empty");
  bad("redis://:p%zz@127.0.0.1", "%-escape");
  bad("redis://127.0.0.1/0?timeout=1", "query");
  bad("redis://::1:6379", "brackets");

  SECTION("the password never appears in the error") {
    const ConfigResult r =
        parse(with_channel("[redis]\nurl = \"redis://u:TopSecret@127.0.0.1:99999\"\n"));
    REQUIRE_FALSE(r.errors.empty());
    CHECK_THAT(describe(r), !Catch::Matchers::Contains("TopSecret"));
  }
}

TEST_CASE("config: http.listen is parsed into host and port", "[config]") {
  auto http = [](std::string_view listen) {
    return parse(with_channel("[http]\nlisten = \"" + std::string(listen) + "\"\n"));
  };
  SECTION("accepted forms") {
    const gk::Config any = expect_ok(http("0.0.0.0:0"));
    CHECK(any.http.host == "0.0.0.0");
    CHECK(any.http.port == 0);
    const gk::Config v6 = expect_ok(http("[::1]:8081"));
    CHECK(v6.http.host == "::1");
    CHECK(v6.http.port == 8081);
    const gk::Config named = expect_ok(http("localhost:65535"));
    CHECK(named.http.host == "localhost");
    CHECK(named.http.port == 65535);
  }
  SECTION("rejected forms") {
    expect_error(http("8080"), "http.listen", "expected host:port");
    expect_error(http("127.0.0.1"), "http.listen", "expected host:port");
    expect_error(http(":8080"), "http.listen", "host is missing");
    expect_error(http("127.0.0.1:65536"), "http.listen", "port must be 0..65535");
    expect_error(http("127.0.0.1:-1"), "http.listen", "port must be 0..65535");
    expect_error(http("::1:8080"), "http.listen", "brackets");
    expect_error(http("[::1"), "http.listen", "unclosed");
    expect_error(http("[::1]8080"), "http.listen", "expected host:port");
  }
}

TEST_CASE("config: out-of-range numbers are errors naming the range", "[config]") {
  auto bad = [](std::string_view section, std::string_view key, std::string_view value,
                std::string_view fragment) {
    const std::string text = with_channel("[" + std::string(section) + "]\n" + std::string(key) +
                                          " = " + std::string(value) + "\n");
    INFO(text);
    expect_error(parse(text), std::string(section) + "." + std::string(key), fragment);
  };
  bad("ingress", "max_header_bytes", "63", "between 64 and 1048576, got 63");
  bad("ingress", "max_frames", "0", "between 1 and 16");
  bad("ingress", "max_frames", "17", "between 1 and 16");
  bad("ingress", "batch_size", "65537", "between 1 and 65536");
  bad("ingress", "rcvhwm", "0", "between 1 and");
  bad("egress", "sndhwm", "-5", "got -5");
  bad("redis", "connect_timeout_ms", "0", "between 1 and 600000");
  bad("redis", "command_timeout_ms", "600001", "between 1 and 600000");
  bad("redis", "history_length", "10001", "between 1 and 10000");
  bad("redis", "events_stream_maxlen", "0", "between 1 and");
  bad("http", "max_events_per_body", "1001", "between 1 and 1000");
  bad("http", "max_body_bytes", "0", "between 1024 and");
  bad("http", "threads", "65", "between 1 and 64");
  bad("http", "read_timeout_ms", "0", "between 1 and 600000");
  bad("cache", "max_entries", "0", "between 1 and");
  bad("on_store_unavailable", "hold_max_wait_ms", "-1", "between 0 and 600000");
  bad("on_store_unavailable", "hold_max_messages", "0", "between 1 and");
  bad("on_store_unavailable", "retry_initial_ms", "0", "between 1 and");

  SECTION("channel high-water mark") {
    expect_error(parse("[channels.MAIL]\nendpoint = \"tcp://127.0.0.1:5601\"\nsndhwm = 0\n"),
                 "channels.MAIL.sndhwm", "between 1 and");
  }
  SECTION("the reconnect backoff may not start above its cap") {
    const std::string text =
        with_channel("[on_store_unavailable]\nretry_initial_ms = 5000\nretry_max_ms = 1000\n");
    const ConfigError e =
        expect_error(parse(text), "on_store_unavailable.retry_initial_ms", "retry_max_ms (1000)");
    CHECK(e.line == line_of(text, "retry_initial_ms"));
    expect_error(parse(with_channel("[on_store_unavailable]\nretry_max_ms = 10\n")),
                 "on_store_unavailable.retry_initial_ms", "must not exceed");
  }
}

TEST_CASE("config: enumerations and strings accept only their values", "[config]") {
  expect_error(parse(with_channel("[log]\nlevel = \"verbose\"\n")), "log.level",
               "one of trace, debug, info, warn, error, critical, off, got \"verbose\"");
  expect_error(parse(with_channel("[log]\nformat = \"xml\"\n")), "log.format", "text, json");
  expect_error(parse(with_channel("[on_store_unavailable]\ntransactional = \"drop\"\n")),
               "on_store_unavailable.transactional", "forward, hold");
  expect_error(parse(with_channel("[http]\nauth_tokens = [\"ok\", \"\"]\n")), "http.auth_tokens[1]",
               "token is empty");
  expect_error(parse(with_channel("[http]\nauth_tokens = [\"bad token\"]\n")),
               "http.auth_tokens[0]", "whitespace");
  expect_error(parse(with_channel("[http]\nauth_tokens_env = \"1TOKENS\"\n")),
               "http.auth_tokens_env", "environment variable");
  expect_error(parse(with_channel("[redis]\nkey_prefix = \"gk :\"\n")), "redis.key_prefix",
               "whitespace");
  CHECK(expect_ok(parse(with_channel("[on_store_unavailable]\ntransactional = \"forward\"\n")))
            .on_store_unavailable.transactional == gk::TransactionalPolicy::kForward);
}

TEST_CASE("config: malformed TOML reports its line", "[config]") {
  const std::string text = "[channels.MAIL]\nendpoint = \"tcp://127.0.0.1:5601\"\naliases = [\n";
  const ConfigResult r = parse(text);
  REQUIRE(r.errors.size() == 1);
  CHECK_FALSE(r.config.has_value());
  CHECK(r.errors[0].key.empty());
  CHECK(r.errors[0].line >= 3);
  CHECK_THAT(r.errors[0].to_string(),
             Catch::Matchers::StartsWith("line " + std::to_string(r.errors[0].line) +
                                         ": TOML syntax error"));

  const ConfigResult dup = parse("[log]\nlevel = \"info\"\nlevel = \"debug\"\n");
  REQUIRE(dup.errors.size() == 1);
  CHECK(dup.errors[0].line == 3);
}

TEST_CASE("config: every problem is reported, not only the first", "[config]") {
  const std::string text = R"(
[ingress]
batch_size = 0
typo = 1
[channels.MAIL]
aliases = ["ALL"]
[redis]
url = "unix:///tmp/redis.sock"
[http]
listen = "nowhere"
[log]
level = "loud"
)";
  const ConfigResult r = parse(text);
  INFO(describe(r));
  CHECK_FALSE(r.config.has_value());
  CHECK(r.errors.size() == 7);
  CHECK(error_for(r, "ingress.batch_size") != nullptr);
  CHECK(error_for(r, "ingress.typo") != nullptr);
  CHECK(error_for(r, "channels.MAIL.aliases[0]") != nullptr);
  CHECK(error_for(r, "channels.MAIL.endpoint") != nullptr);
  CHECK(error_for(r, "redis.url") != nullptr);
  CHECK(error_for(r, "http.listen") != nullptr);
  CHECK(error_for(r, "log.level") != nullptr);
  for (const ConfigError& e : r.errors) CHECK(e.line > 0);
}

TEST_CASE("config: error text names key and line, and omits an unknown line", "[config]") {
  CHECK(ConfigError{"channels.MAIL.endpoint", 12, "required key missing"}.to_string() ==
        "channels.MAIL.endpoint (line 12): required key missing");
  CHECK(ConfigError{"channels", 0, "at least one channel is required"}.to_string() ==
        "channels: at least one channel is required");
  CHECK(ConfigError{"", 4, "TOML syntax error: x"}.to_string() == "line 4: TOML syntax error: x");
  CHECK(ConfigError{"", 0, "cannot read x"}.to_string() == "cannot read x");
}

TEST_CASE("config: the shipped config files parse without errors", "[config]") {
  SECTION("config/gatekeeper.toml lists the documented defaults") {
    const ConfigResult r = gk::load_config_file(GK_SOURCE_DIR "/config/gatekeeper.toml");
    const gk::Config c = expect_ok(r);
    REQUIRE(c.channels.size() == 3);
    CHECK(c.channels[0].name == "MAIL");
    CHECK(c.channels[0].aliases == std::vector<std::string>{"EMAIL"});
    CHECK(c.channels[1].name == "SMS");
    CHECK(c.channels[2].name == "PUSH_NOTIFICATION");
    CHECK(c.channels[2].endpoint == "tcp://127.0.0.1:5603");
    CHECK(c.http.port == 8080);
    CHECK(c.redis.port == 6379);
    // Everything else must equal the built-in defaults, or the comments would lie.
    const gk::Config d;
    CHECK(c.ingress.max_header_bytes == d.ingress.max_header_bytes);
    CHECK(c.ingress.batch_size == d.ingress.batch_size);
    CHECK(c.redis.events_stream_maxlen == d.redis.events_stream_maxlen);
    CHECK(c.http.max_body_bytes == d.http.max_body_bytes);
    CHECK(c.http.auth_tokens_env == d.http.auth_tokens_env);
    CHECK(c.cache.max_entries == d.cache.max_entries);
    CHECK(c.cache.max_memory_mb == d.cache.max_memory_mb);
    CHECK(c.on_store_unavailable.retry_max_ms == d.on_store_unavailable.retry_max_ms);
  }
  SECTION("config/demo.toml uses the demo ports") {
    const gk::Config c = expect_ok(gk::load_config_file(GK_SOURCE_DIR "/config/demo.toml"));
    CHECK(c.ingress.messages == "tcp://127.0.0.1:15570");
    CHECK(c.ingress.events == "tcp://127.0.0.1:15580");
    CHECK(c.egress.decisions == "tcp://127.0.0.1:15571");
    CHECK(c.egress.events == "tcp://127.0.0.1:15590");
    REQUIRE(c.channels.size() == 2);
    CHECK(c.channels[0].endpoint == "tcp://127.0.0.1:15601");
    CHECK(c.channels[1].endpoint == "tcp://127.0.0.1:15602");
    CHECK(c.redis.port == 16379);
    CHECK(c.http.port == 18080);
    CHECK(c.http.auth_tokens == std::vector<std::string>{"demo-token"});
  }
}

TEST_CASE("config: an unreadable file is one error with an empty key", "[config]") {
  const ConfigResult missing = gk::load_config_file("/nonexistent/gatekeeper.toml");
  REQUIRE(missing.errors.size() == 1);
  CHECK(missing.errors[0].key.empty());
  CHECK_THAT(missing.errors[0].message, Catch::Matchers::Contains("/nonexistent/gatekeeper.toml"));
  CHECK_FALSE(missing.config.has_value());

  const ConfigResult directory = gk::load_config_file(GK_SOURCE_DIR "/config");
  REQUIRE(directory.errors.size() == 1);
  CHECK_THAT(directory.errors[0].message, Catch::Matchers::Contains("directory"));
}

TEST_CASE("config: redis.cluster takes seed nodes and checks them", "[config][cluster]") {
  SECTION("seeds and refresh interval") {
    const gk::Config c = expect_ok(parse(with_channel(
        "[redis]\ncluster = [\"10.0.0.5:7000\", \"[::1]:7001\"]\ncluster_refresh_ms = 250\n")));
    CHECK(c.redis.cluster == std::vector<std::string>{"10.0.0.5:7000", "[::1]:7001"});
    CHECK(c.redis.cluster_refresh_ms == 250);
  }
  SECTION("not set: single server") {
    const gk::Config c = expect_ok(parse(with_channel("[redis]\n")));
    CHECK(c.redis.cluster.empty());
  }
  SECTION("bad seeds name their index") {
    expect_error(parse(with_channel("[redis]\ncluster = [\"10.0.0.5\"]\n")), "redis.cluster[0]",
                 "expected host:port");
    expect_error(parse(with_channel("[redis]\ncluster = [\"a:1\", \"b:0\"]\n")), "redis.cluster[1]",
                 "port must be 1..65535");
    expect_error(parse(with_channel("[redis]\ncluster = \"a:1\"\n")), "redis.cluster", "array");
  }
  SECTION("a prefix with a hash tag would collapse the key space into one slot") {
    expect_error(parse(with_channel("[redis]\ncluster = [\"a:1\"]\nkey_prefix = \"{gk}:\"\n")),
                 "redis.key_prefix", "must not contain '{' or '}'");
  }
  SECTION("a cluster has only database 0") {
    expect_error(
        parse(with_channel("[redis]\ncluster = [\"a:1\"]\nurl = \"redis://127.0.0.1:6379/3\"\n")),
        "redis.url", "only database 0");
  }
}

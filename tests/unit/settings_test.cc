// The settings table read as a spec: each entry is consistent in itself, and the loader and
// the startup summary do for every key what its entry says.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <type_traits>

#include "common/config/config.h"
#include "common/config/config_checks.h"
#include "common/config/config_summary.h"
#include "common/config/settings.h"

using namespace gk;

namespace {

constexpr std::string_view kChannel = "[channels.mail]\nendpoint = \"tcp://127.0.0.1:7001\"\n";
constexpr std::string_view kSecret = "0123456789abcdefghijklmnopqrstuvwxyz";

// A valid config with `key = value` written where the setting lives. The partners a key
// needs to be accepted are added: both retry bounds take the value, so they stay in order.
std::string config_with(const Setting& s, const std::string& value) {
  const std::string line = std::string(s.key()) + " = " + value + "\n";
  if (s.channel) return "[channels.mail]\n" + line + "endpoint = \"tcp://127.0.0.1:7001\"\n";
  std::string out(kChannel);
  if (s.topic) return out + "[topics.news]\n" + line;
  out += "[" + std::string(s.section()) + "]\n" + line;
  if (s.path == "on_store_unavailable.retry_initial_ms") out += "retry_max_ms = " + value + "\n";
  if (s.path == "on_store_unavailable.retry_max_ms") out += "retry_initial_ms = " + value + "\n";
  if (s.section() == "unsubscribe") {
    if (s.key() != "base_url") out += "base_url = \"https://example.com\"\n";
    if (s.key() != "secrets" && s.key() != "secrets_file") {
      out += "secrets = [\"" + std::string(kSecret) + "\"]\n";
    }
  }
  return out;
}

// "channels.mail.sndhwm (line 2)": where the loader reports the key config_with wrote.
std::string where(const Setting& s, const std::string& text) {
  const std::size_t at = text.find("\n" + std::string(s.key()) + " = ");
  const auto line =
      std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n') + 2;
  std::string path(s.path);
  if (s.channel) path.replace(0, std::string_view("channels.*").size(), "channels.mail");
  if (s.topic) path.replace(0, std::string_view("topics.*").size(), "topics.news");
  return path + " (line " + std::to_string(line) + ")";
}

std::vector<std::string> error_lines(const ConfigResult& r) {
  std::vector<std::string> out;
  for (const ConfigError& e : r.errors) out.push_back(e.to_string());
  return out;
}

// The setting's value in a loaded config, as the summary would show it.
nlohmann::json loaded_value(const Setting& s, const Config& c) {
  const nlohmann::json summary = summarize_config(c);
  if (s.channel) return summary["channels"][0][std::string(s.key())];
  if (s.topic) return summary["topics"][0][std::string(s.key())];
  return summary[std::string(s.section())][std::string(s.key())];
}

template <class... T>
bool holds_any(const ConstField& f) {
  return (std::holds_alternative<const T*>(f) || ...);
}

}  // namespace

TEST_CASE("settings: every entry is consistent with its member and its limits", "[config]") {
  static const Config kConfig;
  static const ChannelConfig kChannelDefaults;
  static const TopicConfig kTopicDefaults;
  std::set<std::string_view> paths;
  for (const Setting& s : settings()) {
    INFO("setting " << s.path);
    CHECK(paths.insert(s.path).second);
    CHECK_FALSE(s.doc.empty());
    if (s.reload == ReloadClass::kLive) CHECK(s.adopt != nullptr);
    const int homes = (s.config ? 1 : 0) + (s.channel ? 1 : 0) + (s.topic ? 1 : 0);
    if (s.kind == Kind::kTables) {
      CHECK(homes == 0);
      CHECK(s.differs != nullptr);
      continue;
    }
    REQUIRE(homes == 1);
    CHECK(static_cast<bool>(s.channel) == (s.section() == "channels.*"));
    CHECK(static_cast<bool>(s.topic) == (s.section() == "topics.*"));
    // Every restart-only key is named by a reload, by itself or by its table's entry.
    if (s.config) CHECK(s.differs != nullptr);
    const ConstField value = s.config    ? s.config.view(kConfig)
                             : s.channel ? s.channel.view(kChannelDefaults)
                                         : s.topic.view(kTopicDefaults);
    switch (s.kind) {
      case Kind::kString:
        CHECK(holds_any<std::string>(value));
        if (s.check != nullptr && !s.required) {
          CHECK(s.check(*std::get<const std::string*>(value)).empty());
        }
        break;
      case Kind::kOneOf:
        CHECK(holds_any<std::string, TransactionalPolicy, TopicDefault>(value));
        CHECK(std::find(s.allowed.begin(), s.allowed.end(),
                        default_text(s).substr(1, default_text(s).size() - 2)) != s.allowed.end());
        break;
      case Kind::kInteger:
        REQUIRE(holds_any<int, std::size_t, std::int64_t>(value));
        CHECK(s.min <= s.max);
        CHECK(s.min <= std::stoll(default_text(s)));
        CHECK(std::stoll(default_text(s)) <= s.max);
        break;
      case Kind::kBoolean:
        CHECK(holds_any<bool>(value));
        break;
      case Kind::kStrings:
        CHECK(holds_any<std::vector<std::string>>(value));
        break;
      case Kind::kTables:
        break;
    }
  }
  CHECK(std::vector<std::string_view>(sections().begin(), sections().end()) ==
        std::vector<std::string_view>{"ingress", "egress", "channels", "redis", "http", "log",
                                      "cache", "on_store_unavailable", "curve", "changes",
                                      "identity", "topics", "unsubscribe", "suppression",
                                      "sms_keywords", "erasure"});
}

TEST_CASE("settings: each integer key is held to its table range", "[config][limits]") {
  for (const Setting& s : settings()) {
    if (s.kind != Kind::kInteger) continue;
    INFO("setting " << s.path);
    const std::string range =
        ": must be between " + std::to_string(s.min) + " and " + std::to_string(s.max) + ", got ";
    for (const std::int64_t bad : {s.min - 1, s.max + 1}) {
      const std::string text = config_with(s, std::to_string(bad));
      const ConfigResult r = parse_config(text);
      INFO(bad);
      const auto lines = error_lines(r);
      CHECK(std::count(lines.begin(), lines.end(), where(s, text) + range + std::to_string(bad)) ==
            1);
    }
    for (const std::int64_t good : {s.min, s.max}) {
      const ConfigResult r = parse_config(config_with(s, std::to_string(good)));
      INFO(good << ": " << (r.errors.empty() ? "" : r.errors.front().to_string()));
      REQUIRE(r.config);
      CHECK(loaded_value(s, *r.config) == good);
    }
    const std::string typo = config_with(s, "\"12\"");
    const auto lines = error_lines(parse_config(typo));
    CHECK(std::count(lines.begin(), lines.end(),
                     where(s, typo) + ": expected integer, got string") == 1);
  }
}

TEST_CASE("settings: one-of keys take exactly their allowed values", "[config]") {
  for (const Setting& s : settings()) {
    if (s.kind != Kind::kOneOf) continue;
    INFO("setting " << s.path);
    std::string list;
    for (std::string_view a : s.allowed) {
      const ConfigResult r = parse_config(config_with(s, "\"" + std::string(a) + "\""));
      REQUIRE(r.config);
      CHECK(loaded_value(s, *r.config) == a);
      list.append(list.empty() ? "" : ", ").append(a);
    }
    const ConfigResult r = parse_config(config_with(s, "\"Bogus\""));
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].message == "must be one of " + list + ", got \"Bogus\"");
  }
}

TEST_CASE("settings: an unknown key names the keys its section has in the table", "[config]") {
  for (const Setting& s : settings()) {
    if (s.kind == Kind::kTables || s.key() != keys_of(s.section()).front()) continue;
    INFO("section " << s.section());
    std::string list;
    for (std::string_view k : keys_of(s.section())) list.append(list.empty() ? "" : ", ").append(k);
    std::string text = config_with(s, default_text(s));
    text.insert(text.find("\n" + std::string(s.key()) + " = ") + 1, "bogus_key = 1\n");
    const ConfigResult r = parse_config(text);
    const auto lines = error_lines(r);
    CHECK(std::count_if(lines.begin(), lines.end(), [&](const std::string& l) {
            return l.find(".bogus_key (line ") != std::string::npos &&
                   l.ends_with("unknown key (known keys: " + list + ")");
          }) == 1);
  }
}

TEST_CASE("summary: lists every setting of the table and never a secret", "[config][logging]") {
  const std::string z85 = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
  const ConfigResult r = parse_config(std::string(kChannel) + R"(aliases = ["email"]
[redis]
url = "redis://app:hunter2@pass@10.0.0.1:6380/2"
[http]
auth_tokens = ["token-one-secret", "token-two-secret"]
[curve]
secret_key = ")" + z85 + R"("
[topics.news]
default = "unsubscribed"
[unsubscribe]
base_url = "https://example.com/"
secrets = [")" + std::string(kSecret) +
                                      R"("]
)");
  INFO((r.errors.empty() ? "" : r.errors.front().to_string()));
  REQUIRE(r.config);
  const nlohmann::json summary = summarize_config(*r.config);
  const std::string text = summary.dump();
  for (const std::string& secret : std::vector<std::string>{
           "hunter2", "token-one-secret", "token-two-secret", std::string(kSecret), z85}) {
    CHECK(text.find(secret) == std::string::npos);
  }
  CHECK(summary["redis"]["url"] == "redis://app:<redacted>@10.0.0.1:6380/2");
  CHECK(summary["http"]["auth_tokens"] == "2 configured");
  CHECK(summary["unsubscribe"]["secrets"] == "1 configured");
  CHECK(summary["curve"]["secret_key"] == "<redacted>");
  CHECK(summary["unsubscribe"]["base_url"] == "https://example.com");
  CHECK(summary["channels"][0]["name"] == "MAIL");
  CHECK(summary["channels"][0]["aliases"] == nlohmann::json::array({"EMAIL"}));
  CHECK(summary["topics"][0]["name"] == "news");
  CHECK(summary["topics"][0]["default"] == "unsubscribed");
  for (const Setting& s : settings()) {
    if (s.kind == Kind::kTables) continue;
    INFO("setting " << s.path);
    CHECK_FALSE(loaded_value(s, *r.config).is_null());
  }
}

TEST_CASE("summary: a Redis URL keeps everything but its password", "[config][logging]") {
  CHECK(redact_url_password("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0");
  CHECK(redact_url_password("redis://:pw@h:1/2") == "redis://:<redacted>@h:1/2");
  CHECK(redact_url_password("redis://user:p:w@x@[::1]:6379") ==
        "redis://user:<redacted>@[::1]:6379");
}

#include "common/config/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <sstream>
#include <utility>

#include "common/config/config_checks.h"
#include "common/config/config_reader.h"
#include "common/config/settings.h"
#include "common/rules/channels.h"

namespace gk {

std::string ConfigError::to_string() const {
  std::string out = key;
  if (line > 0) {
    out += key.empty() ? "line " + std::to_string(line) : " (line " + std::to_string(line) + ")";
  }
  if (!out.empty()) out += ": ";
  return out + message;
}

namespace {

// Each key is read by the settings table (config_reader.cc); what stays here are the rules
// that span keys or need more than one value: URLs parsed into parts, tables of tables,
// pairs that must agree, endpoints that must not clash.

// A socket the gatekeeper binds; two of them on one address would fail at startup.
struct BoundEndpoint {
  std::string key;
  int line;
  std::string endpoint;
};

// The section's endpoints that were read (or defaulted) without a problem.
void add_endpoints(std::vector<BoundEndpoint>& out, const SectionRead& got,
                   std::string_view section, const toml::table* t,
                   std::initializer_list<std::pair<std::string_view, const std::string*>> keys) {
  for (const auto& [key, endpoint] : keys) {
    if (got.ok(key) && !endpoint->empty()) {
      out.push_back({std::string(section) + "." + std::string(key), line_at(t, key), *endpoint});
    }
  }
}

void read_ingress(Reader& r, const toml::table* t, Config& c, std::vector<BoundEndpoint>& bound) {
  const SectionRead got = read_section(r, or_empty(t), "ingress", "ingress", c);
  add_endpoints(bound, got, "ingress", t,
                {{"messages", &c.ingress.messages}, {"events", &c.ingress.events}});
}

void read_egress(Reader& r, const toml::table* t, Config& c, std::vector<BoundEndpoint>& bound) {
  const SectionRead got = read_section(r, or_empty(t), "egress", "egress", c);
  add_endpoints(bound, got, "egress", t,
                {{"decisions", &c.egress.decisions}, {"events", &c.egress.events}});
}

struct ChannelEntry {
  ChannelConfig config;
  std::string path;
  toml::source_position position;
  bool name_ok = false;
  std::vector<int> alias_lines;
  bool endpoint_ok = false;
  int endpoint_line = 0;
};

std::optional<ChannelEntry> read_channel(Reader& r, std::string_view key, const toml::node& node) {
  ChannelEntry e;
  e.path = join("channels", key);
  e.position = node.source().begin;
  const toml::table* t = node.as_table();
  if (t == nullptr) {
    r.fail(e.path, line_of(node), "expected table, got " + type_name(node.type()));
    return std::nullopt;
  }
  e.config.name = upper(key);
  if (std::string problem = channel_name_problem("channel name", key); !problem.empty()) {
    r.fail(e.path, line_of(*t), std::move(problem));
  } else {
    e.name_ok = true;
  }
  const SectionRead got = read_section(r, *t, e.path, "channels.*", e.config);
  e.alias_lines = got.lines("aliases");
  for (std::string& alias : e.config.aliases) alias = upper(alias);
  e.endpoint_ok = got.ok("endpoint");
  e.endpoint_line = line_at(t, "endpoint");
  return e;
}

// Every name and alias resolves to exactly one channel, so each may be claimed once.
void check_channel_names(Reader& r, const std::vector<ChannelEntry>& entries) {
  struct Owner {
    std::string path;
    int line;
    bool alias;
  };
  std::map<std::string, Owner, std::less<>> taken;
  auto claim = [&](const std::string& name, bool alias, const ChannelEntry& e, int line) {
    auto [it, inserted] = taken.try_emplace(name, Owner{e.path, line, alias});
    if (inserted) return;
    const Owner& o = it->second;
    std::string message = (alias ? "alias " : "channel name ") + in_quotes(name);
    if (o.path == e.path) {
      message += o.alias ? " is listed twice" : " repeats the channel's own name";
    } else {
      message += std::string(" collides with ") + (o.alias ? "an alias of " : "the name of ") +
                 o.path + (o.line > 0 ? " (line " + std::to_string(o.line) + ")" : "");
    }
    r.fail(alias ? e.path + ".aliases" : e.path, line, std::move(message));
  };
  for (const ChannelEntry& e : entries) {
    if (e.name_ok) claim(e.config.name, false, e, static_cast<int>(e.position.line));
    for (std::size_t i = 0; i < e.config.aliases.size(); ++i) {
      claim(e.config.aliases[i], true, e, e.alias_lines[i]);
    }
  }
}

void read_channels(Reader& r, const toml::table& root, std::vector<ChannelConfig>& out,
                   std::vector<BoundEndpoint>& bound) {
  const toml::node* node = root.get("channels");
  if (node == nullptr) {
    r.fail("channels", 0, "at least one channel is required");
    return;
  }
  const toml::table* t = r.table(root, "", "channels");
  if (t == nullptr) return;
  if (t->empty()) {
    r.fail("channels", line_of(*t), "at least one channel is required");
    return;
  }
  // A person's record keeps one bit per channel type, and the counters one row each.
  if (t->size() > kMaxChannelTypes) {
    r.fail("channels", line_of(*t),
           "at most " + std::to_string(kMaxChannelTypes) + " channels, got " +
               std::to_string(t->size()));
    return;
  }
  std::vector<ChannelEntry> entries;
  for (const auto& [key, child] : *t) {
    if (auto e = read_channel(r, key.str(), child)) entries.push_back(std::move(*e));
  }
  // toml++ keeps tables sorted by key; the source position restores the order of the file,
  // which is the order operators expect in logs and metrics.
  std::stable_sort(
      entries.begin(), entries.end(),
      [](const ChannelEntry& a, const ChannelEntry& b) { return a.position < b.position; });
  check_channel_names(r, entries);
  for (ChannelEntry& e : entries) {
    if (e.endpoint_ok) {
      bound.push_back({e.path + ".endpoint", e.endpoint_line, e.config.endpoint});
    }
    out.push_back(std::move(e.config));
  }
}

void read_redis(Reader& r, const toml::table* t, Config& config) {
  RedisConfig& c = config.redis;
  const SectionRead got = read_section(r, or_empty(t), "redis", "redis", config);
  if (got.ok("url")) parse_redis_url(c.url, c);  // checked as it was read
  if (!c.cluster.empty()) {
    // Cluster keys must not carry a hash tag of their own: the layout adds one where two
    // keys have to share a slot (docs/DEPLOYMENT.md).
    if (c.key_prefix.find_first_of("{}") != std::string::npos) {
      r.fail("redis.key_prefix", line_at(t, "key_prefix"),
             "must not contain '{' or '}' when redis.cluster is set");
    }
    if (c.db != 0) {
      r.fail("redis.url", line_at(t, "url"), "Redis Cluster has only database 0");
    }
  }
}

void read_http(Reader& r, const toml::table* t, Config& c) {
  const SectionRead got = read_section(r, or_empty(t), "http", "http", c);
  if (got.ok("listen")) parse_listen(c.http.listen, c.http);  // checked as it was read
}

void read_store_unavailable(Reader& r, const toml::table* t, Config& config) {
  const StoreUnavailableConfig& c = config.on_store_unavailable;
  const SectionRead got =
      read_section(r, or_empty(t), "on_store_unavailable", "on_store_unavailable", config);
  if (got.ok("retry_initial_ms") && got.ok("retry_max_ms") && c.retry_initial_ms > c.retry_max_ms) {
    const int line = line_at(t, "retry_initial_ms") > 0 ? line_at(t, "retry_initial_ms")
                                                        : line_at(t, "retry_max_ms");
    r.fail("on_store_unavailable.retry_initial_ms", line,
           "must not exceed retry_max_ms (" + std::to_string(c.retry_max_ms) + "), got " +
               std::to_string(c.retry_initial_ms));
  }
}

bool is_wildcard_host(std::string_view host) {
  return host == "*" || host == "0.0.0.0" || host == "::";
}

// Exact duplicates, and TCP endpoints on one port where one host covers the other.
void check_distinct(Reader& r, const std::vector<BoundEndpoint>& bound) {
  for (std::size_t i = 1; i < bound.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const BoundEndpoint& a = bound[j];
      const BoundEndpoint& b = bound[i];
      bool clash = a.endpoint == b.endpoint;
      if (!clash && starts_with(a.endpoint, "tcp://") && starts_with(b.endpoint, "tcp://")) {
        const HostPort pa = split_host_port(std::string_view(a.endpoint).substr(6), "");
        const HostPort pb = split_host_port(std::string_view(b.endpoint).substr(6), "");
        clash = pa.port == pb.port &&
                (pa.host == pb.host || is_wildcard_host(pa.host) || is_wildcard_host(pb.host));
      }
      // Ephemeral ports never clash: the kernel hands out a fresh one per bind.
      if (clash && (b.endpoint.ends_with(":*") || b.endpoint.ends_with(":0"))) clash = false;
      if (!clash) continue;
      std::string owner = a.key + (a.line > 0 ? " (line " + std::to_string(a.line) + ")" : "");
      r.fail(b.key, b.line,
             a.endpoint == b.endpoint
                 ? "duplicate endpoint " + in_quotes(b.endpoint) + ", also used by " + owner
                 : "endpoint " + in_quotes(b.endpoint) + " binds the same port as " + owner + " (" +
                       in_quotes(a.endpoint) + ")");
      break;
    }
  }
}

void read_curve(Reader& r, const toml::table* t, Config& config) {
  const CurveConfig& c = config.curve;
  read_section(r, or_empty(t), "curve", "curve", config);
  if (!c.enabled) return;
  if (!c.enabled) return;
  if (c.secret_key.empty() == c.secret_key_file.empty()) {
    r.fail("curve.secret_key", line_at(t, "enabled"),
           "set exactly one of curve.secret_key and curve.secret_key_file");
  }
  if (c.allowed_clients.empty() && c.allowed_clients_file.empty()) {
    r.fail("curve.allowed_clients", line_at(t, "enabled"),
           "CURVE needs at least one allowed client key (allowed_clients or "
           "allowed_clients_file)");
  }
}

void read_topics(Reader& r, const toml::table* t, Config& config) {
  if (t == nullptr) return;
  if (t->size() > kMaxTopics) {
    r.fail("topics", line_of(*t),
           "at most " + std::to_string(kMaxTopics) + " topics, got " + std::to_string(t->size()));
    return;
  }
  const ChannelRegistry registry(config.channels);
  std::vector<std::pair<toml::source_position, TopicConfig>> entries;
  for (const auto& [key, node] : *t) {
    const std::string path = join("topics", key.str());
    const toml::table* topic = node.as_table();
    if (topic == nullptr) {
      r.fail(path, line_of(node), "expected table, got " + type_name(node.type()));
      continue;
    }
    if (std::string problem = topic_name_problem(key.str()); !problem.empty()) {
      r.fail(path, line_of(*topic), std::move(problem));
      continue;
    }
    for (const auto& entry : entries) {
      if (iequals(entry.second.name, key.str())) {
        r.fail(path, line_of(*topic),
               "topic " + in_quotes(key.str()) + " differs from " + in_quotes(entry.second.name) +
                   " only in case (topic names are matched case-insensitively)");
      }
    }
    TopicConfig c;
    c.name = std::string(key.str());
    const SectionRead got = read_section(r, *topic, path, "topics.*", c);
    const std::vector<int>& lines = got.lines("channels");
    for (std::size_t i = 0; i < c.channels.size(); ++i) {
      if (const auto index = registry.find_type(c.channels[i])) {
        c.channels[i] = registry.name(*index);
      } else {
        r.fail(path + ".channels", lines[i], "unknown channel " + in_quotes(c.channels[i]));
      }
    }
    entries.emplace_back(topic->source().begin, std::move(c));
  }
  // File order, as for channels.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& e : entries) config.topics.push_back(std::move(e.second));
}

void read_unsubscribe(Reader& r, const toml::table* t, Config& config) {
  if (t == nullptr) return;
  UnsubscribeConfig& c = config.unsubscribe;
  read_section(r, *t, "unsubscribe", "unsubscribe", config);
  while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
  if (c.secrets.empty() == c.secrets_file.empty()) {
    r.fail("unsubscribe.secrets", line_of(*t),
           "set exactly one of unsubscribe.secrets (non-empty) and unsubscribe.secrets_file");
  }
}

// The keyword lists must not share a word: one body cannot both stop and restart.
void read_sms_keywords(Reader& r, const toml::table* t, Config& config) {
  if (t == nullptr) return;
  read_section(r, *t, "sms_keywords", "sms_keywords", config);
  for (const std::string& out : config.sms_keywords.opt_out) {
    for (const std::string& in : config.sms_keywords.opt_in) {
      if (iequals(out, in)) {
        r.fail("sms_keywords.opt_in", line_at(t, "opt_in"),
               in_quotes(in) + " is both an opt-out and an opt-in keyword");
      }
    }
  }
}

// Sections in file order of the table; errors are sorted by line afterwards, so this order
// only shows among errors without a line.
void read_config(Reader& r, const toml::table& root, Config& config) {
  r.only_keys(root, "", sections());
  auto section = [&](std::string_view name) { return r.table(root, "", name); };
  std::vector<BoundEndpoint> bound;
  read_ingress(r, section("ingress"), config, bound);
  read_egress(r, section("egress"), config, bound);
  read_channels(r, root, config.channels, bound);
  read_redis(r, section("redis"), config);
  read_http(r, section("http"), config);
  for (std::string_view plain : {"log", "cache"}) {
    read_section(r, or_empty(section(plain)), plain, plain, config);
  }
  read_store_unavailable(r, section("on_store_unavailable"), config);
  read_curve(r, section("curve"), config);
  for (std::string_view plain : {"changes", "identity"}) {
    read_section(r, or_empty(section(plain)), plain, plain, config);
  }
  read_topics(r, section("topics"), config);
  read_unsubscribe(r, section("unsubscribe"), config);
  for (std::string_view plain : {"suppression", "erasure"}) {
    read_section(r, or_empty(section(plain)), plain, plain, config);
  }
  read_sms_keywords(r, section("sms_keywords"), config);
  check_distinct(r, bound);
}

}  // namespace

ConfigResult parse_config(std::string_view toml_text, std::string_view source_name) {
  ConfigResult result;
  Reader reader(result.errors);
  try {
    const toml::table root = toml::parse(toml_text, source_name);
    Config config;
    read_config(reader, root, config);
    if (result.errors.empty()) result.config = std::move(config);
    // Checks run section by section; file order reads better. Errors without a line last.
    auto rank = [](const ConfigError& e) {
      return e.line > 0 ? e.line : std::numeric_limits<int>::max();
    };
    std::stable_sort(result.errors.begin(), result.errors.end(),
                     [&](const ConfigError& a, const ConfigError& b) { return rank(a) < rank(b); });
  } catch (const toml::parse_error& e) {
    reader.fail("", static_cast<int>(e.source().begin.line),
                "TOML syntax error: " + std::string(e.description()));
  } catch (const std::exception& e) {
    reader.fail("", 0, std::string("cannot load configuration: ") + e.what());
  }
  return result;
}

ConfigResult load_config_file(const std::string& path) {
  ConfigResult result;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    result.errors.push_back({"", 0, "cannot read " + path + ": is a directory"});
    return result;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    result.errors.push_back({"", 0, "cannot read " + path + ": " + std::strerror(errno)});
    return result;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    result.errors.push_back({"", 0, "cannot read " + path + ": read error"});
    return result;
  }
  return parse_config(text.str(), path);
}

}  // namespace gk

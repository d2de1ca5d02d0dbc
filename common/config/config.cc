#include "common/config/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <sstream>
#include <utility>

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

// Limits. They exist to catch typos (a missing or extra zero) before they become an outage,
// not to encode tuning advice; each is far from any value a real deployment needs.
constexpr std::int64_t kMaxTimeoutMs = 600000;       // ten minutes: longer is a stuck process
constexpr std::int64_t kMaxHighWater = 10000000;     // ZeroMQ HWM; 0 (unbounded) is refused
constexpr std::int64_t kMaxQueueEntries = 10000000;  // held messages
constexpr std::int64_t kMaxCacheEntries = 100000000;
constexpr std::int64_t kMaxStreamLength = 1000000000;
constexpr std::int64_t kMaxFutureMs = 86400000;  // a day
// Every status write for a user walks its linked emails inside Redis: 10000 is already
// ~15 ms per write.
constexpr std::int64_t kMaxEmailsPerUser = 10000;

// Check functions return an empty string when the value is acceptable, else the problem.
using Check = std::string (*)(std::string_view);

int line_of(const toml::node& node) {
  return static_cast<int>(node.source().begin.line);
}

std::string type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

// Keys are echoed the way TOML would need them written, so a path can be pasted back.
std::string join(std::string_view path, std::string_view key) {
  const bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
  std::string out(path);
  if (!out.empty()) out += '.';
  if (bare) return out.append(key);
  return out.append("\"").append(key).append("\"");
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool has_space_or_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](unsigned char c) { return std::isspace(c) || std::iscntrl(c); });
}

// Digits only: from_chars alone would accept a leading '-' and ignore trailing junk.
std::optional<std::int64_t> parse_number(std::string_view s, std::int64_t max) {
  if (s.empty() || s.size() > 10 ||
      !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  std::from_chars(s.data(), s.data() + s.size(), value);
  if (value > max) return std::nullopt;
  return value;
}

std::string in_quotes(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

// Splits "host:port" or "[v6]:port"; the host comes back without brackets because that is
// what getaddrinfo, libzmq and hiredis want.
struct HostPort {
  std::string host;
  std::string port;
  std::string problem;
};

HostPort split_host_port(std::string_view s, std::string_view example) {
  HostPort out;
  std::size_t colon;
  if (!s.empty() && s.front() == '[') {
    const std::size_t close = s.find(']');
    if (close == std::string_view::npos) {
      out.problem = "unclosed '[' in IPv6 address";
      return out;
    }
    out.host = std::string(s.substr(1, close - 1));
    colon = close + 1;
    if (colon >= s.size() || s[colon] != ':') {
      out.problem = "expected host:port, e.g. " + std::string(example);
      return out;
    }
  } else {
    colon = s.rfind(':');
    if (colon == std::string_view::npos) {
      out.problem = "expected host:port, e.g. " + std::string(example);
      return out;
    }
    out.host = std::string(s.substr(0, colon));
    if (out.host.find(':') != std::string::npos) {
      out.problem = "IPv6 addresses must be in brackets, e.g. [::1]";
      return out;
    }
  }
  if (out.host.empty()) out.problem = "host is missing";
  out.port = std::string(s.substr(colon + 1));
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

std::string endpoint_problem(std::string_view ep) {
  if (starts_with(ep, "ipc://") || starts_with(ep, "inproc://")) {
    return ep.substr(ep.find("://") + 3).empty() ? "endpoint has no path or name" : "";
  }
  if (!starts_with(ep, "tcp://")) return "endpoint must start with tcp://, ipc:// or inproc://";
  HostPort hp = split_host_port(ep.substr(6), "tcp://127.0.0.1:5570");
  if (!hp.problem.empty()) return hp.problem;
  // '*' and 0 ask the kernel for a free port, which tests use to avoid clashes.
  if (hp.port != "*" && !parse_number(hp.port, 65535)) return "port must be 0..65535 or *";
  return "";
}

std::string channel_name_problem(std::string_view kind, std::string_view raw) {
  const std::string name = upper(raw);
  if (name.empty()) return std::string(kind) + " is empty";
  if (!std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isupper(c) || std::isdigit(c) || c == '_';
      })) {
    return std::string(kind) + " " + in_quotes(raw) + " may only contain letters, digits and _";
  }
  // Both are stored beside the channel statuses in the same Redis hash (PROTOCOL.md 3).
  if (name == "ALL" || name == "BLACKLIST") {
    return std::string(kind) + " " + in_quotes(name) + " is reserved";
  }
  return "";
}

std::string alias_problem(std::string_view raw) {
  return channel_name_problem("alias", raw);
}

std::string token_problem(std::string_view token) {
  if (token.empty()) return "token is empty";
  // HTTP strips header whitespace, so such a token could never match.
  if (has_space_or_control(token)) return "token contains whitespace or control characters";
  return "";
}

std::string env_name_problem(std::string_view name) {
  if (name.empty()) return "";  // disables the environment source
  const bool ok = !std::isdigit(static_cast<unsigned char>(name.front())) &&
                  std::all_of(name.begin(), name.end(),
                              [](unsigned char c) { return std::isalnum(c) || c == '_'; });
  return ok ? "" : "not a valid environment variable name";
}

std::string key_prefix_problem(std::string_view prefix) {
  // Other jobs type these keys into redis-cli; whitespace there is a trap.
  return has_space_or_control(prefix) ? "key prefix contains whitespace or control characters" : "";
}

std::string cluster_seed_problem(std::string_view seed) {
  const HostPort hp = split_host_port(seed, "10.0.0.5:6379");
  if (!hp.problem.empty()) return hp.problem;
  const auto port = parse_number(hp.port, 65535);
  if (!port || *port == 0) return "port must be 1..65535";
  return "";
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= s.size()) return {};
    auto [end, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, value, 16);
    if (ec != std::errc() || end != s.data() + i + 3) return {};
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

// Fills host, port, db, username and password. Problems never echo the URL, since it may
// carry a password.
std::string parse_redis_url(std::string_view url, RedisConfig& out) {
  if (starts_with(url, "unix://")) return "unix:// sockets are not supported; use redis://";
  if (starts_with(url, "rediss://")) return "TLS (rediss://) is not supported";
  if (!starts_with(url, "redis://")) {
    return "expected redis://[[user]:password@]host[:port][/db]";
  }
  std::string_view rest = url.substr(8);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return "query parameters are not supported";
  }
  // The last '@' ends the credentials: a password may itself contain '@'.
  const std::size_t at = rest.rfind('@');
  std::string username;
  std::string password;
  if (at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      return "credentials must be :password@ or user:password@";
    }
    auto user = percent_decode(userinfo.substr(0, colon));
    auto pass = percent_decode(userinfo.substr(colon + 1));
    if (!user || !pass) return "bad %-escape in credentials";
    if (pass->empty()) return "password is empty";
    username = std::move(*user);
    password = std::move(*pass);
    rest = rest.substr(at + 1);
  }
  const std::size_t slash = rest.find('/');
  const std::string_view authority = rest.substr(0, slash);
  const std::string_view db =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);

  std::string host;
  std::optional<std::int64_t> port = 6379;
  if (authority.find(':') == std::string_view::npos && !starts_with(authority, "[")) {
    host = std::string(authority);
  } else if (starts_with(authority, "[") && authority.back() == ']') {
    host = std::string(authority.substr(1, authority.size() - 2));
  } else {
    HostPort hp = split_host_port(authority, "redis://127.0.0.1:6379");
    if (!hp.problem.empty()) return hp.problem;
    host = hp.host;
    port = parse_number(hp.port, 65535);
  }
  if (host.empty()) return "host is missing";
  if (!port || *port == 0) return "port must be 1..65535";
  const std::optional<std::int64_t> db_number =
      db.empty() ? std::optional<std::int64_t>(0) : parse_number(db, 2147483647);
  if (!db_number) return "database must be a non-negative integer";

  out.host = std::move(host);
  out.port = static_cast<int>(*port);
  out.db = static_cast<int>(*db_number);
  out.username = std::move(username);
  out.password = std::move(password);
  return "";
}

std::string parse_listen(std::string_view listen, HttpConfig& out) {
  HostPort hp = split_host_port(listen, "127.0.0.1:8080");
  if (!hp.problem.empty()) return hp.problem;
  const std::optional<std::int64_t> port = parse_number(hp.port, 65535);
  if (!port) return "port must be 0..65535";
  out.host = hp.host;
  out.port = static_cast<int>(*port);
  return "";
}

// Reads typed values out of tables and records every problem instead of stopping.
class Reader {
 public:
  explicit Reader(std::vector<ConfigError>& errors) : errors_(errors) {}

  void fail(std::string key, int line, std::string message) {
    errors_.push_back(ConfigError{std::move(key), line, std::move(message)});
  }

  // Returns nullptr when the key is absent or not a table (the latter is recorded).
  const toml::table* table(const toml::table& parent, std::string_view path, std::string_view key) {
    const toml::node* node = parent.get(key);
    if (node == nullptr) return nullptr;
    if (const toml::table* t = node->as_table()) return t;
    wrong_type(join(path, key), *node, "table");
    return nullptr;
  }

  void only_keys(const toml::table& t, std::string_view path,
                 std::initializer_list<std::string_view> known) {
    for (const auto& [key, node] : t) {
      if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
      std::string list;
      for (std::string_view k : known) list.append(list.empty() ? "" : ", ").append(k);
      fail(join(path, key.str()), line_of(node), "unknown key (known keys: " + list + ")");
    }
  }

  // The getters below leave `out` alone when the key is absent or its value unusable, so the
  // default survives, and return false only in the unusable case.
  bool string(const toml::table& t, std::string_view path, std::string_view key, std::string& out,
              Check check = nullptr) {
    const auto* v = value<std::string>(t, path, key, "string");
    if (v == nullptr) return t.get(key) == nullptr;
    if (check != nullptr) {
      if (std::string problem = check(v->get()); !problem.empty()) {
        fail(join(path, key), line_of(*v), std::move(problem));
        return false;
      }
    }
    out = v->get();
    return true;
  }

  bool boolean(const toml::table& t, std::string_view path, std::string_view key, bool& out) {
    const auto* v = value<bool>(t, path, key, "boolean");
    if (v != nullptr) out = v->get();
    return v != nullptr || t.get(key) == nullptr;
  }

  template <typename T>
  bool integer(const toml::table& t, std::string_view path, std::string_view key, std::int64_t min,
               std::int64_t max, T& out) {
    const auto* v = value<std::int64_t>(t, path, key, "integer");
    if (v == nullptr) return t.get(key) == nullptr;
    if (v->get() < min || v->get() > max) {
      fail(join(path, key), line_of(*v),
           "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
               std::to_string(v->get()));
      return false;
    }
    out = static_cast<T>(v->get());
    return true;
  }

  bool one_of(const toml::table& t, std::string_view path, std::string_view key,
              std::initializer_list<std::string_view> allowed, std::string& out) {
    const auto* v = value<std::string>(t, path, key, "string");
    if (v == nullptr) return t.get(key) == nullptr;
    if (std::find(allowed.begin(), allowed.end(), v->get()) == allowed.end()) {
      std::string list;
      for (std::string_view a : allowed) list.append(list.empty() ? "" : ", ").append(a);
      fail(join(path, key), line_of(*v), "must be one of " + list + ", got " + in_quotes(v->get()));
      return false;
    }
    out = v->get();
    return true;
  }

  // An array of strings. Unlike the other getters it keeps the acceptable elements even when
  // some are bad, so later checks (alias collisions) still see them; `lines` receives the
  // line of each kept element.
  bool strings(const toml::table& t, std::string_view path, std::string_view key,
               std::vector<std::string>& out, Check check, std::vector<int>* lines = nullptr) {
    const toml::node* node = t.get(key);
    if (node == nullptr) return true;
    const toml::array* array = node->as_array();
    if (array == nullptr) {
      wrong_type(join(path, key), *node, "array of strings");
      return false;
    }
    std::vector<std::string> values;
    bool ok = true;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const toml::node& item = *array->get(i);
      const std::string item_key = join(path, key) + "[" + std::to_string(i) + "]";
      const auto* s = item.as_string();
      if (s == nullptr) {
        wrong_type(item_key, item, "string");
        ok = false;
      } else if (std::string problem = check(s->get()); !problem.empty()) {
        fail(item_key, line_of(item), std::move(problem));
        ok = false;
      } else {
        values.push_back(s->get());
        if (lines != nullptr) lines->push_back(line_of(item));
      }
    }
    out = std::move(values);
    return ok;
  }

 private:
  template <typename V>
  const toml::value<V>* value(const toml::table& t, std::string_view path, std::string_view key,
                              std::string_view expected) {
    const toml::node* node = t.get(key);
    if (node == nullptr) return nullptr;
    if (const auto* v = node->as<V>()) return v;
    wrong_type(join(path, key), *node, expected);
    return nullptr;
  }

  void wrong_type(std::string key, const toml::node& node, std::string_view expected) {
    fail(std::move(key), line_of(node),
         "expected " + std::string(expected) + ", got " + type_name(node.type()));
  }

  std::vector<ConfigError>& errors_;
};

// A socket the gatekeeper binds; two of them on one address would fail at startup.
struct BoundEndpoint {
  std::string key;
  int line;
  std::string endpoint;
};

// An absent section still goes through the getters, so its defaults are validated too.
const toml::table& or_empty(const toml::table* t) {
  static const toml::table kEmpty;
  return t != nullptr ? *t : kEmpty;
}

int line_at(const toml::table* t, std::string_view key) {
  const toml::node* node = t != nullptr ? t->get(key) : nullptr;
  return node != nullptr ? line_of(*node) : 0;
}

void add_endpoint(std::vector<BoundEndpoint>& out, bool usable, std::string key,
                  const toml::table* t, std::string_view leaf, const std::string& endpoint) {
  if (usable && !endpoint.empty()) out.push_back({std::move(key), line_at(t, leaf), endpoint});
}

void read_ingress(Reader& r, const toml::table* t, IngressConfig& c,
                  std::vector<BoundEndpoint>& bound) {
  const toml::table& s = or_empty(t);
  r.only_keys(s, "ingress",
              {"messages", "events", "rcvhwm", "max_header_bytes", "max_frames", "batch_size"});
  const bool messages_ok = r.string(s, "ingress", "messages", c.messages, endpoint_problem);
  const bool events_ok = r.string(s, "ingress", "events", c.events, endpoint_problem);
  r.integer(s, "ingress", "rcvhwm", 1, kMaxHighWater, c.rcvhwm);
  r.integer(s, "ingress", "max_header_bytes", 64, 1048576, c.max_header_bytes);
  r.integer(s, "ingress", "max_frames", 1, 16, c.max_frames);
  r.integer(s, "ingress", "batch_size", 1, 65536, c.batch_size);
  add_endpoint(bound, messages_ok, "ingress.messages", t, "messages", c.messages);
  add_endpoint(bound, events_ok, "ingress.events", t, "events", c.events);
}

void read_egress(Reader& r, const toml::table* t, EgressConfig& c,
                 std::vector<BoundEndpoint>& bound) {
  const toml::table& s = or_empty(t);
  r.only_keys(s, "egress",
              {"decisions", "events", "sndhwm", "channel_backlog", "drain_timeout_ms"});
  const bool decisions_ok = r.string(s, "egress", "decisions", c.decisions, endpoint_problem);
  const bool events_ok = r.string(s, "egress", "events", c.events, endpoint_problem);
  r.integer(s, "egress", "sndhwm", 1, kMaxHighWater, c.sndhwm);
  r.integer(s, "egress", "channel_backlog", 0, kMaxHighWater, c.channel_backlog);
  r.integer(s, "egress", "drain_timeout_ms", 0, 600000, c.drain_timeout_ms);
  add_endpoint(bound, decisions_ok, "egress.decisions", t, "decisions", c.decisions);
  add_endpoint(bound, events_ok, "egress.events", t, "events", c.events);
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
  r.only_keys(*t, e.path, {"aliases", "endpoint", "require_address", "sndhwm"});
  r.strings(*t, e.path, "aliases", e.config.aliases, alias_problem, &e.alias_lines);
  for (std::string& alias : e.config.aliases) alias = upper(alias);
  if (t->get("endpoint") == nullptr) {
    r.fail(e.path + ".endpoint", line_of(*t), "required key missing");
  } else {
    e.endpoint_ok = r.string(*t, e.path, "endpoint", e.config.endpoint, endpoint_problem);
    e.endpoint_line = line_at(t, "endpoint");
  }
  r.boolean(*t, e.path, "require_address", e.config.require_address);
  r.integer(*t, e.path, "sndhwm", 1, kMaxHighWater, e.config.sndhwm);
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

void read_redis(Reader& r, const toml::table* t, RedisConfig& c) {
  const toml::table& s = or_empty(t);
  r.only_keys(s, "redis",
              {"url", "cluster", "cluster_refresh_ms", "key_prefix", "connect_timeout_ms",
               "command_timeout_ms", "events_stream_maxlen", "history_length"});
  if (r.string(s, "redis", "url", c.url)) {
    if (std::string problem = parse_redis_url(c.url, c); !problem.empty()) {
      r.fail("redis.url", line_at(t, "url"), std::move(problem));
    }
  }
  r.string(s, "redis", "key_prefix", c.key_prefix, key_prefix_problem);
  r.integer(s, "redis", "connect_timeout_ms", 1, kMaxTimeoutMs, c.connect_timeout_ms);
  r.integer(s, "redis", "command_timeout_ms", 1, kMaxTimeoutMs, c.command_timeout_ms);
  r.integer(s, "redis", "events_stream_maxlen", 1, kMaxStreamLength, c.events_stream_maxlen);
  r.integer(s, "redis", "history_length", 1, 10000, c.history_length);
  r.strings(s, "redis", "cluster", c.cluster, cluster_seed_problem);
  r.integer(s, "redis", "cluster_refresh_ms", 10, kMaxTimeoutMs, c.cluster_refresh_ms);
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

void read_http(Reader& r, const toml::table* t, HttpConfig& c) {
  const toml::table& s = or_empty(t);
  r.only_keys(s, "http",
              {"listen", "auth_tokens", "auth_tokens_env", "auth_tokens_file", "max_body_bytes",
               "max_events_per_body", "read_timeout_ms", "write_timeout_ms", "threads",
               "max_queued_connections", "metrics_require_token", "max_connections",
               "max_header_bytes", "header_timeout_ms", "request_timeout_ms"});
  if (r.string(s, "http", "listen", c.listen)) {
    if (std::string problem = parse_listen(c.listen, c); !problem.empty()) {
      r.fail("http.listen", line_at(t, "listen"), std::move(problem));
    }
  }
  r.strings(s, "http", "auth_tokens", c.auth_tokens, token_problem);
  r.string(s, "http", "auth_tokens_env", c.auth_tokens_env, env_name_problem);
  r.string(s, "http", "auth_tokens_file", c.auth_tokens_file);
  r.integer(s, "http", "max_body_bytes", 1024, 64 << 20, c.max_body_bytes);
  r.integer(s, "http", "max_events_per_body", 1, 1000, c.max_events_per_body);
  r.integer(s, "http", "read_timeout_ms", 1, kMaxTimeoutMs, c.read_timeout_ms);
  r.integer(s, "http", "write_timeout_ms", 1, kMaxTimeoutMs, c.write_timeout_ms);
  r.integer(s, "http", "threads", 1, 64, c.threads);
  r.integer(s, "http", "max_queued_connections", 1, 100000, c.max_queued_connections);
  r.boolean(s, "http", "metrics_require_token", c.metrics_require_token);
  // httplib is built with select(): a socket numbered 1024 or more gets a 500, so the
  // connections (and the process's other sockets) must stay below that.
  r.integer(s, "http", "max_connections", 1, 768, c.max_connections);
  r.integer(s, "http", "max_header_bytes", 1024, 65536, c.max_header_bytes);
  r.integer(s, "http", "header_timeout_ms", 1, kMaxTimeoutMs, c.header_timeout_ms);
  r.integer(s, "http", "request_timeout_ms", 1, kMaxTimeoutMs, c.request_timeout_ms);
}

void read_log(Reader& r, const toml::table* t, LogConfig& c) {
  if (t == nullptr) return;
  r.only_keys(*t, "log", {"level", "format"});
  r.one_of(*t, "log", "level", {"trace", "debug", "info", "warn", "error", "critical", "off"},
           c.level);
  r.one_of(*t, "log", "format", {"text", "json"}, c.format);
}

void read_cache(Reader& r, const toml::table* t, CacheConfig& c) {
  if (t == nullptr) return;
  r.only_keys(*t, "cache", {"enabled", "max_entries"});
  r.boolean(*t, "cache", "enabled", c.enabled);
  r.integer(*t, "cache", "max_entries", 1, kMaxCacheEntries, c.max_entries);
}

void read_changes(Reader& r, const toml::table* t, ChangesConfig& c) {
  if (t == nullptr) return;
  r.only_keys(*t, "changes", {"max_future_ms"});
  // Up to a day: more would let a skewed clock freeze statuses for that long.
  r.integer(*t, "changes", "max_future_ms", 0, kMaxFutureMs, c.max_future_ms);
}

void read_identity(Reader& r, const toml::table* t, IdentityConfig& c) {
  if (t == nullptr) return;
  r.only_keys(*t, "identity", {"max_emails_per_user"});
  r.integer(*t, "identity", "max_emails_per_user", 1, kMaxEmailsPerUser, c.max_emails_per_user);
}

void read_store_unavailable(Reader& r, const toml::table* t, StoreUnavailableConfig& c) {
  if (t == nullptr) return;
  constexpr std::string_view kPath = "on_store_unavailable";
  r.only_keys(*t, kPath,
              {"transactional", "hold_max_messages", "hold_max_wait_ms", "retry_initial_ms",
               "retry_max_ms"});
  std::string policy;
  if (r.one_of(*t, kPath, "transactional", {"forward", "hold"}, policy) && !policy.empty()) {
    c.transactional = policy == "hold" ? TransactionalPolicy::kHold : TransactionalPolicy::kForward;
  }
  r.integer(*t, kPath, "hold_max_messages", 1, kMaxQueueEntries, c.hold_max_messages);
  r.integer(*t, kPath, "hold_max_wait_ms", 0, kMaxTimeoutMs, c.hold_max_wait_ms);
  const bool initial_ok =
      r.integer(*t, kPath, "retry_initial_ms", 1, kMaxTimeoutMs, c.retry_initial_ms);
  const bool max_ok = r.integer(*t, kPath, "retry_max_ms", 1, kMaxTimeoutMs, c.retry_max_ms);
  if (initial_ok && max_ok && c.retry_initial_ms > c.retry_max_ms) {
    const int line = t->get("retry_initial_ms") != nullptr ? line_at(t, "retry_initial_ms")
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

std::string z85_key_problem(std::string_view key) {
  if (key.empty()) return {};  // unset; whether it is needed is checked with `enabled`
  static constexpr std::string_view kZ85 =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  if (key.size() != 40) return "must be a 40-character Z85 CURVE key";
  for (char ch : key) {
    if (kZ85.find(ch) == std::string_view::npos) return "is not Z85 text";
  }
  return {};
}

void read_curve(Reader& r, const toml::table* t, CurveConfig& c) {
  if (t == nullptr) return;
  r.only_keys(
      *t, "curve",
      {"enabled", "secret_key", "secret_key_file", "allowed_clients", "allowed_clients_file"});
  r.boolean(*t, "curve", "enabled", c.enabled);
  r.string(*t, "curve", "secret_key", c.secret_key, z85_key_problem);
  r.string(*t, "curve", "secret_key_file", c.secret_key_file);
  r.strings(*t, "curve", "allowed_clients", c.allowed_clients, z85_key_problem);
  r.string(*t, "curve", "allowed_clients_file", c.allowed_clients_file);
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

std::string topic_name_problem(std::string_view name) {
  if (name.empty()) return "topic name is empty";
  if (name.size() > 64) return "topic name is longer than 64 characters";
  // "topic:ts" would read as the time stamp of a field named "topic".
  if (iequals(name, "ts")) return "topic name \"ts\" is reserved";
  // Stored as "topic:<name>" beside "topic:<name>:ts", and used in paths and reasons.
  if (!std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '_' || c == '-' || c == '.';
      })) {
    return "topic name " + in_quotes(name) + " may only contain letters, digits, _, - and .";
  }
  return "";
}

std::string any_text(std::string_view) {
  return "";
}

void read_topics(Reader& r, const toml::table* t, const std::vector<ChannelConfig>& channels,
                 std::vector<TopicConfig>& out) {
  if (t == nullptr) return;
  if (t->size() > kMaxTopics) {
    r.fail("topics", line_of(*t),
           "at most " + std::to_string(kMaxTopics) + " topics, got " + std::to_string(t->size()));
    return;
  }
  const ChannelRegistry registry(channels);
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
    r.only_keys(*topic, path, {"default", "channels"});
    std::string policy = "subscribed";
    if (r.one_of(*topic, path, "default", {"subscribed", "unsubscribed", "required"}, policy)) {
      c.policy = *parse_topic_default(policy);
    }
    std::vector<int> lines;
    r.strings(*topic, path, "channels", c.channels, any_text, &lines);
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
  for (auto& e : entries) out.push_back(std::move(e.second));
}

std::string base_url_problem(std::string_view url) {
  if (!starts_with(url, "https://") && !starts_with(url, "http://")) {
    return "must start with https:// or http://";
  }
  if (has_space_or_control(url)) return "contains whitespace or control characters";
  if (url.find_first_of("?#") != std::string_view::npos) return "must not hold ? or #";
  return "";
}

std::string secret_problem(std::string_view secret) {
  return secret.size() < 32
             ? "a secret needs at least 32 characters, got " + std::to_string(secret.size())
             : "";
}

void read_unsubscribe(Reader& r, const toml::table* t, UnsubscribeConfig& c) {
  if (t == nullptr) return;
  r.only_keys(*t, "unsubscribe", {"base_url", "secrets", "secrets_file", "link_ttl_days"});
  r.string(*t, "unsubscribe", "base_url", c.base_url, base_url_problem);
  while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
  r.strings(*t, "unsubscribe", "secrets", c.secrets, secret_problem);
  r.string(*t, "unsubscribe", "secrets_file", c.secrets_file);
  r.integer(*t, "unsubscribe", "link_ttl_days", 60, 36500, c.link_ttl_days);
  if (t->get("base_url") == nullptr) {
    r.fail("unsubscribe.base_url", line_of(*t), "required key missing");
  }
  if (c.secrets.empty() == c.secrets_file.empty()) {
    r.fail("unsubscribe.secrets", line_of(*t),
           "set exactly one of unsubscribe.secrets (non-empty) and unsubscribe.secrets_file");
  }
}

void read_config(Reader& r, const toml::table& root, Config& config) {
  r.only_keys(root, "",
              {"ingress", "egress", "channels", "redis", "http", "log", "cache",
               "on_store_unavailable", "curve", "changes", "identity", "topics",
               "unsubscribe"});
  std::vector<BoundEndpoint> bound;
  read_ingress(r, r.table(root, "", "ingress"), config.ingress, bound);
  read_egress(r, r.table(root, "", "egress"), config.egress, bound);
  read_channels(r, root, config.channels, bound);
  read_redis(r, r.table(root, "", "redis"), config.redis);
  read_http(r, r.table(root, "", "http"), config.http);
  read_log(r, r.table(root, "", "log"), config.log);
  read_cache(r, r.table(root, "", "cache"), config.cache);
  read_store_unavailable(r, r.table(root, "", "on_store_unavailable"), config.on_store_unavailable);
  read_curve(r, r.table(root, "", "curve"), config.curve);
  read_changes(r, r.table(root, "", "changes"), config.changes);
  read_identity(r, r.table(root, "", "identity"), config.identity);
  read_topics(r, r.table(root, "", "topics"), config.channels, config.topics);
  read_unsubscribe(r, r.table(root, "", "unsubscribe"), config.unsubscribe);
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

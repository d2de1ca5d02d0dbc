#include "common/config/config_checks.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

#include "common/rules/channels.h"

namespace gk {

namespace {

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

}  // namespace

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string in_quotes(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

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

std::string keyword_problem(std::string_view word) {
  if (word.empty()) return "a keyword must not be empty";
  if (has_space_or_control(word)) return "a keyword is one word, without whitespace";
  return "";
}

std::string salt_problem(std::string_view salt) {
  if (salt.empty()) return "";  // erasure off
  return salt.size() < 32
             ? "the salt needs at least 32 characters, got " + std::to_string(salt.size())
             : "";
}

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

std::string redis_url_problem(std::string_view url) {
  RedisConfig parsed;
  return parse_redis_url(url, parsed);
}

std::string redact_url_password(std::string_view url) {
  // As parse_redis_url reads it: the last '@' ends the credentials, the first ':' in them
  // starts the password.
  const std::size_t scheme = url.find("://");
  const std::size_t at = url.rfind('@');
  if (scheme == std::string_view::npos || at == std::string_view::npos || at < scheme) {
    return std::string(url);
  }
  const std::size_t colon = url.find(':', scheme + 3);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "<redacted>" + std::string(url.substr(at));
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

std::string listen_problem(std::string_view listen) {
  HttpConfig parsed;
  return parse_listen(listen, parsed);
}

}  // namespace gk

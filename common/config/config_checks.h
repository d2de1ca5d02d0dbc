#pragma once

// Value checks of the configuration, shared by the settings table (per key) and the
// section rules of the loader (config.cc). A check returns an empty string when the value is
// acceptable, else the problem, worded to follow "<key> (line N): ".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/config/config.h"

namespace gk {

// Limits. They exist to catch typos (a missing or extra zero) before they become an outage,
// not to encode tuning advice; each is far from any value a real deployment needs.
inline constexpr std::int64_t kMaxTimeoutMs = 600000;       // ten minutes: longer is stuck
inline constexpr std::int64_t kMaxHighWater = 10000000;     // ZeroMQ HWM; 0 (unbounded) refused
inline constexpr std::int64_t kMaxQueueEntries = 10000000;  // held messages
inline constexpr std::int64_t kMaxCacheEntries = 100000000;
inline constexpr std::int64_t kMaxCacheMemoryMb = 1048576;  // 1 TiB
inline constexpr std::int64_t kMaxStreamLength = 1000000000;
inline constexpr std::int64_t kMaxFutureMs = 86400000;  // a day
// Every status write for a user walks its linked emails inside Redis: 10000 is already
// ~15 ms per write.
inline constexpr std::int64_t kMaxEmailsPerUser = 10000;

std::string upper(std::string_view s);
std::string in_quotes(std::string_view s);
bool starts_with(std::string_view s, std::string_view prefix);

// Splits "host:port" or "[v6]:port"; the host comes back without brackets because that is
// what getaddrinfo, libzmq and hiredis want.
struct HostPort {
  std::string host;
  std::string port;
  std::string problem;
};
HostPort split_host_port(std::string_view s, std::string_view example);

// ZeroMQ endpoints the gatekeeper binds.
std::string endpoint_problem(std::string_view endpoint);
// `kind` names what is checked in the message: "channel name", "alias".
std::string channel_name_problem(std::string_view kind, std::string_view raw);
std::string alias_problem(std::string_view raw);
std::string token_problem(std::string_view token);
std::string env_name_problem(std::string_view name);
std::string key_prefix_problem(std::string_view prefix);
std::string cluster_seed_problem(std::string_view seed);
std::string z85_key_problem(std::string_view key);
std::string topic_name_problem(std::string_view name);
std::string base_url_problem(std::string_view url);
std::string secret_problem(std::string_view secret);
// An SMS keyword: one word, no whitespace, not empty.
std::string keyword_problem(std::string_view word);
// erasure.salt: at least 32 characters.
std::string salt_problem(std::string_view salt);
std::string any_text(std::string_view);

// Fills host, port, db, username and password of `out`. Problems never echo the URL, since
// it may carry a password.
std::string parse_redis_url(std::string_view url, RedisConfig& out);
std::string redis_url_problem(std::string_view url);
// The URL as it may be logged: its password replaced by "<redacted>".
std::string redact_url_password(std::string_view url);

// Fills host and port of `out`.
std::string parse_listen(std::string_view listen, HttpConfig& out);
std::string listen_problem(std::string_view listen);

}  // namespace gk

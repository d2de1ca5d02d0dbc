#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/rules/channel_config.h"
#include "common/rules/topics.h"

namespace gk {

struct IngressConfig {
  std::string messages = "tcp://127.0.0.1:5570";
  std::string events = "tcp://127.0.0.1:5580";
  int rcvhwm = 100000;
  std::size_t max_header_bytes = 8192;  // larger header frames are rejected as malformed
  std::size_t max_frames = 2;           // header + optional payload
  std::size_t batch_size = 512;         // messages taken per loop turn
};

struct EgressConfig {
  std::string decisions = "tcp://127.0.0.1:5571";
  std::string events = "tcp://127.0.0.1:5590";
  int sndhwm = 100000;
  // Permitted messages kept in process for one channel whose adapter is full or absent,
  // while the other channels keep flowing; when one backlog is full, intake pauses.
  int channel_backlog = 10000;
  // How long a stop waits for stalled adapters to take their backlog.
  int drain_timeout_ms = 10000;
};

struct RedisConfig {
  std::string url = "redis://127.0.0.1:6379/0";
  // Parsed from url:
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string username;
  std::string password;

  // Redis Cluster: seed nodes "host:port". Not empty selects cluster mode: the url then only
  // supplies the credentials (its host, port and db are not used).
  std::vector<std::string> cluster;
  int cluster_refresh_ms = 500;  // how often the slot map is re-read

  std::string key_prefix = "gk:";
  int connect_timeout_ms = 1000;
  int command_timeout_ms = 1000;
  std::size_t events_stream_maxlen = 100000;  // approximate trim length of gk:events
  std::size_t history_length = 50;            // changes kept per person
};

struct HttpConfig {
  std::string listen = "127.0.0.1:8080";
  // Parsed from listen:
  std::string host = "127.0.0.1";
  int port = 8080;

  std::vector<std::string> auth_tokens;
  std::string auth_tokens_env = "GATEKEEPER_AUTH_TOKENS";  // comma-separated tokens
  std::string auth_tokens_file;                            // one token per line
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_events_per_body = 50;
  int read_timeout_ms = 5000;   // per read of a request body
  int write_timeout_ms = 5000;  // per write of an answer
  int threads = 4;
  // Requests with a complete head waiting for a worker; past it, they wait in the acceptor.
  std::size_t max_queued_connections = 64;
  // Slow clients (docs/RELIABILITY.md, "HTTP framing and slow clients"):
  std::size_t max_connections = 256;     // open connections, all states
  std::size_t max_header_bytes = 16384;  // request line and headers
  int header_timeout_ms = 5000;          // accept to complete head
  int request_timeout_ms = 15000;        // a worker's whole time on one request
  bool metrics_require_token = false;
};

struct LogConfig {
  std::string level = "info";   // trace, debug, info, warn, error, critical, off
  std::string format = "text";  // text | json
};

struct CacheConfig {
  bool enabled = true;
  std::size_t max_entries = 100000000;  // Redis keys; the memory bound is the one that binds
  std::size_t max_memory_mb = 2048;     // the tables' memory, MiB; about 5 million people
};

enum class TransactionalPolicy { kForward, kHold };

struct StoreUnavailableConfig {
  TransactionalPolicy transactional = TransactionalPolicy::kForward;
  std::size_t hold_max_messages = 100000;  // bound of the held queue
  int hold_max_wait_ms = 5000;             // then store_unavailable
  int retry_initial_ms = 50;               // reconnect backoff start
  int retry_max_ms = 2000;                 // reconnect backoff cap
};

// ZeroMQ CURVE on the ingress sockets: they become CURVE servers and a ZAP handler admits
// only the listed client public keys. Keys are Z85 text (40 characters).
struct CurveConfig {
  bool enabled = false;
  std::string secret_key;                    // the server's secret key, or:
  std::string secret_key_file;               // a file holding it (first line)
  std::vector<std::string> allowed_clients;  // client public keys, and/or:
  std::string allowed_clients_file;          // one public key per line, # comments
};

// Status changes as they arrive.
struct ChangesConfig {
  // How far past the receiving clock a change may be dated. Later times are clamped to the
  // time of receipt (a bad producer clock or a hand-typed 9999 would otherwise win last
  // writer wins against every real change after it), and stored times past now + this count
  // as older than any real change.
  std::int64_t max_future_ms = 300000;
};

// Linking emails to users.
struct IdentityConfig {
  // Emails linked to one user at most; past it a new email is not linked (its change goes
  // to the user and to the email's lead record), so one shared id cannot make every write
  // for it walk an unbounded set inside Redis.
  std::size_t max_emails_per_user = 100;
};

// One-click unsubscribe links (PROTOCOL.md 10). Without a base_url no links are issued and
// the /u/ pages answer 404.
struct UnsubscribeConfig {
  std::string base_url;              // public prefix; links are <base_url>/u/<token>
  std::vector<std::string> secrets;  // first signs, all verify; each >= 32 characters
  std::string secrets_file;          // or: one secret per line (# comments)
  int link_ttl_days = 365;           // how long a link works; at least 60

  bool enabled() const noexcept { return !base_url.empty(); }
};

// Address suppressions (PROTOCOL.md 11): how soft bounces add up to a suppression.
struct SuppressionConfig {
  int soft_bounce_limit = 3;        // the n-th soft bounce within the window suppresses
  int soft_bounce_window_days = 7;  // counted back from the newest soft bounce's time
};

// The words an inbound SMS body must be (exactly one, trimmed, any case) to stop or restart.
struct SmsKeywordsConfig {
  std::vector<std::string> opt_out = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"};
  std::vector<std::string> opt_in = {"START", "YES", "UNSTOP"};
};

// Erasure (PROTOCOL.md 13): the salt the tombstones' identifier hashes are keyed with.
struct ErasureConfig {
  std::string salt;  // at least 32 characters; empty: erasure disabled (DELETE answers 503)

  bool enabled() const noexcept { return !salt.empty(); }
};

struct Config {
  IngressConfig ingress;
  EgressConfig egress;
  std::vector<ChannelConfig> channels;  // in file order
  RedisConfig redis;
  HttpConfig http;
  LogConfig log;
  CacheConfig cache;
  StoreUnavailableConfig on_store_unavailable;
  CurveConfig curve;
  ChangesConfig changes;
  IdentityConfig identity;
  std::vector<TopicConfig> topics;  // in file order
  UnsubscribeConfig unsubscribe;
  SuppressionConfig suppression;
  SmsKeywordsConfig sms_keywords;
  ErasureConfig erasure;
};

using ConfigPtr = std::shared_ptr<const Config>;

// One problem found while loading: the dotted key path, the line (0 when unknown) and what.
struct ConfigError {
  std::string key;
  int line = 0;
  std::string message;
  std::string to_string() const;
};

struct ConfigResult {
  std::optional<Config> config;     // set only when errors is empty
  std::vector<ConfigError> errors;  // every problem, not only the first
};

// Parses TOML text and validates it in full. Never throws.
ConfigResult parse_config(std::string_view toml_text, std::string_view source_name = "config");
// Reads and parses a file. A missing or unreadable file is one error with key "".
ConfigResult load_config_file(const std::string& path);

}  // namespace gk

#include "common/config/config_summary.h"

namespace gk {

namespace {

constexpr const char* kRedacted = "<redacted>";

std::string redact(const std::string& secret) {
  return secret.empty() ? "" : kRedacted;
}

}  // namespace

nlohmann::json summarize_config(const Config& c) {
  using nlohmann::json;
  json channels = json::array();
  for (const auto& ch : c.channels) {
    channels.push_back({{"name", ch.name},
                        {"aliases", ch.aliases},
                        {"endpoint", ch.endpoint},
                        {"require_address", ch.require_address},
                        {"sndhwm", ch.sndhwm}});
  }
  const std::string policy =
      c.on_store_unavailable.transactional == TransactionalPolicy::kForward ? "forward" : "hold";
  return {
      {"ingress",
       {{"messages", c.ingress.messages},
        {"events", c.ingress.events},
        {"rcvhwm", c.ingress.rcvhwm},
        {"max_header_bytes", c.ingress.max_header_bytes},
        {"max_frames", c.ingress.max_frames},
        {"batch_size", c.ingress.batch_size}}},
      {"egress",
       {{"decisions", c.egress.decisions},
        {"events", c.egress.events},
        {"sndhwm", c.egress.sndhwm},
        {"channel_backlog", c.egress.channel_backlog},
        {"drain_timeout_ms", c.egress.drain_timeout_ms}}},
      {"channels", channels},
      {"redis",
       {{"host", c.redis.host},
        {"port", c.redis.port},
        {"db", c.redis.db},
        {"username", c.redis.username},
        {"password", redact(c.redis.password)},
        {"cluster", c.redis.cluster},
        {"cluster_refresh_ms", c.redis.cluster_refresh_ms},
        {"key_prefix", c.redis.key_prefix},
        {"connect_timeout_ms", c.redis.connect_timeout_ms},
        {"command_timeout_ms", c.redis.command_timeout_ms},
        {"events_stream_maxlen", c.redis.events_stream_maxlen},
        {"history_length", c.redis.history_length}}},
      {"http",
       {{"listen", c.http.listen},
        {"auth_tokens", std::to_string(c.http.auth_tokens.size()) + " configured"},
        {"auth_tokens_env", c.http.auth_tokens_env},
        {"auth_tokens_file", c.http.auth_tokens_file},
        {"max_body_bytes", c.http.max_body_bytes},
        {"max_events_per_body", c.http.max_events_per_body},
        {"read_timeout_ms", c.http.read_timeout_ms},
        {"write_timeout_ms", c.http.write_timeout_ms},
        {"threads", c.http.threads},
        {"max_queued_connections", c.http.max_queued_connections},
        {"metrics_require_token", c.http.metrics_require_token},
        {"max_connections", c.http.max_connections},
        {"max_header_bytes", c.http.max_header_bytes},
        {"header_timeout_ms", c.http.header_timeout_ms},
        {"request_timeout_ms", c.http.request_timeout_ms}}},
      {"log", {{"level", c.log.level}, {"format", c.log.format}}},
      {"cache", {{"enabled", c.cache.enabled}, {"max_entries", c.cache.max_entries}}},
      {"on_store_unavailable",
       {{"transactional", policy},
        {"hold_max_messages", c.on_store_unavailable.hold_max_messages},
        {"hold_max_wait_ms", c.on_store_unavailable.hold_max_wait_ms},
        {"retry_initial_ms", c.on_store_unavailable.retry_initial_ms},
        {"retry_max_ms", c.on_store_unavailable.retry_max_ms}}},
      {"curve",
       {{"enabled", c.curve.enabled},
        {"secret_key", redact(c.curve.secret_key)},
        {"secret_key_file", c.curve.secret_key_file},
        {"allowed_clients", c.curve.allowed_clients.size()},
        {"allowed_clients_file", c.curve.allowed_clients_file}}},
      {"changes", {{"max_future_ms", c.changes.max_future_ms}}},
      {"identity", {{"max_emails_per_user", c.identity.max_emails_per_user}}},
  };
}

}  // namespace gk

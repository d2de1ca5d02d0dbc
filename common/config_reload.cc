#include "common/config_reload.h"

namespace gk {

namespace {

bool same_channel_set(const std::vector<ChannelConfig>& a, const std::vector<ChannelConfig>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].endpoint != b[i].endpoint || a[i].sndhwm != b[i].sndhwm) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<std::string> restart_only_changes(const Config& r, const Config& l) {
  std::vector<std::string> out;
  auto check = [&](bool differs, const char* key) {
    if (differs) out.emplace_back(key);
  };
  check(r.ingress.messages != l.ingress.messages, "ingress.messages");
  check(r.ingress.events != l.ingress.events, "ingress.events");
  check(r.ingress.rcvhwm != l.ingress.rcvhwm, "ingress.rcvhwm");
  check(r.egress.decisions != l.egress.decisions, "egress.decisions");
  check(r.egress.events != l.egress.events, "egress.events");
  check(r.egress.sndhwm != l.egress.sndhwm, "egress.sndhwm");
  check(!same_channel_set(r.channels, l.channels), "channels (names, endpoints, sndhwm)");
  check(r.redis.url != l.redis.url, "redis.url");
  check(r.redis.cluster != l.redis.cluster, "redis.cluster");
  check(r.redis.cluster_refresh_ms != l.redis.cluster_refresh_ms, "redis.cluster_refresh_ms");
  check(r.redis.key_prefix != l.redis.key_prefix, "redis.key_prefix");
  check(r.redis.connect_timeout_ms != l.redis.connect_timeout_ms, "redis.connect_timeout_ms");
  check(r.redis.command_timeout_ms != l.redis.command_timeout_ms, "redis.command_timeout_ms");
  check(r.http.listen != l.http.listen, "http.listen");
  check(r.http.threads != l.http.threads, "http.threads");
  check(r.http.max_queued_connections != l.http.max_queued_connections,
        "http.max_queued_connections");
  check(r.http.max_body_bytes != l.http.max_body_bytes, "http.max_body_bytes");
  check(r.http.max_events_per_body != l.http.max_events_per_body, "http.max_events_per_body");
  check(r.http.read_timeout_ms != l.http.read_timeout_ms, "http.read_timeout_ms");
  check(r.http.write_timeout_ms != l.http.write_timeout_ms, "http.write_timeout_ms");
  check(r.http.metrics_require_token != l.http.metrics_require_token, "http.metrics_require_token");
  check(r.http.max_connections != l.http.max_connections, "http.max_connections");
  check(r.http.max_header_bytes != l.http.max_header_bytes, "http.max_header_bytes");
  check(r.http.header_timeout_ms != l.http.header_timeout_ms, "http.header_timeout_ms");
  check(r.http.request_timeout_ms != l.http.request_timeout_ms, "http.request_timeout_ms");
  check(r.redis.events_stream_maxlen != l.redis.events_stream_maxlen, "redis.events_stream_maxlen");
  check(r.redis.history_length != l.redis.history_length, "redis.history_length");
  check(r.cache.enabled != l.cache.enabled, "cache.enabled");
  check(r.curve.enabled != l.curve.enabled || r.curve.secret_key != l.curve.secret_key ||
            r.curve.secret_key_file != l.curve.secret_key_file ||
            r.curve.allowed_clients != l.curve.allowed_clients ||
            r.curve.allowed_clients_file != l.curve.allowed_clients_file,
        "curve");
  return out;
}

Config merge_reloadable(const Config& running, const Config& loaded) {
  Config out = running;
  out.ingress.max_header_bytes = loaded.ingress.max_header_bytes;
  out.ingress.max_frames = loaded.ingress.max_frames;
  out.ingress.batch_size = loaded.ingress.batch_size;
  out.egress.channel_backlog = loaded.egress.channel_backlog;
  out.egress.drain_timeout_ms = loaded.egress.drain_timeout_ms;
  if (same_channel_set(running.channels, loaded.channels)) {
    for (std::size_t i = 0; i < out.channels.size(); ++i) {
      out.channels[i].aliases = loaded.channels[i].aliases;
      out.channels[i].require_address = loaded.channels[i].require_address;
    }
  }
  // Tokens reload; the HTTP listener's limits are fixed when it starts.
  out.http.auth_tokens = loaded.http.auth_tokens;
  out.http.auth_tokens_env = loaded.http.auth_tokens_env;
  out.http.auth_tokens_file = loaded.http.auth_tokens_file;
  out.log = loaded.log;
  out.cache.max_entries = loaded.cache.max_entries;
  out.on_store_unavailable = loaded.on_store_unavailable;
  return out;
}

}  // namespace gk

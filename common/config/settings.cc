#include "common/config/settings.h"

#include <array>

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

// Per-channel rules reload only while the channel set itself is unchanged, so every index
// the running parts hold stays valid.
template <class Member>
void adopt_per_channel(Config& running, const Config& loaded, Member member) {
  if (!same_channel_set(running.channels, loaded.channels)) return;
  for (std::size_t i = 0; i < running.channels.size(); ++i) {
    running.channels[i].*member = loaded.channels[i].*member;
  }
}

template <class Member>
bool per_channel_differs(const Config& a, const Config& b, Member member) {
  if (a.channels.size() != b.channels.size()) return true;
  for (std::size_t i = 0; i < a.channels.size(); ++i) {
    if (!(a.channels[i].*member == b.channels[i].*member)) return true;
  }
  return false;
}

// One line per plain setting: its path is the member's own spelling.
// clang-format off
#define GK_SETTING(field, reload)                                                   \
  Setting {                                                                         \
    #field, ReloadClass::reload,                                                    \
    [](const Config& a, const Config& b) { return !(a.field == b.field); },         \
    [](Config& running, const Config& loaded) { running.field = loaded.field; }     \
  }
// clang-format on

const std::array kSettings = {
    GK_SETTING(ingress.messages, kRestart),
    GK_SETTING(ingress.events, kRestart),
    GK_SETTING(ingress.rcvhwm, kRestart),
    GK_SETTING(ingress.max_header_bytes, kLive),
    GK_SETTING(ingress.max_frames, kLive),
    GK_SETTING(ingress.batch_size, kLive),
    GK_SETTING(egress.decisions, kRestart),
    GK_SETTING(egress.events, kRestart),
    GK_SETTING(egress.sndhwm, kRestart),
    GK_SETTING(egress.channel_backlog, kLive),
    GK_SETTING(egress.drain_timeout_ms, kLive),
    Setting{
        "channels", ReloadClass::kRestart,
        [](const Config& a, const Config& b) { return !same_channel_set(a.channels, b.channels); },
        nullptr, "channels (names, endpoints, sndhwm)"},
    Setting{"channels.*.aliases", ReloadClass::kLive,
            [](const Config& a, const Config& b) {
              return per_channel_differs(a, b, &ChannelConfig::aliases);
            },
            [](Config& r, const Config& l) { adopt_per_channel(r, l, &ChannelConfig::aliases); }},
    Setting{"channels.*.require_address", ReloadClass::kLive,
            [](const Config& a, const Config& b) {
              return per_channel_differs(a, b, &ChannelConfig::require_address);
            },
            [](Config& r, const Config& l) {
              adopt_per_channel(r, l, &ChannelConfig::require_address);
            }},
    GK_SETTING(redis.url, kRestart),
    GK_SETTING(redis.cluster, kRestart),
    GK_SETTING(redis.cluster_refresh_ms, kRestart),
    GK_SETTING(redis.key_prefix, kRestart),
    GK_SETTING(redis.connect_timeout_ms, kRestart),
    GK_SETTING(redis.command_timeout_ms, kRestart),
    GK_SETTING(redis.events_stream_maxlen, kRestart),
    GK_SETTING(redis.history_length, kRestart),
    GK_SETTING(http.listen, kRestart),
    GK_SETTING(http.auth_tokens, kLive),
    GK_SETTING(http.auth_tokens_env, kLive),
    GK_SETTING(http.auth_tokens_file, kLive),
    GK_SETTING(http.max_body_bytes, kRestart),
    GK_SETTING(http.max_events_per_body, kRestart),
    GK_SETTING(http.read_timeout_ms, kRestart),
    GK_SETTING(http.write_timeout_ms, kRestart),
    GK_SETTING(http.threads, kRestart),
    GK_SETTING(http.max_queued_connections, kRestart),
    GK_SETTING(http.metrics_require_token, kRestart),
    GK_SETTING(http.max_connections, kRestart),
    GK_SETTING(http.max_header_bytes, kRestart),
    GK_SETTING(http.header_timeout_ms, kRestart),
    GK_SETTING(http.request_timeout_ms, kRestart),
    GK_SETTING(log.level, kLive),
    GK_SETTING(log.format, kLive),
    GK_SETTING(cache.enabled, kRestart),
    GK_SETTING(cache.max_entries, kLive),
    GK_SETTING(on_store_unavailable.transactional, kLive),
    GK_SETTING(on_store_unavailable.hold_max_messages, kLive),
    GK_SETTING(on_store_unavailable.hold_max_wait_ms, kLive),
    GK_SETTING(on_store_unavailable.retry_initial_ms, kLive),
    GK_SETTING(on_store_unavailable.retry_max_ms, kLive),
    GK_SETTING(curve.enabled, kRestart),
    GK_SETTING(curve.secret_key, kRestart),
    GK_SETTING(curve.secret_key_file, kRestart),
    GK_SETTING(curve.allowed_clients, kRestart),
    GK_SETTING(curve.allowed_clients_file, kRestart),
    // The status writer reads these once, at start.
    GK_SETTING(changes.max_future_ms, kRestart),
    GK_SETTING(identity.max_emails_per_user, kRestart),
    // A person's cached record keeps topic bits by registry position: a new topic set
    // needs a fresh cache, so a restart.
    GK_SETTING(topics, kRestart),
    GK_SETTING(unsubscribe.base_url, kRestart),
    GK_SETTING(unsubscribe.secrets, kRestart),
    GK_SETTING(unsubscribe.secrets_file, kRestart),
    GK_SETTING(unsubscribe.link_ttl_days, kRestart),
};

#undef GK_SETTING

}  // namespace

std::span<const Setting> settings() {
  return kSettings;
}

std::string_view to_string(ReloadClass reload) noexcept {
  return reload == ReloadClass::kLive ? "reloadable" : "restart";
}

}  // namespace gk

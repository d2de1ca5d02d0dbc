#include "common/config/settings.h"

#include <algorithm>
#include <type_traits>

#include "common/config/config_checks.h"

namespace gk {

namespace {

using enum ReloadClass;
using enum Kind;

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

constexpr std::string_view kLogLevels[] = {"trace", "debug",    "info", "warn",
                                           "error", "critical", "off"};
constexpr std::string_view kLogFormats[] = {"text", "json"};
// In the order of TransactionalPolicy and TopicDefault.
constexpr std::string_view kPolicies[] = {"forward", "hold"};
constexpr std::string_view kTopicDefaults[] = {"subscribed", "unsubscribed", "required"};

// The path of a plain key is the member's own spelling; keys of the tables of tables are
// members of ChannelConfig and TopicConfig.
// clang-format off
#define GK_ACCESS(Record, field)                                                    \
  {[](Record& r) -> Field { return &r.field; },                                     \
   [](const Record& r) -> ConstField { return &r.field; }}
#define GK_KEY(field)                                                               \
  .path = #field, .config = GK_ACCESS(Config, field),                               \
  .differs = [](const Config& a, const Config& b) { return !(a.field == b.field); },\
  .adopt = [](Config& running, const Config& loaded) { running.field = loaded.field; }
#define GK_CHANNEL_KEY(field)                                                       \
  .path = "channels.*." #field, .channel = GK_ACCESS(ChannelConfig, field)
#define GK_LIVE_CHANNEL_KEY(field)                                                  \
  GK_CHANNEL_KEY(field),                                                            \
  .differs = [](const Config& a, const Config& b) {                                 \
    return per_channel_differs(a, b, &ChannelConfig::field);                        \
  },                                                                                \
  .adopt = [](Config& r, const Config& l) { adopt_per_channel(r, l, &ChannelConfig::field); }
#define GK_TOPIC_KEY(key, field)                                                    \
  .path = "topics.*." key, .topic = GK_ACCESS(TopicConfig, field)
// clang-format on

const Setting kSettings[] = {
    {GK_KEY(ingress.messages), .reload = kRestart, .kind = kString, .check = endpoint_problem,
     .doc = "PULL socket for candidate messages"},
    {GK_KEY(ingress.events), .reload = kRestart, .kind = kString, .check = endpoint_problem,
     .doc = "PULL socket for opt-out events"},
    {GK_KEY(ingress.rcvhwm), .reload = kRestart, .kind = kInteger, .min = 1, .max = kMaxHighWater,
     .doc = "receive high-water mark of both PULL sockets"},
    {GK_KEY(ingress.max_header_bytes), .reload = kLive, .kind = kInteger, .min = 64, .max = 1048576,
     .doc = "larger header frames are rejected as malformed"},
    {GK_KEY(ingress.max_frames), .reload = kLive, .kind = kInteger, .min = 1, .max = 16,
     .doc = "messages with more frames are rejected as malformed"},
    {GK_KEY(ingress.batch_size), .reload = kLive, .kind = kInteger, .min = 1, .max = 65536,
     .doc = "messages taken per loop turn"},

    {GK_KEY(egress.decisions), .reload = kRestart, .kind = kString, .check = endpoint_problem,
     .doc = "PUSH socket for suppressed and rejected messages"},
    {GK_KEY(egress.events), .reload = kRestart, .kind = kString, .check = endpoint_problem,
     .doc = "PUB socket for system events"},
    {GK_KEY(egress.sndhwm), .reload = kRestart, .kind = kInteger, .min = 1, .max = kMaxHighWater,
     .doc = "send high-water mark of both sockets"},
    {GK_KEY(egress.channel_backlog), .reload = kLive, .kind = kInteger, .min = 0,
     .max = kMaxHighWater, .doc = "permitted messages held per channel whose adapter is full"},
    {GK_KEY(egress.drain_timeout_ms), .reload = kLive, .kind = kInteger, .min = 0,
     .max = kMaxTimeoutMs, .doc = "how long SIGTERM waits for stalled adapters"},

    // The channel set as a whole: indexes into it are held everywhere.
    {.path = "channels",
     .differs = [](const Config& a,
                   const Config& b) { return !same_channel_set(a.channels, b.channels); },
     .reload = kRestart,
     .kind = kTables,
     .doc = "the delivery channels",
     .label = "channels (names, endpoints, sndhwm)"},
    {GK_LIVE_CHANNEL_KEY(aliases), .reload = kLive, .kind = kStrings, .check = alias_problem,
     .doc = "other names for this channel"},
    {GK_CHANNEL_KEY(endpoint), .reload = kRestart, .kind = kString, .check = endpoint_problem,
     .required = true, .doc = "PUSH socket for permitted messages"},
    {GK_LIVE_CHANNEL_KEY(require_address), .reload = kLive, .kind = kBoolean,
     .doc = "a message without `to` is rejected with no_address"},
    {GK_CHANNEL_KEY(sndhwm), .reload = kRestart, .kind = kInteger, .min = 1, .max = kMaxHighWater,
     .doc = "send high-water mark of this channel's socket"},

    {GK_KEY(redis.url), .reload = kRestart, .kind = kString, .check = redis_url_problem,
     .secret = Secret::kUrlPassword, .doc = "where the store lives"},
    {GK_KEY(redis.cluster), .reload = kRestart, .kind = kStrings, .check = cluster_seed_problem,
     .doc = "Redis Cluster seed nodes; not empty selects cluster mode"},
    {GK_KEY(redis.cluster_refresh_ms), .reload = kRestart, .kind = kInteger, .min = 10,
     .max = kMaxTimeoutMs, .doc = "how often the cluster's slot map is re-read"},
    {GK_KEY(redis.key_prefix), .reload = kRestart, .kind = kString, .check = key_prefix_problem,
     .doc = "prefix of every key"},
    {GK_KEY(redis.connect_timeout_ms), .reload = kRestart, .kind = kInteger, .min = 1,
     .max = kMaxTimeoutMs, .doc = "time allowed to connect"},
    {GK_KEY(redis.command_timeout_ms), .reload = kRestart, .kind = kInteger, .min = 1,
     .max = kMaxTimeoutMs, .doc = "time allowed per command or pipeline"},
    {GK_KEY(redis.events_stream_maxlen), .reload = kRestart, .kind = kInteger, .min = 1,
     .max = kMaxStreamLength, .doc = "approximate trim length of the events stream"},
    {GK_KEY(redis.history_length), .reload = kRestart, .kind = kInteger, .min = 1, .max = 10000,
     .doc = "status changes kept per person"},

    {GK_KEY(http.listen), .reload = kRestart, .kind = kString, .check = listen_problem,
     .doc = "listen address of the HTTP API"},
    {GK_KEY(http.auth_tokens), .reload = kLive, .kind = kStrings, .check = token_problem,
     .secret = Secret::kYes, .doc = "accepted X-XNG-AuthToken values"},
    {GK_KEY(http.auth_tokens_env), .reload = kLive, .kind = kString, .check = env_name_problem,
     .doc = "environment variable with more tokens, comma-separated"},
    {GK_KEY(http.auth_tokens_file), .reload = kLive, .kind = kString,
     .doc = "file with more tokens, one per line"},
    {GK_KEY(http.max_body_bytes), .reload = kRestart, .kind = kInteger, .min = 1024,
     .max = 64 << 20, .doc = "larger request bodies get 413"},
    {GK_KEY(http.max_events_per_body), .reload = kRestart, .kind = kInteger, .min = 1, .max = 1000,
     .doc = "events accepted in one POST /events"},
    {GK_KEY(http.read_timeout_ms), .reload = kRestart, .kind = kInteger, .min = 1,
     .max = kMaxTimeoutMs, .doc = "longest wait for one read of a request body"},
    {GK_KEY(http.write_timeout_ms), .reload = kRestart, .kind = kInteger, .min = 1,
     .max = kMaxTimeoutMs, .doc = "longest wait for one write of an answer"},
    {GK_KEY(http.threads), .reload = kRestart, .kind = kInteger, .min = 1, .max = 64,
     .doc = "worker threads serving requests"},
    {GK_KEY(http.max_queued_connections), .reload = kRestart, .kind = kInteger, .min = 1,
     .max = 100000, .doc = "requests with a complete head waiting for a worker"},
    {GK_KEY(http.metrics_require_token), .reload = kRestart, .kind = kBoolean,
     .doc = "whether GET /metrics needs a token"},
    // httplib is built with select(): a socket numbered 1024 or more gets a 500, so the
    // connections (and the process's other sockets) must stay below that.
    {GK_KEY(http.max_connections), .reload = kRestart, .kind = kInteger, .min = 1, .max = 768,
     .doc = "open HTTP connections in all states"},
    {GK_KEY(http.max_header_bytes), .reload = kRestart, .kind = kInteger, .min = 1024, .max = 65536,
     .doc = "request line plus headers; larger heads get 431"},
    {GK_KEY(http.header_timeout_ms), .reload = kRestart, .kind = kInteger, .min = 1,
     .max = kMaxTimeoutMs, .doc = "from accept until the head is complete"},
    {GK_KEY(http.request_timeout_ms), .reload = kRestart, .kind = kInteger, .min = 1,
     .max = kMaxTimeoutMs, .doc = "a worker's whole time on one request"},

    {GK_KEY(log.level), .reload = kLive, .kind = kOneOf, .allowed = kLogLevels,
     .doc = "least severe level written"},
    {GK_KEY(log.format), .reload = kLive, .kind = kOneOf, .allowed = kLogFormats,
     .doc = "human-readable lines or one JSON object per line"},

    {GK_KEY(cache.enabled), .reload = kRestart, .kind = kBoolean,
     .doc = "without it every message is looked up in Redis"},
    {GK_KEY(cache.max_entries), .reload = kLive, .kind = kInteger, .min = 1,
     .max = kMaxCacheEntries, .doc = "upper bound on cached records"},
    {GK_KEY(cache.max_memory_mb), .reload = kLive, .kind = kInteger, .min = 1,
     .max = kMaxCacheMemoryMb, .doc = "upper bound on the cache's memory"},

    {GK_KEY(on_store_unavailable.transactional), .reload = kLive, .kind = kOneOf,
     .allowed = kPolicies, .doc = "realtime transactional messages: sent unchecked, or held"},
    {GK_KEY(on_store_unavailable.hold_max_messages), .reload = kLive, .kind = kInteger, .min = 1,
     .max = kMaxQueueEntries, .doc = "bound of the waiting queue"},
    {GK_KEY(on_store_unavailable.hold_max_wait_ms), .reload = kLive, .kind = kInteger, .min = 0,
     .max = kMaxTimeoutMs, .doc = "longest wait before store_unavailable"},
    {GK_KEY(on_store_unavailable.retry_initial_ms), .reload = kLive, .kind = kInteger, .min = 1,
     .max = kMaxTimeoutMs, .doc = "first reconnect delay"},
    {GK_KEY(on_store_unavailable.retry_max_ms), .reload = kLive, .kind = kInteger, .min = 1,
     .max = kMaxTimeoutMs, .doc = "cap of the growing reconnect delay"},

    {GK_KEY(curve.enabled), .reload = kRestart, .kind = kBoolean,
     .doc = "make the ingress sockets CURVE servers with a ZAP allow-list"},
    {GK_KEY(curve.secret_key), .reload = kRestart, .kind = kString, .check = z85_key_problem,
     .secret = Secret::kYes, .doc = "the server's Z85 secret key"},
    {GK_KEY(curve.secret_key_file), .reload = kRestart, .kind = kString,
     .doc = "or a file holding it"},
    {GK_KEY(curve.allowed_clients), .reload = kRestart, .kind = kStrings, .check = z85_key_problem,
     .doc = "Z85 public keys of the senders admitted"},
    {GK_KEY(curve.allowed_clients_file), .reload = kRestart, .kind = kString,
     .doc = "more of them, one per line"},

    // The status writer reads these once, at start.
    {GK_KEY(changes.max_future_ms), .reload = kRestart, .kind = kInteger, .min = 0,
     .max = kMaxFutureMs, .doc = "how far past the clock a change may be dated"},
    {GK_KEY(identity.max_emails_per_user), .reload = kRestart, .kind = kInteger, .min = 1,
     .max = kMaxEmailsPerUser, .doc = "emails linked to one user at most"},

    // A person's cached record keeps topic bits by registry position: a new topic set
    // needs a fresh cache, so a restart.
    {.path = "topics",
     .differs = [](const Config& a, const Config& b) { return !(a.topics == b.topics); },
     .reload = kRestart,
     .kind = kTables,
     .doc = "subscription categories across channels"},
    {GK_TOPIC_KEY("default", policy), .reload = kRestart, .kind = kOneOf, .allowed = kTopicDefaults,
     .doc = "what the topic does for a person who never chose"},
    {GK_TOPIC_KEY("channels", channels), .reload = kRestart, .kind = kStrings,
     .doc = "the channels it may be sent on; none: all"},

    {GK_KEY(unsubscribe.base_url), .reload = kRestart, .kind = kString, .check = base_url_problem,
     .required = true, .doc = "public URL prefix of the links"},
    {GK_KEY(unsubscribe.secrets), .reload = kRestart, .kind = kStrings, .check = secret_problem,
     .secret = Secret::kYes, .doc = "secrets the link tokens are sealed with"},
    {GK_KEY(unsubscribe.secrets_file), .reload = kRestart, .kind = kString,
     .doc = "or a file with one secret per line"},
    {GK_KEY(unsubscribe.link_ttl_days), .reload = kRestart, .kind = kInteger, .min = 60,
     .max = 36500, .doc = "days a link works after it was issued"},

    {GK_KEY(suppression.soft_bounce_limit), .reload = kRestart, .kind = kInteger, .min = 1,
     .max = 1000, .doc = "the soft bounce that suppresses an address, counted in the window"},
    {GK_KEY(suppression.soft_bounce_window_days), .reload = kRestart, .kind = kInteger, .min = 1,
     .max = 3650, .doc = "days back from the newest soft bounce that count"},
    {GK_KEY(sms_keywords.opt_out), .reload = kRestart, .kind = kStrings, .check = keyword_problem,
     .doc = "inbound SMS bodies that suppress the sender's number"},
    {GK_KEY(sms_keywords.opt_in), .reload = kRestart, .kind = kStrings, .check = keyword_problem,
     .doc = "inbound SMS bodies that lift an sms_stop of the sender's number"},
    {GK_KEY(erasure.salt), .reload = kRestart, .kind = kString, .check = salt_problem,
     .secret = Secret::kYes, .doc = "key of the tombstones' identifier hashes; empty: no erasure"},
};

#undef GK_TOPIC_KEY
#undef GK_LIVE_CHANNEL_KEY
#undef GK_CHANNEL_KEY
#undef GK_KEY
#undef GK_ACCESS

std::string quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

// The default as TOML writes it.
std::string toml_text(const Setting& s, ConstField value) {
  return std::visit(
      [&](const auto* v) -> std::string {
        using T = std::remove_cvref_t<decltype(*v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return quoted(*v);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          std::string out;
          for (const std::string& item : *v)
            out.append(out.empty() ? "" : ", ").append(quoted(item));
          return "[" + out + "]";
        } else if constexpr (std::is_same_v<T, bool>) {
          return *v ? "true" : "false";
        } else if constexpr (std::is_enum_v<T>) {
          return quoted(s.allowed[static_cast<std::size_t>(*v)]);
        } else {
          return std::to_string(*v);
        }
      },
      value);
}

}  // namespace

std::string_view Setting::section() const noexcept {
  const std::size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : path.substr(0, dot);
}

std::string_view Setting::key() const noexcept {
  const std::size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

std::span<const Setting> settings() {
  return kSettings;
}

std::span<const std::string_view> sections() {
  static const std::vector<std::string_view> kSections = [] {
    std::vector<std::string_view> out;
    for (const Setting& s : kSettings) {
      const std::string_view top = s.path.substr(0, s.path.find('.'));
      if (std::find(out.begin(), out.end(), top) == out.end()) out.push_back(top);
    }
    return out;
  }();
  return kSections;
}

std::vector<std::string_view> keys_of(std::string_view section) {
  std::vector<std::string_view> out;
  for (const Setting& s : kSettings) {
    if (s.kind != kTables && s.section() == section) out.push_back(s.key());
  }
  return out;
}

std::string default_text(const Setting& s) {
  static const Config kConfig;
  static const ChannelConfig kChannel;
  static const TopicConfig kTopic;
  if (s.config) return toml_text(s, s.config.view(kConfig));
  if (s.channel) return toml_text(s, s.channel.view(kChannel));
  if (s.topic) return toml_text(s, s.topic.view(kTopic));
  return "";
}

std::string_view to_string(ReloadClass reload) noexcept {
  return reload == ReloadClass::kLive ? "reloadable" : "restart";
}

}  // namespace gk

#include "gatekeeper/management/status_service.h"

#include <algorithm>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/protocol/events.h"
#include "gatekeeper/management/erasure_service.h"

namespace gk {

namespace {

// `op()` (a Result) again after a failure, as `retry` allows.
template <typename Op>
auto retried(const RetryPolicy& retry, Op&& op) -> decltype(op()) {
  auto backoff = retry.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    auto result = op();
    if (result || attempt >= retry.attempts) return result;
    // Sleep in short steps so shutdown is not held up by a long backoff.
    const auto until = std::chrono::steady_clock::now() + backoff;
    while (std::chrono::steady_clock::now() < until) {
      if (retry.stop != nullptr && retry.stop->load()) return result;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    backoff = std::min(backoff * 2, retry.max_backoff);
  }
}

}  // namespace

StatusService::StatusService(const Config& config, zmq::context_t& context,
                             ManagementMetrics& metrics)
    : config_(config),
      metrics_(metrics),
      keys_(config.redis),
      stream_maxlen_(std::to_string(config.redis.events_stream_maxlen)),
      // One per HTTP worker plus the event consumer: idle connections beyond that would
      // only be held open for nothing.
      pool_max_(static_cast<std::size_t>(config.http.threads) + 1),
      pub_(context, zmq::socket_type::pub) {
  pub_.set(zmq::sockopt::sndhwm, config.egress.sndhwm);
  // A subscriber that is gone must not hold up shutdown; PUB drops at the HWM anyway.
  pub_.set(zmq::sockopt::linger, 200);
}

void StatusService::bind() {
  pub_.bind(config_.egress.events);
}

Result<StatusService::Lease> StatusService::acquire() {
  {
    std::lock_guard lock(pool_mutex_);
    if (!idle_.empty()) {
      RedisRouter::Ptr conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(conn), true);
    }
  }
  // Connecting happens outside the lock so one slow connect does not stall other callers.
  auto conn = RedisRouter::connect(config_.redis);
  if (!conn) return fail(conn.error());
  return Lease(*this, std::move(conn).value(), false);
}

void StatusService::release(RedisRouter::Ptr conn) {
  if (!conn || !conn->ok()) return;
  std::lock_guard lock(pool_mutex_);
  if (idle_.size() < pool_max_) idle_.push_back(std::move(conn));
}

template <typename Op>
auto StatusService::run(const char* operation, Op&& op)
    -> decltype(op(std::declval<RedisRouter&>())) {
  std::string error;
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto lease = acquire();
    if (!lease) {
      error = lease.error();
      break;
    }
    auto result = op(**lease);
    if (result) return result;
    error = result.error();
    // An error reply (the link still fine) or a fresh link failing is the store's answer.
    if ((**lease).ok() || !lease->reused()) break;
  }
  store_error(operation, error);
  return fail(error);
}

void StatusService::store_error(const char* operation, const std::string& error) {
  metrics_.store_errors.Add({{"operation", operation}}).Increment();
  std::uint64_t suppressed = 0;
  if (store_log_.allow(suppressed)) {
    spdlog::warn("status store {} failed: {} ({} similar suppressed)", operation, error,
                 suppressed);
  }
}

StatusLimits StatusService::limits() const noexcept {
  StatusLimits l;
  l.now = now_ms();
  l.max_future_ms = config_.changes.max_future_ms;
  l.max_emails_per_user = config_.identity.max_emails_per_user;
  return l;
}

EpochMs StatusService::change_time(EpochMs ts, EpochMs received, std::string_view source,
                                   bool& clamped) {
  const StatusLimits l = limits();
  const EpochMs out = clamp_change_time(ts, received, l.now, l.max_future_ms, clamped);
  if (clamped) {
    metrics_.timestamps_clamped.Add({{"source", std::string(source)}}).Increment();
    std::uint64_t suppressed = 0;
    // The time only: who the change is for is personal data and stays out of the log.
    if (clamp_log_.allow(suppressed)) {
      spdlog::warn(
          "change from source {} dated {} is past the clock + changes.max_future_ms ({} ms); "
          "stored with the time of receipt {} ({} similar suppressed)",
          source, format_iso8601(ts), l.max_future_ms, format_iso8601(out), suppressed);
    }
  }
  return out;
}

Result<StatusWriteResult> StatusService::write(const StatusWrite& w) {
  auto result = run("write", [&](RedisRouter& conn) {
    return run_status_script(conn, config_.redis, w, limits());
  });
  if (!result) return result;
  if (!w.field.empty()) {
    metrics_.status_changes
        .Add({{"source", w.source}, {"changed", result->changed ? "true" : "false"}})
        .Increment();
  }
  if (result->link_refused) {
    metrics_.links_refused.Add({{"source", w.source}}).Increment();
    std::uint64_t suppressed = 0;
    if (link_log_.allow(suppressed)) {
      spdlog::warn(
          "email not linked: the user already has identity.max_emails_per_user ({}) emails; "
          "the change went to the user and to the email's lead record (source {}, {} similar "
          "suppressed)",
          config_.identity.max_emails_per_user, w.source, suppressed);
    }
  }
  return result;
}

Result<StatusWriteResult> StatusService::write_with_retry(const StatusWrite& w,
                                                          const RetryPolicy& retry) {
  return retried(retry, [&] { return write(w); });
}

Result<AppliedChange> StatusService::apply(const ChangeRequest& change, const RetryPolicy& retry) {
  AppliedChange applied;
  // Clamped here rather than only in the script, so that an event that changes no status is
  // published with a sane time too.
  applied.ts = change_time(change.ts, change.received, change.source, applied.timestamp_clamped);
  applied.link_refused = change.link_refused;
  applied.write.new_value = change.value;
  applied.write.ts = applied.ts;
  if (erasure_ != nullptr && !change.field.empty() && !change.value &&
      change.event == kOptInEvent) {
    const auto lifted = erasure_->lift(change.bu, change.external_id, change.email);
    if (!lifted) {
      store_error("lift erasure", lifted.error());
      return fail(lifted.error());
    }
    if (*lifted) spdlog::info("an explicit Opt In lifted an erasure (source {})", change.source);
  } else {
    // Checked here, so that every door (API, events, links, import) gets it.
    const auto erased_now =
        retried(retry, [&] { return erased(change.bu, change.external_id, change.email); });
    if (!erased_now) return fail(erased_now.error());
    if (*erased_now) {
      applied.erased = true;
      applied.write = {};
      return applied;
    }
  }
  if (!change.field.empty()) {
    StatusWrite w;
    w.bu = change.bu;
    w.external_id = change.external_id;
    w.email = change.email;
    w.field = change.field;
    w.value = change.value;
    w.ts = applied.ts;
    w.received = change.received;
    w.source = change.source;
    w.event = change.event;
    w.properties = safe_dump(change.properties);
    auto result = write_with_retry(w, retry);
    if (!result) return fail(result.error());
    applied.write = *result;
    applied.link_refused = applied.link_refused || result->link_refused;
  }

  SystemEvent e;
  e.event = change.event;
  e.id = change.external_id;
  e.email = change.email;
  e.bu = change.bu;
  e.channel = change.channel;
  e.topic = change.topic;
  e.timestamp = applied.ts;
  e.source = change.source;
  e.changed = applied.write.changed;
  e.properties = change.properties;
  e.timestamp_clamped = applied.timestamp_clamped;
  e.link_refused = applied.link_refused;
  publish(e);
  if (!change.also_published.empty()) {
    e.event = change.also_published;
    publish(e);
  }
  return applied;
}

Result<StatusWriteResult> StatusService::link(std::string_view bu, std::string_view external_id,
                                              std::string_view email, std::string_view source,
                                              const RetryPolicy& retry) {
  const auto erased_now = retried(retry, [&] { return erased(bu, external_id, email); });
  if (!erased_now) return fail(erased_now.error());
  if (*erased_now) return StatusWriteResult{};
  StatusWrite w;
  w.bu = std::string(bu);
  w.external_id = std::string(external_id);
  w.email = std::string(email);
  w.source = std::string(source);
  return write_with_retry(w, retry);
}

Result<bool> StatusService::erased(std::string_view bu, std::string_view external_id,
                                   std::string_view email) {
  if (erasure_ == nullptr) return false;
  const std::vector<std::string> keys = erasure_->tombstone_keys(bu, external_id, email);
  if (keys.empty()) return false;
  return run("erasure check", [&](RedisRouter& conn) -> Result<bool> {
    std::vector<RedisRouter::Command> probes;
    for (const std::string& key : keys) probes.push_back({key, {"EXISTS", key}});
    std::vector<RedisReplyPtr> replies;
    if (!conn.pipeline(probes, replies)) return fail(conn.error());
    bool any = false;
    for (const RedisReplyPtr& r : replies) {
      if (r->type != REDIS_REPLY_INTEGER) return fail("EXISTS: " + describe_reply(r.get()));
      any = any || r->integer > 0;
    }
    return any;
  });
}

Result<StatusService::Fields> StatusService::read_user(std::string_view bu,
                                                       std::string_view external_id) {
  std::string key;
  keys_.user(key, bu, external_id);
  return read_hash(key);
}

Result<StatusService::Fields> StatusService::read_person(std::string_view bu,
                                                         std::string_view external_id,
                                                         std::string_view email) {
  if (!external_id.empty() || email.empty()) return read_user(bu, external_id);
  std::string key;
  keys_.link(key, bu, email);
  auto linked = run("read", [&](RedisRouter& conn) -> Result<std::string> {
    auto reply = conn.command(key, {"GET", key});
    if (!reply) return fail(conn.error());
    if (reply->type == REDIS_REPLY_STRING) return std::string(reply->str, reply->len);
    if (reply->type == REDIS_REPLY_NIL) return std::string();
    return fail("GET: " + describe_reply(reply.get()));
  });
  if (!linked) return fail(linked.error());
  if (!linked->empty()) return read_user(bu, *linked);
  keys_.lead(key, bu, email);
  return read_hash(key);
}

Result<StatusService::Fields> StatusService::read_hash(const std::string& key) {
  return run("read", [&](RedisRouter& conn) -> Result<Fields> {
    auto reply = conn.command(key, {"HGETALL", key});
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
      return fail(reply ? "HGETALL: " + describe_reply(reply.get()) : conn.error());
    }
    Fields fields;
    for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
      const redisReply* f = reply->element[i];
      const redisReply* v = reply->element[i + 1];
      if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
      fields.emplace(std::string(f->str, f->len), std::string(v->str, v->len));
    }
    return fields;
  });
}

Result<std::vector<nlohmann::json>> StatusService::history(bool lead, std::string_view bu,
                                                           std::string_view who) {
  const std::string key = keys_.history(lead, bu, who);
  using Entries = std::vector<nlohmann::json>;
  return run("read", [&](RedisRouter& conn) -> Result<Entries> {
    auto reply = conn.command(key, {"LRANGE", key, "0", "-1"});
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
      return fail(reply ? "LRANGE: " + describe_reply(reply.get()) : conn.error());
    }
    Entries entries;
    entries.reserve(reply->elements);
    for (std::size_t i = 0; i < reply->elements; ++i) {
      const redisReply* e = reply->element[i];
      if (e->type != REDIS_REPLY_STRING) continue;
      auto entry = nlohmann::json::parse(std::string_view(e->str, e->len), nullptr, false);
      // An entry another job wrote in some other shape is skipped rather than failing the call.
      if (entry.is_object()) entries.push_back(std::move(entry));
    }
    return entries;
  });
}

void StatusService::publish(const SystemEvent& original) {
  // Callers publish the time they stored (change_time); this is the last guard, so no
  // subscriber ever hears of a change dated past the bound.
  SystemEvent event = original;
  bool clamped = false;
  event.timestamp =
      clamp_change_time(event.timestamp, 0, now_ms(), config_.changes.max_future_ms, clamped);
  // The durable record first: whoever is notified on the PUB socket can then find the
  // event in the stream already.
  append_to_stream(event);
  send_pub(event);
}

void StatusService::send_pub(const SystemEvent& event) {
  const std::string body = to_msgpack(event);
  bool sent = false;
  {
    std::lock_guard lock(pub_mutex_);
    try {
      sent =
          pub_.send(zmq::buffer(event.event), zmq::send_flags::sndmore | zmq::send_flags::dontwait)
              .has_value() &&
          pub_.send(zmq::buffer(body), zmq::send_flags::dontwait).has_value();
    } catch (const zmq::error_t& e) {
      std::uint64_t suppressed = 0;
      if (pub_log_.allow(suppressed)) {
        spdlog::warn("system event not published: {} ({} similar suppressed)", e.what(),
                     suppressed);
      }
    }
  }
  metrics_.system_events.Add({{"sink", "pub"}, {"result", sent ? "ok" : "error"}}).Increment();
}

Status StatusService::with_store(const char* operation,
                                 const std::function<Status(RedisRouter&)>& op) {
  return run(operation, [&](RedisRouter& conn) { return op(conn); });
}

void StatusService::count_changes(std::string_view source, std::uint64_t changed,
                                  std::uint64_t unchanged) {
  const std::string s(source);
  if (changed > 0) {
    metrics_.status_changes.Add({{"source", s}, {"changed", "true"}})
        .Increment(static_cast<double>(changed));
  }
  if (unchanged > 0) {
    metrics_.status_changes.Add({{"source", s}, {"changed", "false"}})
        .Increment(static_cast<double>(unchanged));
  }
}

void StatusService::publish_all(const std::vector<SystemEvent>& originals) {
  if (originals.empty()) return;
  const EpochMs now = now_ms();
  std::vector<SystemEvent> events = originals;
  std::vector<std::vector<std::pair<std::string, std::string>>> fields;
  fields.reserve(events.size());
  std::vector<RedisRouter::Command> commands;
  commands.reserve(events.size());
  for (SystemEvent& e : events) {
    bool clamped = false;
    e.timestamp = clamp_change_time(e.timestamp, 0, now, config_.changes.max_future_ms, clamped);
    fields.push_back(stream_fields(e));
    RedisRouter::Command c;
    c.key = keys_.events();
    c.args = {"XADD", keys_.events(), "MAXLEN", "~", stream_maxlen_, "*"};
    for (const auto& [k, v] : fields.back()) {
      c.args.push_back(k);
      c.args.push_back(v);
    }
    commands.push_back(std::move(c));
  }
  // The durable records first, as publish() does.
  std::uint64_t ok = 0;
  const auto written = run("stream", [&](RedisRouter& conn) -> Status {
    std::vector<RedisReplyPtr> replies;
    if (!conn.pipeline(commands, replies)) return fail(conn.error());
    ok = 0;
    for (const auto& r : replies) ok += r->type == REDIS_REPLY_STRING ? 1 : 0;
    return {};
  });
  if (!written) ok = 0;
  metrics_.system_events.Add({{"sink", "stream"}, {"result", "ok"}})
      .Increment(static_cast<double>(ok));
  if (ok < events.size()) {
    metrics_.system_events.Add({{"sink", "stream"}, {"result", "error"}})
        .Increment(static_cast<double>(events.size() - ok));
  }
  for (const SystemEvent& e : events) send_pub(e);
}

void StatusService::append_to_stream(const SystemEvent& event) {
  const auto fields = stream_fields(event);
  std::vector<std::string_view> args = {"XADD", keys_.events(), "MAXLEN", "~", stream_maxlen_, "*"};
  for (const auto& [k, v] : fields) {
    args.push_back(k);
    args.push_back(v);
  }
  const auto id = run("stream", [&](RedisRouter& conn) -> Result<std::string> {
    auto reply = conn.command(keys_.events(), args);
    if (reply && reply->type == REDIS_REPLY_STRING) return std::string(reply->str, reply->len);
    return fail(reply ? "XADD: " + describe_reply(reply.get()) : conn.error());
  });
  metrics_.system_events.Add({{"sink", "stream"}, {"result", id ? "ok" : "error"}}).Increment();
}

}  // namespace gk

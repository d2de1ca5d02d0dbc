#include "gatekeeper/pipeline/message_pipeline.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <thread>

#include "gatekeeper/ops/curve.h"

namespace gk {

namespace {

constexpr auto kStoreCheckInterval = std::chrono::milliseconds(500);
constexpr auto kIdlePoll = std::chrono::milliseconds(100);
constexpr auto kHeldPoll = std::chrono::milliseconds(10);

PersonRef person_of(const MessageHeader& h) {
  return {h.bu, h.user_id, h.email};
}

}  // namespace

MessagePipeline::MessagePipeline(const Config& config, zmq::context_t& context,
                                 PipelineStats& stats, Health& health)
    : config_(config),
      channels_(config.channels, config.topics),
      stats_(stats),
      health_(health),
      decoder_(config.ingress.max_header_bytes),
      reader_(config.redis, config.cache, channels_),
      forward_transactional_(config.on_store_unavailable.transactional ==
                             TransactionalPolicy::kForward),
      ingress_(context, zmq::socket_type::pull),
      decisions_(context, zmq::socket_type::push),
      backlog_limit_(static_cast<std::size_t>(std::max(config.egress.channel_backlog, 1))),
      backoff_(config.on_store_unavailable.retry_initial_ms) {
  for (std::size_t i = 0; i < channels_.routable_count(); ++i) {
    outlets_.emplace_back(context, zmq::socket_type::push);
  }
  backlog_.resize(outlets_.size());
  slots_.resize(config.ingress.batch_size);
  poll_items_.reserve(2 + outlets_.size());
  poll_channels_.reserve(outlets_.size());
}

MessagePipeline::~MessagePipeline() = default;

void MessagePipeline::bind(const std::string& curve_secret) {
  // Linger lets a stop flush what is queued for adapters that are still connected.
  constexpr int kLingerMs = 10000;
  ingress_.set(zmq::sockopt::rcvhwm, config_.ingress.rcvhwm);
  if (!curve_secret.empty()) make_curve_server(ingress_, curve_secret);
  ingress_.bind(config_.ingress.messages);
  decisions_.set(zmq::sockopt::sndhwm, config_.egress.sndhwm);
  decisions_.set(zmq::sockopt::linger, kLingerMs);
  decisions_.bind(config_.egress.decisions);
  for (std::size_t i = 0; i < outlets_.size(); ++i) {
    const ChannelConfig& c = channels_.config(i);
    outlets_[i].set(zmq::sockopt::sndhwm, c.sndhwm);
    outlets_[i].set(zmq::sockopt::linger, kLingerMs);
    outlets_[i].bind(c.endpoint);
  }
}

void MessagePipeline::run(const std::atomic<bool>& stop) {
  bool draining = false;
  Clock::time_point drain_deadline{};
  while (true) {
    const auto now = Clock::now();
    if (!draining && stop.load(std::memory_order_relaxed)) {
      draining = true;
      drain_deadline = now + std::chrono::milliseconds(config_.egress.drain_timeout_ms);
      health_.stopping = true;
      spdlog::info("stopping: deciding what was taken ({} held, {} waiting for adapters)",
                   held_.size(), backlog_total());
    }
    if (reload_pending_.load(std::memory_order_relaxed)) apply_reload();
    ensure_connected(now);
    const auto check_interval = config_.redis.cluster.empty()
                                    ? kStoreCheckInterval
                                    : std::chrono::milliseconds(config_.redis.cluster_refresh_ms);
    if (reader_.connected() && now - last_store_check_ > check_interval) {
      // An idle loop would not notice a dead store until the next message: probe it. On a
      // cluster the probe also re-reads the slot map and follows it with the links.
      last_store_check_ = now;
      if (!reader_.ping()) on_store_failure("PING failed");
      publish_reader_stats();
    }
    if (reader_.connected() && !held_.empty() && !intake_paused_) retry_held();
    expire_held(now);

    // Intake pauses while an adapter's backlog is full: the senders feel it instead.
    poll_items_.clear();
    poll_channels_.clear();
    const bool poll_ingress = !intake_paused_;
    if (poll_ingress) poll_items_.push_back({ingress_.handle(), 0, ZMQ_POLLIN, 0});
    const std::vector<int>& inval_fds = reader_.invalidation_fds();
    for (int fd : inval_fds) poll_items_.push_back({nullptr, fd, ZMQ_POLLIN, 0});
    for (std::size_t c = 0; c < backlog_.size(); ++c) {
      if (backlog_[c].empty()) continue;
      poll_items_.push_back({outlets_[c].handle(), 0, ZMQ_POLLOUT, 0});
      poll_channels_.push_back(c);
    }
    auto timeout = held_.empty() ? kIdlePoll : kHeldPoll;
    if (draining) {
      timeout = (held_.empty() && poll_channels_.empty()) ? std::chrono::milliseconds(0)
                                                          : std::chrono::milliseconds(5);
    }
    try {
      zmq::poll(poll_items_.data(), poll_items_.size(), timeout);
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
      continue;
    }
    const std::size_t inval_at = poll_ingress ? 1 : 0;
    const std::size_t inval_count = inval_fds.size();
    // Invalidations first, so the batch below decides on what Redis holds now.
    bool invalidated = false;
    for (std::size_t i = 0; i < inval_count && reader_.connected(); ++i) {
      if (!(poll_items_[inval_at + i].revents & ZMQ_POLLIN)) continue;
      invalidated = true;
      if (!reader_.drain_invalidations(i)) on_store_failure("invalidation link lost");
    }
    if (invalidated) publish_reader_stats();
    const std::size_t channels_at = inval_at + inval_count;
    for (std::size_t i = 0; i < poll_channels_.size(); ++i) {
      if (poll_items_[channels_at + i].revents & ZMQ_POLLOUT) flush_backlog(poll_channels_[i]);
    }
    if (poll_ingress && (poll_items_[0].revents & ZMQ_POLLIN)) {
      take_batch();
      continue;
    }
    if (draining) {
      const std::size_t waiting = backlog_total();
      // Only once the ingress was polled and empty: intake that resumed in this very
      // iteration (the last backlog flushed) still has messages queued to decide.
      if (poll_ingress && held_.empty() && waiting == 0 && !intake_paused_) break;
      if (Clock::now() >= drain_deadline && held_.empty()) {
        spdlog::error(
            "stop: {} permitted messages still wait for stalled adapters after {} ms; "
            "they are not delivered",
            waiting, config_.egress.drain_timeout_ms);
        break;
      }
      if (!reader_.connected()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  spdlog::info("drained: received={} forwarded={} suppressed={} rejected={} held={}",
               stats_.received.get(), stats_.forwarded.get(), stats_.suppressed.get(),
               stats_.rejected.get(), stats_.held.get());
}

void MessagePipeline::request_reload(ConfigPtr config) {
  std::lock_guard lock(reload_mutex_);
  pending_reload_ = std::move(config);
  reload_pending_ = true;
}

void MessagePipeline::apply_reload() {
  ConfigPtr next;
  {
    std::lock_guard lock(reload_mutex_);
    next.swap(pending_reload_);
    reload_pending_ = false;
  }
  if (!next) return;
  // The caller merged restart-only settings back to their running values, so endpoints and
  // the channel set are unchanged and every index below stays valid.
  config_ = *next;
  channels_ = ChannelRegistry(config_.channels, config_.topics);
  decoder_.set_max_bytes(config_.ingress.max_header_bytes);
  if (slots_.size() < config_.ingress.batch_size) slots_.resize(config_.ingress.batch_size);
  forward_transactional_ =
      config_.on_store_unavailable.transactional == TransactionalPolicy::kForward;
  backlog_limit_ = static_cast<std::size_t>(std::max(config_.egress.channel_backlog, 1));
  reader_.set_cache_max_entries(config_.cache.max_entries);
  publish_reader_stats();
  spdlog::info("message loop: reloaded settings applied");
}

void MessagePipeline::take_batch() {
  const auto now = Clock::now();
  const bool store_blocked = !reader_.connected() || !held_.empty();
  std::size_t parked = 0;
  for (std::size_t taken = 0; taken < config_.ingress.batch_size && !intake_paused_; ++taken) {
    Pending& p = slots_[parked];
    if (!receive_one(p)) break;
    p.received = now;
    // A hit leaves at once; only misses wait for the batch's one round trip. A person's
    // later messages miss on the same keys, so they queue behind the first: order holds.
    if (handle(p, store_blocked) == Step::kNeedsFetch) ++parked;
  }
  if (parked > 0) resolve_parked(slots_, parked, false);
  reader_.end_batch();
  publish_reader_stats();
}

void MessagePipeline::retry_held() {
  const std::size_t n = std::min(held_.size(), config_.ingress.batch_size);
  retry_.resize(std::max(retry_.size(), n));
  std::size_t parked = 0;
  for (std::size_t i = 0; i < n; ++i) {
    retry_[parked] = std::move(held_.front());
    held_.pop_front();
    stats_.held.set(held_.size());
    if (handle(retry_[parked], false) == Step::kNeedsFetch) ++parked;
  }
  if (parked > 0) resolve_parked(retry_, parked, true);
  reader_.end_batch();
  publish_reader_stats();
}

bool MessagePipeline::receive_one(Pending& p) {
  p.frames.clear();
  zmq::message_t first;
  if (!ingress_.recv(first, zmq::recv_flags::dontwait)) return false;
  bool more = first.more();
  p.frames.push_back(std::move(first));
  // A multipart message arrives whole, so the rest never blocks.
  while (more) {
    zmq::message_t next;
    (void)ingress_.recv(next, zmq::recv_flags::none);
    more = next.more();
    p.frames.push_back(std::move(next));
  }
  stats_.received.add();
  return true;
}

MessagePipeline::Step MessagePipeline::handle(Pending& p, bool store_blocked) {
  MessageHeader h;
  const HeaderStatus status = decoder_.decode(p.frames[0].data(), p.frames[0].size(), h);
  if (status != HeaderStatus::kOk) {
    reject(p, h.id, h.channel, Action::kReject, Reason::kMalformed, decoder_.detail(status));
    return Step::kDone;
  }
  if (p.frames.size() > config_.ingress.max_frames) {
    reject(p, h.id, h.channel, Action::kReject, Reason::kMalformed,
           "message has more frames than ingress.max_frames");
    return Step::kDone;
  }
  const auto channel = channels_.find_routable(h.channel);
  if (!channel) {
    reject(p, h.id, h.channel, Action::kReject, Reason::kUnknownChannel);
    return Step::kDone;
  }
  if (store_blocked) {
    // Behind what is already held, only the exempt kind may go ahead.
    if (!try_decide(p, h, *channel, true)) hold(std::move(p), false);
    return Step::kDone;
  }
  if (try_decide(p, h, *channel, false)) return Step::kDone;
  reader_.want(person_of(h));
  return Step::kNeedsFetch;
}

void MessagePipeline::resolve_parked(std::vector<Pending>& slots, std::size_t count,
                                     bool from_held) {
  std::string error;
  const auto fetch_start = Clock::now();
  const bool fetched = reader_.fetch(error);
  stats_.redis_round_trip.record(Clock::now() - fetch_start);
  if (!fetched) on_store_failure(error);
  MessageHeader h;
  std::size_t unresolved_from = count;
  for (std::size_t i = 0; i < count; ++i) {
    Pending& p = slots[i];
    if (fetched) {
      // Decoded once already and not moved since, so this cannot fail.
      (void)decoder_.decode(p.frames[0].data(), p.frames[0].size(), h);
      if (try_decide(p, h, *channels_.find_routable(h.channel), false)) continue;
      // Resolved keys can only be missing if the store failed mid-way: hold the rest.
    }
    unresolved_from = i;
    break;
  }
  if (unresolved_from == count) return;
  if (from_held) {
    for (std::size_t i = count; i-- > unresolved_from;) hold(std::move(slots[i]), true);
  } else {
    for (std::size_t i = unresolved_from; i < count; ++i) hold(std::move(slots[i]), false);
  }
}

bool MessagePipeline::try_decide(Pending& p, const MessageHeader& h, std::size_t channel,
                                 bool without_store) {
  DecisionInput in;
  in.channel_known = true;
  in.channel_index = channel;
  in.require_address = channels_.config(channel).require_address;
  in.has_address = h.has_address();
  in.realtime_transactional = h.realtime_transactional();
  in.forward_transactional_without_status = forward_transactional_;
  if (h.has_topic) {
    in.has_topic = true;
    const TopicRegistry& topics = channels_.topics();
    if (const auto t = topics.find(h.topic); t && topics.allowed_on(*t, channel)) {
      in.topic_known = true;
      in.topic_index = *t;
      in.topic_default = topics.at(*t).policy;
    } else {
      // Rejected on its face: no lookup needed.
      reject(p, h.id, channels_.name(channel), Action::kReject, Reason::kUnknownTopic);
      return true;
    }
  }
  OptOutRecord status;
  if (!without_store && reader_.resolve(person_of(h), status)) {
    in.status = &status;
  } else if (!(without_store && in.realtime_transactional && forward_transactional_)) {
    return false;
  }
  const Verdict v = decide(in);
  if (v.action == Action::kForward) {
    forward(channel, p);
  } else {
    reject(p, h.id, channels_.name(channel), v.action, v.reason, {},
           in.topic_known ? std::string_view(channels_.topics().at(in.topic_index).name)
                          : std::string_view());
  }
  return true;
}

void MessagePipeline::hold(Pending&& p, bool at_front) {
  if (!at_front && held_.size() >= config_.on_store_unavailable.hold_max_messages) {
    reject_held(p, Reason::kStoreUnavailable, "held queue is full");
    return;
  }
  if (at_front) {
    held_.push_front(std::move(p));
  } else {
    held_.push_back(std::move(p));
    stats_.held_total.add();
  }
  stats_.held.set(held_.size());
}

void MessagePipeline::expire_held(Clock::time_point now) {
  const auto max_wait = std::chrono::milliseconds(config_.on_store_unavailable.hold_max_wait_ms);
  while (!held_.empty() && now - held_.front().received >= max_wait) {
    Pending p = std::move(held_.front());
    held_.pop_front();
    reject_held(p, Reason::kStoreUnavailable, "status store unreachable");
  }
  stats_.held.set(held_.size());
}

void MessagePipeline::reject_held(Pending& p, Reason reason, std::string_view detail) {
  MessageHeader h;
  (void)decoder_.decode(p.frames[0].data(), p.frames[0].size(), h);
  const auto channel = channels_.find_routable(h.channel);
  reject(p, h.id, channel ? std::string_view(channels_.name(*channel)) : h.channel, Action::kReject,
         reason, detail);
}

void MessagePipeline::ensure_connected(Clock::time_point now) {
  if (reader_.connected()) {
    health_.redis_up = true;
    return;
  }
  health_.redis_up = false;
  if (now < next_connect_) return;
  std::string error;
  if (reader_.connect(error)) {
    if (config_.redis.cluster.empty()) {
      spdlog::info("connected to Redis {}:{}", config_.redis.host, config_.redis.port);
    } else {
      spdlog::info("connected to Redis Cluster: primaries {}", fmt::join(reader_.nodes(), ", "));
    }
    stats_.reconnects.add();
    backoff_ = std::chrono::milliseconds(config_.on_store_unavailable.retry_initial_ms);
    last_store_check_ = now;
    health_.redis_up = true;
    return;
  }
  spdlog::warn("Redis unavailable ({}); retrying in {} ms", error, backoff_.count());
  stats_.store_errors.add();
  next_connect_ = now + backoff_;
  backoff_ =
      std::min(backoff_ * 2, std::chrono::milliseconds(config_.on_store_unavailable.retry_max_ms));
}

void MessagePipeline::on_store_failure(const std::string& error) {
  spdlog::warn("Redis failure: {}; holding messages that need a lookup", error);
  stats_.store_errors.add();
  reader_.disconnect();
  health_.redis_up = false;
  next_connect_ = Clock::now();
}

void MessagePipeline::publish_reader_stats() {
  const auto& rs = reader_.stats();
  stats_.cache_entries.set(reader_.cache().size());
  stats_.cache_hits.set(rs.hits);
  stats_.cache_misses.set(rs.misses);
  stats_.cache_invalidations.set(rs.invalidations);
  stats_.cache_flushes.set(rs.flushes);
  stats_.cache_evictions.set(reader_.cache().evictions());
  stats_.redis_fetch_rounds.set(rs.fetch_rounds);
  stats_.redis_keys_fetched.set(rs.keys_fetched);
  stats_.redis_moved.set(rs.redirects.moved);
  stats_.redis_ask.set(rs.redirects.ask);
  stats_.redis_tryagain.set(rs.redirects.tryagain);
  stats_.cluster_topology_changes.set(rs.topology_changes);
  stats_.cluster_link_errors.set(rs.link_errors);
}

void MessagePipeline::forward(std::size_t channel, Pending& p) {
  auto& backlog = backlog_[channel];
  if (backlog.empty() && try_send(outlets_[channel], p.frames)) {
    stats_.decision_latency.record(Clock::now() - p.received);
    stats_.forwarded.add();
    stats_.by_channel_reason[channel][static_cast<std::size_t>(Reason::kNone)].add();
    return;
  }
  // Behind what already waits for this adapter, to keep the order it receives in.
  backlog.push_back(std::move(p));
  stats_.backlog.set(backlog_total());
  if (backlog.size() >= backlog_limit_ && !intake_paused_) {
    intake_paused_ = true;
    stats_.intake_pauses.add();
    spdlog::warn("channel {} adapter is not taking messages ({} waiting); pausing intake",
                 channels_.name(channel), backlog.size());
  }
}

bool MessagePipeline::try_send(zmq::socket_t& socket, std::vector<zmq::message_t>& frames) {
  const std::size_t n = frames.size();
  // ZeroMQ checks the high-water mark on a message's first frame only: once it is taken,
  // the remaining frames of the message are taken too.
  if (!socket.send(frames[0], n > 1 ? zmq::send_flags::sndmore | zmq::send_flags::dontwait
                                    : zmq::send_flags::dontwait)) {
    return false;
  }
  for (std::size_t i = 1; i < n; ++i) {
    (void)socket.send(frames[i], i + 1 < n ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  return true;
}

void MessagePipeline::flush_backlog(std::size_t channel) {
  auto& backlog = backlog_[channel];
  while (!backlog.empty() && try_send(outlets_[channel], backlog.front().frames)) {
    // From the socket to the adapter, the wait for the adapter included.
    stats_.decision_latency.record(Clock::now() - backlog.front().received);
    backlog.pop_front();
    stats_.forwarded.add();
    stats_.by_channel_reason[channel][static_cast<std::size_t>(Reason::kNone)].add();
  }
  stats_.backlog.set(backlog_total());
  if (intake_paused_) {
    bool any_full = false;
    for (const auto& b : backlog_) any_full = any_full || b.size() >= backlog_limit_;
    if (!any_full) {
      intake_paused_ = false;
      spdlog::info("adapters are taking messages again; intake resumes");
    }
  }
}

std::size_t MessagePipeline::backlog_total() const noexcept {
  std::size_t n = 0;
  for (const auto& b : backlog_) n += b.size();
  return n;
}

void MessagePipeline::reject(Pending& p, std::string_view id, std::string_view channel,
                             Action action, Reason reason, std::string_view detail,
                             std::string_view topic) {
  std::string_view reason_text = to_string(reason);
  if (reason == Reason::kOptOutChannel) {
    reason_text_.assign("opt_out:").append(channel);
    reason_text = reason_text_;
  } else if (reason == Reason::kOptOutTopic || reason == Reason::kNotSubscribedTopic) {
    reason_text_.assign(reason_text).append(":").append(topic);
    reason_text = reason_text_;
  }
  decision_buffer_.clear();
  msgpack::packer<msgpack::sbuffer> pk(decision_buffer_);
  pk.pack_map(detail.empty() ? 4 : 5);
  pk.pack(std::string_view("id"));
  pk.pack(id);
  pk.pack(std::string_view("verdict"));
  pk.pack(to_string(action));
  pk.pack(std::string_view("reason"));
  pk.pack(reason_text);
  pk.pack(std::string_view("channel"));
  pk.pack(channel);
  if (!detail.empty()) {
    pk.pack(std::string_view("detail"));
    pk.pack(detail);
  }
  // `id` and `channel` may point into frame 0, which the sends below hand over to ZeroMQ
  // (it frees the buffer once sent): everything that reads them comes first.
  const auto index = channels_.find_routable(channel);
  if (reason == Reason::kMalformed) spdlog::debug("malformed message id='{}': {}", id, detail);
  (void)decisions_.send(zmq::buffer(decision_buffer_.data(), decision_buffer_.size()),
                        zmq::send_flags::sndmore);
  const std::size_t n = p.frames.size();
  for (std::size_t i = 0; i < n; ++i) {
    (void)decisions_.send(p.frames[i],
                          i + 1 < n ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
  stats_.decision_latency.record(Clock::now() - p.received);
  if (action == Action::kSuppress) {
    stats_.suppressed.add();
  } else {
    stats_.rejected.add();
  }
  stats_.by_channel_reason[index ? *index : kMaxChannelTypes][static_cast<std::size_t>(reason)]
      .add();
}

}  // namespace gk

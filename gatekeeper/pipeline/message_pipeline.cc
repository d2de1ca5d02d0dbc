#include "gatekeeper/pipeline/message_pipeline.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

#include "gatekeeper/ops/curve.h"

namespace gk {

namespace {

constexpr auto kIdlePoll = std::chrono::milliseconds(100);
constexpr auto kHeldPoll = std::chrono::milliseconds(10);

}  // namespace

MessagePipeline::MessagePipeline(const Config& config, zmq::context_t& context,
                                 PipelineStats& stats, Health& health)
    : config_(config),
      channels_(config.channels, config.topics),
      stats_(stats),
      health_(health),
      reader_(config.redis, config.cache, channels_),
      address_book_(config.redis),
      address_check_(address_book_, config.erasure.salt),
      ingress_(context, zmq::socket_type::pull),
      decisions_(context, zmq::socket_type::push),
      outlets_(channel_sockets_, decisions_),
      store_(reader_, config_, stats, health),
      source_(reader_, store_, stats, address_check_),
      flow_(config_, channels_, source_, clock_, outlets_, stats) {
  flow_.set_address_check(&address_check_);
  for (std::size_t i = 0; i < channels_.routable_count(); ++i) {
    channel_sockets_.emplace_back(context, zmq::socket_type::push);
  }
  poll_items_.reserve(2 + channel_sockets_.size());
  poll_channels_.reserve(channel_sockets_.size());
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
  for (std::size_t i = 0; i < channel_sockets_.size(); ++i) {
    const ChannelConfig& c = channels_.config(i);
    channel_sockets_[i].set(zmq::sockopt::sndhwm, c.sndhwm);
    channel_sockets_[i].set(zmq::sockopt::linger, kLingerMs);
    channel_sockets_[i].bind(c.endpoint);
  }
}

void MessagePipeline::run(const std::atomic<bool>& stop) {
  std::chrono::steady_clock::time_point drain_deadline{};
  const auto receive = [this](std::vector<zmq::message_t>& frames) { return receive_one(frames); };
  address_book_.start();
  while (true) {
    const auto now = clock_.now();
    if (!flow_.draining() && stop.load(std::memory_order_relaxed)) {
      flow_.begin_drain();
      drain_deadline = now + std::chrono::milliseconds(config_.egress.drain_timeout_ms);
      health_.stopping = true;
      spdlog::info("stopping: deciding what was taken ({} held, {} waiting for adapters)",
                   flow_.held(), flow_.backlog_total());
    }
    const bool draining = flow_.draining();
    if (reload_pending_.load(std::memory_order_relaxed)) apply_reload();
    store_.ensure_connected(now);
    store_.probe_if_due(now, flow_.caught_up());
    if (flow_.may_retry_held()) flow_.retry_held();
    flow_.expire_held(now);

    // Intake pauses while an adapter's backlog is full: the senders feel it instead.
    poll_items_.clear();
    poll_channels_.clear();
    const bool poll_ingress = !flow_.paused();
    if (poll_ingress) poll_items_.push_back({ingress_.handle(), 0, ZMQ_POLLIN, 0});
    const std::vector<int>& inval_fds = reader_.invalidation_fds();
    for (int fd : inval_fds) poll_items_.push_back({nullptr, fd, ZMQ_POLLIN, 0});
    for (std::size_t c = 0; c < channel_sockets_.size(); ++c) {
      if (flow_.backlog_waiting(c) == 0) continue;
      poll_items_.push_back({channel_sockets_[c].handle(), 0, ZMQ_POLLOUT, 0});
      poll_channels_.push_back(c);
    }
    auto timeout = flow_.held() == 0 ? kIdlePoll : kHeldPoll;
    if (draining) {
      timeout = (flow_.held() == 0 && poll_channels_.empty()) ? std::chrono::milliseconds(0)
                                                              : std::chrono::milliseconds(5);
    }
    try {
      zmq::poll(poll_items_.data(), poll_items_.size(), timeout);
    } catch (const zmq::error_t& e) {
      // A guard: only a terminated context (the Server's, which outlives this loop) or bad
      // poll items get here; that is a bug to stop on, not a state to serve through.
      if (e.num() != EINTR) throw;
      continue;
    }
    // After the wait, not before it: a batch is decided on one snapshot of addresses and
    // tombstones, and one taken before an idle poll could be 100 ms older than the batch.
    if (address_check_.refresh()) {
      stats_.suppressed_addresses.set(address_check_.addresses());
      stats_.tombstones.set(address_check_.tombstones());
      stats_.address_book_synced.set(address_check_.ready() ? 1 : 0);
      health_.addresses_synced = address_check_.ready();
    }
    const std::size_t inval_at = poll_ingress ? 1 : 0;
    const std::size_t inval_count = inval_fds.size();
    // Invalidations first, so the batch below decides on what Redis holds now.
    bool invalidated = false;
    for (std::size_t i = 0; i < inval_count && reader_.connected(); ++i) {
      if (!(poll_items_[inval_at + i].revents & ZMQ_POLLIN)) continue;
      invalidated = true;
      if (!reader_.drain_invalidations(i)) store_.on_failure("invalidation link lost");
    }
    if (invalidated) store_.publish_stats();
    const std::size_t channels_at = inval_at + inval_count;
    for (std::size_t i = 0; i < poll_channels_.size(); ++i) {
      if (poll_items_[channels_at + i].revents & ZMQ_POLLOUT)
        flow_.flush_backlog(poll_channels_[i]);
    }
    if (poll_ingress && (poll_items_[0].revents & ZMQ_POLLIN)) {
      flow_.take_batch(receive);
      continue;
    }
    if (draining) {
      if (flow_.drained(poll_ingress)) break;
      if (clock_.now() >= drain_deadline && flow_.held() == 0) {
        spdlog::error(
            "stop: {} permitted messages still wait for stalled adapters after {} ms; "
            "they are not delivered",
            flow_.backlog_total(), config_.egress.drain_timeout_ms);
        break;
      }
      if (!reader_.connected()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  address_book_.stop();
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
  flow_.configure();
  reader_.set_cache_limits(config_.cache);
  store_.publish_stats();
  spdlog::info("message loop: reloaded settings applied");
}

bool MessagePipeline::receive_one(std::vector<zmq::message_t>& frames) {
  zmq::message_t first;
  if (!ingress_.recv(first, zmq::recv_flags::dontwait)) return false;
  bool more = first.more();
  frames.push_back(std::move(first));
  // A multipart message arrives whole, so the rest never blocks.
  while (more) {
    zmq::message_t next;
    (void)ingress_.recv(next, zmq::recv_flags::none);
    more = next.more();
    frames.push_back(std::move(next));
  }
  return true;
}

}  // namespace gk

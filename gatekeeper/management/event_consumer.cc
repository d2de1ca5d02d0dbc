#include "gatekeeper/management/event_consumer.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "common/protocol/events.h"
#include "common/util/timestamp.h"
#include "gatekeeper/ops/curve.h"

namespace gk {

namespace {
constexpr auto kPollInterval = std::chrono::milliseconds(100);
// Events queued when stop() comes are still processed, up to this many, so a shutdown
// under a flood still ends.
constexpr int kMaxDrain = 10000;
}  // namespace

EventConsumer::EventConsumer(const Config& config, zmq::context_t& context,
                             const ChannelRegistry& channels, EventProcessor& processor,
                             ManagementMetrics& metrics)
    : config_(config),
      channels_(channels),
      processor_(processor),
      metrics_(metrics),
      socket_(context, zmq::socket_type::pull) {
  socket_.set(zmq::sockopt::rcvhwm, config.ingress.rcvhwm);
  socket_.set(zmq::sockopt::linger, 0);
  // Frames far beyond the body limit are refused by ZeroMQ itself (it drops the sending
  // peer) before they take memory here; those up to 4x the limit are counted as too large.
  socket_.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(config.http.max_body_bytes) * 4);
}

EventConsumer::~EventConsumer() {
  stop();
}

void EventConsumer::bind(const std::string& curve_secret) {
  if (!curve_secret.empty()) make_curve_server(socket_, curve_secret);
  socket_.bind(config_.ingress.events);
}

void EventConsumer::start() {
  thread_ = std::thread([this] { run(); });
}

void EventConsumer::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void EventConsumer::run() {
  while (!stop_.load()) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, kPollInterval);
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) return;
      continue;  // EINTR
    }
    if (item.revents & ZMQ_POLLIN) {
      while (!stop_.load() && handle_one()) {
      }
    }
  }
  int drained = 0;
  while (drained < kMaxDrain && handle_one()) ++drained;
  if (drained > 0) spdlog::info("events socket: processed {} queued bodies at shutdown", drained);
}

void EventConsumer::reject(std::size_t frames, std::size_t bytes, const std::string& why) {
  metrics_.event_bodies.Add({{"transport", "socket"}, {"result", "invalid"}}).Increment();
  std::uint64_t suppressed = 0;
  if (bad_log_.allow(suppressed)) {
    spdlog::warn(
        "events socket: dropped a message ({} frame(s), {} bytes): {} ({} similar "
        "suppressed)",
        frames, bytes, why, suppressed);
  }
}

bool EventConsumer::handle_one() {
  std::vector<zmq::message_t> frames;
  try {
    zmq::message_t frame;
    if (!socket_.recv(frame, zmq::recv_flags::dontwait)) return false;
    frames.push_back(std::move(frame));
    while (frames.back().more()) {
      zmq::message_t next;
      (void)socket_.recv(next, zmq::recv_flags::none);
      frames.push_back(std::move(next));
    }
  } catch (const zmq::error_t&) {
    return false;  // context terminating
  }
  const EpochMs received = now_ms();
  const zmq::message_t& body_frame = frames.front();
  if (frames.size() != 1) {
    reject(frames.size(), body_frame.size(),
           "an event body is one frame, got " + std::to_string(frames.size()));
    return true;
  }
  if (body_frame.size() > config_.http.max_body_bytes) {
    reject(1, body_frame.size(),
           "body larger than http.max_body_bytes = " + std::to_string(config_.http.max_body_bytes));
    return true;
  }
  const std::string_view bytes(static_cast<const char*>(body_frame.data()), body_frame.size());
  EventBodyResult parsed = parse_event_body(bytes, channels_, config_.http.max_events_per_body);
  if (!parsed.ok()) {
    reject(1, bytes.size(), parsed.error->field + ": " + parsed.error->message);
    return true;
  }
  metrics_.event_bodies.Add({{"transport", "socket"}, {"result", "ok"}}).Increment();
  RetryPolicy retry;
  retry.attempts = 4;
  retry.initial_backoff = std::chrono::milliseconds(config_.on_store_unavailable.retry_initial_ms);
  retry.max_backoff = std::chrono::milliseconds(config_.on_store_unavailable.retry_max_ms);
  retry.stop = &stop_;
  const auto outcomes = processor_.process(parsed.body, received, retry);
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    const Event& event = parsed.body.events[i];
    // A custom event's name is free text from the sender: only the known names are logged.
    const std::string_view name =
        event.kind == EventKind::kOther ? std::string_view("custom") : std::string_view(event.name);
    const auto status = outcomes[i].status;
    if (status == EventOutcome::Status::kAccepted) continue;
    std::uint64_t suppressed = 0;
    if (!event_log_.allow(suppressed)) continue;
    if (status == EventOutcome::Status::kRejected) {
      spdlog::warn("events socket: event {} '{}' rejected: {}: {} ({} similar suppressed)", i, name,
                   event.error->field, event.error->message, suppressed);
    } else {
      spdlog::warn(
          "events socket: event {} '{}' lost: status store unavailable after {} "
          "attempts ({} similar suppressed)",
          i, name, retry.attempts, suppressed);
    }
  }
  return true;
}

}  // namespace gk

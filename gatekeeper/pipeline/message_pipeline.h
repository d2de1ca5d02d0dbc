#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/rules/channels.h"
#include "common/config/config.h"
#include "common/rules/decide.h"
#include "common/protocol/header.h"
#include "common/store/status_reader.h"
#include "gatekeeper/pipeline/pipeline_stats.h"

namespace gk {

// The message loop: ingress PULL -> header -> status (cache or Redis) -> decide -> the
// channel's PUSH, or the decisions PUSH with a reason. One thread owns every socket and
// Redis link it uses. Messages whose status cannot be read are held (bounded, in arrival
// order) and retried; they are never forwarded unchecked.
class MessagePipeline {
 public:
  using Clock = std::chrono::steady_clock;

  MessagePipeline(const Config& config, zmq::context_t& context, PipelineStats& stats,
                  Health& health);
  ~MessagePipeline();
  MessagePipeline(const MessagePipeline&) = delete;
  MessagePipeline& operator=(const MessagePipeline&) = delete;

  // Binds every socket; throws zmq::error_t naming nothing, so the caller adds the endpoint.
  // With a CURVE secret the ingress socket is a CURVE server.
  void bind(const std::string& curve_secret = {});
  // Hands the loop a new config whose reloadable settings it applies at its next turn (see
  // common/config_reload.h for which those are). Any thread may call it.
  void request_reload(ConfigPtr config);

  // Runs until `stop` is set, then drains: what was received is decided, held messages get
  // until their deadline, outlets flush. Returns when nothing is left.
  void run(const std::atomic<bool>& stop);

 private:
  struct Pending {
    std::vector<zmq::message_t> frames;
    Clock::time_point received;
  };
  enum class Step { kDone, kNeedsFetch };

  void take_batch();
  void retry_held();
  bool receive_one(Pending& p);
  // Decides `p` if it can without a round trip (malformed, unknown channel, cache hit, exempt
  // while the store is down) or holds it; otherwise notes what to fetch and says so.
  Step handle(Pending& p, bool store_blocked);
  // Fetches what the parked messages need in one pipeline, then decides them in order; on a
  // store failure they are held (at the front when they came from the held queue).
  void resolve_parked(std::vector<Pending>& slots, std::size_t count, bool from_held);
  bool try_decide(Pending& p, const MessageHeader& h, std::size_t channel, bool without_store);
  void hold(Pending&& p, bool at_front);
  void expire_held(Clock::time_point now);
  void ensure_connected(Clock::time_point now);
  void on_store_failure(const std::string& error);
  void publish_reader_stats();
  void apply_reload();

  void forward(std::size_t channel, Pending& p);
  // Sends without blocking; false when the adapter's socket is full or has no peer.
  bool try_send(zmq::socket_t& socket, std::vector<zmq::message_t>& frames);
  void flush_backlog(std::size_t channel);
  std::size_t backlog_total() const noexcept;
  void reject(Pending& p, std::string_view id, std::string_view channel, Action action,
              Reason reason, std::string_view detail = {}, std::string_view topic = {});
  // Rejects with what can still be read of the header (used for held messages that give up).
  void reject_held(Pending& p, Reason reason, std::string_view detail);

  Config config_;  // the loop's own copy: reloads change it between turns
  ChannelRegistry channels_;
  PipelineStats& stats_;
  Health& health_;
  HeaderDecoder decoder_;
  StatusReader reader_;
  bool forward_transactional_;

  zmq::socket_t ingress_;
  zmq::socket_t decisions_;
  std::vector<zmq::socket_t> outlets_;  // by routable channel index

  // Permitted messages waiting for a full or absent adapter, per channel, in order.
  std::vector<std::deque<Pending>> backlog_;
  std::size_t backlog_limit_;
  bool intake_paused_ = false;

  // Reused across batches so a turn of the loop allocates nothing once warmed up.
  std::vector<zmq::pollitem_t> poll_items_;
  std::vector<std::size_t> poll_channels_;
  std::vector<Pending> slots_;
  std::vector<Pending> retry_;
  std::deque<Pending> held_;
  Clock::time_point next_connect_{};
  std::chrono::milliseconds backoff_;
  Clock::time_point last_store_check_{};
  std::mutex reload_mutex_;
  ConfigPtr pending_reload_;
  std::atomic<bool> reload_pending_{false};

  msgpack::sbuffer decision_buffer_;
  std::string reason_text_;
};

}  // namespace gk

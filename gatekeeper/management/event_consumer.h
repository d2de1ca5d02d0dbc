#pragma once

#include <atomic>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "common/config/config.h"
#include "common/rules/channels.h"
#include "gatekeeper/management/event_processor.h"
#include "gatekeeper/management/management_metrics.h"
#include "gatekeeper/ops/log_limiter.h"

namespace gk {

// The events socket (`ingress.events`, bound PULL): one thread takes one-frame event bodies
// (JSON or msgpack), parses them and hands them to the EventProcessor. Bad frames are
// counted, logged (rate-limited) and dropped; nothing stops the loop but stop().
class EventConsumer {
 public:
  EventConsumer(const Config& config, zmq::context_t& context, const ChannelRegistry& channels,
                EventProcessor& processor, ManagementMetrics& metrics);
  ~EventConsumer();
  EventConsumer(const EventConsumer&) = delete;
  EventConsumer& operator=(const EventConsumer&) = delete;

  // Binds the socket on the calling thread (so a bad endpoint fails start-up); throws
  // zmq::error_t. With a CURVE secret the socket is a CURVE server like the message ingress:
  // an unauthenticated Opt In is as harmful as an unauthenticated message.
  void bind(const std::string& curve_secret = {});
  void start();
  // Stops taking new bodies, processes what is already queued on the socket, joins.
  void stop();

 private:
  void run();
  // Receives and handles one message if one is waiting; false when none was.
  bool handle_one();
  void reject(std::size_t frames, std::size_t bytes, const std::string& why);

  const Config& config_;
  const ChannelRegistry& channels_;
  EventProcessor& processor_;
  ManagementMetrics& metrics_;
  zmq::socket_t socket_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  LogLimiter bad_log_;
  LogLimiter event_log_;
};

}  // namespace gk

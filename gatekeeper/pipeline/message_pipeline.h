#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/config/config.h"
#include "common/rules/channels.h"
#include "common/store/status_reader.h"
#include "gatekeeper/admission/admission_flow.h"
#include "gatekeeper/admission/pipeline_stats.h"
#include "gatekeeper/admission/status_source.h"
#include "gatekeeper/ops/health.h"
#include "gatekeeper/pipeline/socket_outlets.h"
#include "gatekeeper/pipeline/store_link.h"

namespace gk {

// The message loop: ingress PULL -> header -> status (cache or Redis) -> decide -> the
// channel's PUSH, or the decisions PUSH with a reason. One thread owns every socket and
// Redis link it uses. Messages whose status cannot be read are held (bounded, in arrival
// order) and retried; they are never forwarded unchecked.
//
// This class owns the sockets, polls them and wires the parts: AdmissionFlow (where each
// message goes), StoreLink (the store connection), SocketOutlets (sending).
class MessagePipeline {
 public:
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
  using Flow = AdmissionFlow<StoreStatusSource, SteadyClock, SocketOutlets>;

  bool receive_one(std::vector<zmq::message_t>& frames);
  void apply_reload();

  Config config_;  // the loop's own copy: reloads change it between turns
  ChannelRegistry channels_;
  PipelineStats& stats_;
  Health& health_;
  StatusReader reader_;
  // Suppressed addresses and erasure tombstones, kept in process (PROTOCOL.md 11 and 13).
  AddressBook address_book_;
  AddressCheck address_check_;

  zmq::socket_t ingress_;
  zmq::socket_t decisions_;
  std::vector<zmq::socket_t> channel_sockets_;  // by routable channel index

  SocketOutlets outlets_;
  StoreLink store_;
  StoreStatusSource source_;
  SteadyClock clock_;
  Flow flow_;

  // Reused across turns so a turn of the loop allocates nothing once warmed up.
  std::vector<zmq::pollitem_t> poll_items_;
  std::vector<std::size_t> poll_channels_;
  std::mutex reload_mutex_;
  ConfigPtr pending_reload_;
  std::atomic<bool> reload_pending_{false};
};

}  // namespace gk

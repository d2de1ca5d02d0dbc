#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "common/rules/verdict.h"
#include "gatekeeper/admission/decision_writer.h"

namespace gk::test {

// Frames of a candidate message: the header packed from JSON, then the payload. The tests
// use the message id as payload, so an outlet can tell which message it got.
std::vector<zmq::message_t> message_frames(const nlohmann::json& header,
                                           const std::string& payload);

// The ingress side: messages queued for the flow's take_batch, as the ingress socket would
// hold them.
class FakeIngress {
 public:
  void push(std::vector<zmq::message_t> frames) { queue_.push_back(std::move(frames)); }
  // take_batch's `receive`: false when nothing waits.
  bool receive(std::vector<zmq::message_t>& frames);
  std::size_t waiting() const noexcept { return queue_.size(); }

 private:
  std::deque<std::vector<zmq::message_t>> queue_;
};

// MessageOutlets (gatekeeper/admission/admission_flow.h) that record where each message went,
// in one log in the order they left. An adapter can be blocked: it then takes nothing, as a
// full or absent adapter.
class FakeOutlets {
 public:
  // Where one message ended: a channel index, or a decision.
  struct Exit {
    std::string payload;
    bool forwarded = false;
    std::size_t channel = 0;  // forwarded: the routable index
    Decision decision;        // not forwarded: views replaced by the strings below
    std::string id, channel_name, detail, topic;
  };

  explicit FakeOutlets(std::size_t channels) : blocked_(channels, false) {}

  void block(std::size_t channel) { blocked_[channel] = true; }
  void unblock(std::size_t channel) { blocked_[channel] = false; }
  bool blocked(std::size_t channel) const { return blocked_[channel]; }

  bool try_forward(std::size_t channel, std::vector<zmq::message_t>& frames);
  void send_decision(const Decision& d, std::vector<zmq::message_t>& frames);

  const std::vector<Exit>& exits() const noexcept { return exits_; }
  // Payloads in the order they left, forwarded or decided.
  std::vector<std::string> payloads() const;
  // Payloads forwarded to `channel`, in order.
  std::vector<std::string> forwarded(std::size_t channel) const;
  // The exit of `payload`; fails the test if there is not exactly one.
  const Exit& exit_of(const std::string& payload) const;

 private:
  std::vector<bool> blocked_;
  std::vector<Exit> exits_;
};

}  // namespace gk::test

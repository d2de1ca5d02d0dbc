#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

namespace gk::test {

using Frames = std::vector<std::string>;

// A msgpack header built from JSON-shaped data (strings stay str, bools stay bool).
std::string pack(const nlohmann::json& value);
nlohmann::json unpack(const std::string& bytes);

// A campaign engine: PUSH connected to the gatekeeper's ingress.
class Sender {
 public:
  Sender(zmq::context_t& ctx, const std::string& endpoint);
  void send(const Frames& frames);
  void send(const nlohmann::json& header, const std::string& payload);

 private:
  zmq::socket_t socket_;
};

// An adapter or decisions reader: PULL connected to a bound PUSH.
class Sink {
 public:
  Sink(zmq::context_t& ctx, const std::string& endpoint);
  std::optional<Frames> receive(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Everything that arrives until `quiet` passes with nothing new.
  std::vector<Frames> drain(std::chrono::milliseconds quiet = std::chrono::milliseconds(300));
  zmq::socket_t& socket() noexcept { return socket_; }

 private:
  zmq::socket_t socket_;
};

// A system-events subscriber: SUB connected to the bound PUB, all topics.
class Subscriber {
 public:
  Subscriber(zmq::context_t& ctx, const std::string& endpoint, const std::string& topic = "");
  std::optional<Frames> receive(std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  zmq::socket_t socket_;
};

}  // namespace gk::test

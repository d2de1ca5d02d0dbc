#include "tests/fakes/fake_outlets.h"

#include <stdexcept>

namespace gk::test {

std::vector<zmq::message_t> message_frames(const nlohmann::json& header,
                                           const std::string& payload) {
  const std::vector<std::uint8_t> packed = nlohmann::json::to_msgpack(header);
  std::vector<zmq::message_t> frames;
  frames.emplace_back(packed.data(), packed.size());
  frames.emplace_back(payload.data(), payload.size());
  return frames;
}

bool FakeIngress::receive(std::vector<zmq::message_t>& frames) {
  if (queue_.empty()) return false;
  frames = std::move(queue_.front());
  queue_.pop_front();
  return true;
}

namespace {
std::string payload_of(const std::vector<zmq::message_t>& frames) {
  if (frames.size() < 2) return {};
  return std::string(static_cast<const char*>(frames.back().data()), frames.back().size());
}
}  // namespace

bool FakeOutlets::try_forward(std::size_t channel, std::vector<zmq::message_t>& frames) {
  if (blocked_.at(channel)) return false;
  Exit e;
  e.payload = payload_of(frames);
  e.forwarded = true;
  e.channel = channel;
  exits_.push_back(std::move(e));
  for (auto& f : frames) f = zmq::message_t();  // sent: ZeroMQ has them now
  return true;
}

void FakeOutlets::send_decision(const Decision& d, std::vector<zmq::message_t>& frames) {
  Exit e;
  e.payload = payload_of(frames);
  e.id = std::string(d.id);
  e.channel_name = std::string(d.channel);
  e.detail = std::string(d.detail);
  e.topic = std::string(d.topic);
  e.decision = d;
  e.decision.id = e.decision.channel = e.decision.detail = e.decision.topic = {};
  exits_.push_back(std::move(e));
  // The real outlet hands the frames to ZeroMQ: do the same to the views' backing store, so
  // a caller that reads `d` after sending shows up under ASan.
  for (auto& f : frames) f = zmq::message_t();
}

std::vector<std::string> FakeOutlets::payloads() const {
  std::vector<std::string> out;
  for (const auto& e : exits_) out.push_back(e.payload);
  return out;
}

std::vector<std::string> FakeOutlets::forwarded(std::size_t channel) const {
  std::vector<std::string> out;
  for (const auto& e : exits_) {
    if (e.forwarded && e.channel == channel) out.push_back(e.payload);
  }
  return out;
}

const FakeOutlets::Exit& FakeOutlets::exit_of(const std::string& payload) const {
  const Exit* found = nullptr;
  for (const auto& e : exits_) {
    if (e.payload != payload) continue;
    if (found) throw std::logic_error("message " + payload + " left twice");
    found = &e;
  }
  if (!found) throw std::logic_error("message " + payload + " never left");
  return *found;
}

}  // namespace gk::test

#include "tests/support/zmq_peers.h"

namespace gk::test {

std::string pack(const nlohmann::json& value) {
  const auto bytes = nlohmann::json::to_msgpack(value);
  return std::string(bytes.begin(), bytes.end());
}

nlohmann::json unpack(const std::string& bytes) {
  return nlohmann::json::from_msgpack(bytes);
}

namespace {

std::optional<Frames> receive_frames(zmq::socket_t& socket, std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{socket.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, timeout);
  if (!(item.revents & ZMQ_POLLIN)) return std::nullopt;
  Frames frames;
  bool more = true;
  while (more) {
    zmq::message_t m;
    (void)socket.recv(m, zmq::recv_flags::none);
    frames.emplace_back(static_cast<const char*>(m.data()), m.size());
    more = m.more();
  }
  return frames;
}

}  // namespace

Sender::Sender(zmq::context_t& ctx, const std::string& endpoint)
    : socket_(ctx, zmq::socket_type::push) {
  socket_.set(zmq::sockopt::linger, 5000);
  socket_.connect(endpoint);
}

void Sender::send(const Frames& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    (void)socket_.send(zmq::buffer(frames[i]),
                       i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

void Sender::send(const nlohmann::json& header, const std::string& payload) {
  send(Frames{pack(header), payload});
}

Sink::Sink(zmq::context_t& ctx, const std::string& endpoint)
    : socket_(ctx, zmq::socket_type::pull) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.connect(endpoint);
}

std::optional<Frames> Sink::receive(std::chrono::milliseconds timeout) {
  return receive_frames(socket_, timeout);
}

std::vector<Frames> Sink::drain(std::chrono::milliseconds quiet) {
  std::vector<Frames> out;
  while (auto f = receive(quiet)) out.push_back(std::move(*f));
  return out;
}

Subscriber::Subscriber(zmq::context_t& ctx, const std::string& endpoint, const std::string& topic)
    : socket_(ctx, zmq::socket_type::sub) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::subscribe, topic);
  socket_.connect(endpoint);
}

std::optional<Frames> Subscriber::receive(std::chrono::milliseconds timeout) {
  return receive_frames(socket_, timeout);
}

}  // namespace gk::test

#include "gatekeeper/admission/decision_writer.h"

namespace gk {

std::string_view DecisionWriter::encode(const Decision& d) {
  std::string_view reason_text = to_string(d.reason);
  if (d.reason == Reason::kOptOutChannel) {
    reason_text_.assign("opt_out:").append(d.channel);
    reason_text = reason_text_;
  } else if (d.reason == Reason::kOptOutTopic || d.reason == Reason::kNotSubscribedTopic) {
    reason_text_.assign(reason_text).append(":").append(d.topic);
    reason_text = reason_text_;
  }
  buffer_.clear();
  msgpack::packer<msgpack::sbuffer> pk(buffer_);
  pk.pack_map(d.detail.empty() ? 4 : 5);
  pk.pack(std::string_view("id"));
  pk.pack(d.id);
  pk.pack(std::string_view("verdict"));
  pk.pack(to_string(d.action));
  pk.pack(std::string_view("reason"));
  pk.pack(reason_text);
  pk.pack(std::string_view("channel"));
  pk.pack(d.channel);
  if (!d.detail.empty()) {
    pk.pack(std::string_view("detail"));
    pk.pack(d.detail);
  }
  return {buffer_.data(), buffer_.size()};
}

void DecisionWriter::write(const Decision& d, std::vector<zmq::message_t>& frames) {
  const std::string_view encoded = encode(d);
  (void)socket_.send(zmq::buffer(encoded.data(), encoded.size()), zmq::send_flags::sndmore);
  const std::size_t n = frames.size();
  for (std::size_t i = 0; i < n; ++i) {
    (void)socket_.send(frames[i], i + 1 < n ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

}  // namespace gk

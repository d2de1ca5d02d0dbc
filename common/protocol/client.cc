#include "common/protocol/client.h"

#include <array>
#include <span>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "common/rules/identity.h"

namespace gk::client {

namespace {

// The keys the gatekeeper reads itself; an extra key with one of these names would make the
// header ambiguous (msgpack maps may repeat keys, readers disagree on which one wins).
constexpr std::array<std::string_view, 5> kProtocolKeys = {"id", "channel", "user", "to",
                                                           "campaign"};

using Packer = msgpack::packer<msgpack::sbuffer>;

void pack_str(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<std::uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

bool key_is(const msgpack::object_kv& kv, std::string_view name) {
  return kv.key.type == msgpack::type::STR &&
         std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == name;
}

// A string value, or nullopt when the value is not a msgpack string.
std::optional<std::string> str(const msgpack::object& o) {
  if (o.type != msgpack::type::STR) return std::nullopt;
  return std::string(o.via.str.ptr, o.via.str.size);
}

}  // namespace

HeaderBuilder& HeaderBuilder::id(std::string_view value) {
  id_ = value;
  return *this;
}

HeaderBuilder& HeaderBuilder::channel(std::string_view value) {
  channel_ = value;
  return *this;
}

HeaderBuilder& HeaderBuilder::user_id(std::string_view value) {
  user_id_ = value;
  return *this;
}

HeaderBuilder& HeaderBuilder::email(std::string_view value) {
  email_ = value;
  return *this;
}

HeaderBuilder& HeaderBuilder::bu(std::string_view value) {
  bu_ = value;
  return *this;
}

HeaderBuilder& HeaderBuilder::to(std::string_view value) {
  to_ = std::string(value);
  return *this;
}

HeaderBuilder& HeaderBuilder::campaign(std::string_view campaign_id, CampaignType type,
                                       bool transactional) {
  const std::string topic = campaign_ ? campaign_->topic : std::string();
  campaign_ = Campaign{std::string(campaign_id), type, transactional, topic};
  return *this;
}

HeaderBuilder& HeaderBuilder::topic(std::string_view name) {
  if (!campaign_) campaign_ = Campaign{};
  campaign_->topic = std::string(name);
  return *this;
}

HeaderBuilder& HeaderBuilder::extra(std::string_view key, std::string_view value) {
  for (auto& [k, v] : extra_) {
    if (k == key) {
      v = value;
      return *this;
    }
  }
  extra_.emplace_back(key, value);
  return *this;
}

std::string HeaderBuilder::problem() const {
  if (id_.empty()) return "header needs an id";
  if (channel_.empty()) return "header needs a channel";
  if (user_id_.empty() && email_.empty()) return "header needs a user id or an email";
  // The gatekeeper's own rules (common/identity.h): refused here rather than as malformed.
  if (auto p = business_unit_problem(bu_); !p.empty()) return "user bu " + std::string(p);
  if (auto p = user_id_.empty() ? std::string_view{} : external_id_problem(user_id_); !p.empty()) {
    return "user id " + std::string(p);
  }
  if (auto p = email_.empty() ? std::string_view{} : email_problem(email_); !p.empty()) {
    return "user email " + std::string(p);
  }
  for (const auto& [key, value] : extra_) {
    for (const auto reserved : kProtocolKeys) {
      if (key == reserved) return "extra key '" + key + "' would shadow the protocol's key";
    }
  }
  return {};
}

std::string HeaderBuilder::build() const {
  if (auto p = problem(); !p.empty()) throw std::invalid_argument(p);
  msgpack::sbuffer buffer;
  pack_into(buffer);
  return std::string(buffer.data(), buffer.size());
}

void HeaderBuilder::pack_into(msgpack::sbuffer& out) const {
  Packer pk(out);
  const std::uint32_t keys =
      3 + (to_ ? 1U : 0U) + (campaign_ ? 1U : 0U) + static_cast<std::uint32_t>(extra_.size());
  pk.pack_map(keys);
  pack_str(pk, "id");
  pack_str(pk, id_);
  pack_str(pk, "channel");
  pack_str(pk, channel_);

  pack_str(pk, "user");
  pk.pack_map((user_id_.empty() ? 0U : 1U) + (email_.empty() ? 0U : 1U) + (bu_.empty() ? 0U : 1U));
  if (!user_id_.empty()) {
    pack_str(pk, "id");
    pack_str(pk, user_id_);
  }
  if (!email_.empty()) {
    pack_str(pk, "email");
    pack_str(pk, email_);
  }
  if (!bu_.empty()) {
    pack_str(pk, "bu");
    pack_str(pk, bu_);
  }

  if (to_) {
    pack_str(pk, "to");
    pack_str(pk, *to_);
  }
  if (campaign_) {
    pack_str(pk, "campaign");
    pk.pack_map((campaign_->id.empty() ? 2 : 3) + (campaign_->topic.empty() ? 0 : 1));
    if (!campaign_->id.empty()) {
      pack_str(pk, "id");
      pack_str(pk, campaign_->id);
    }
    pack_str(pk, "type");
    pack_str(pk, campaign_->type == CampaignType::kRealtime ? "realtime" : "batch");
    pack_str(pk, "transactional");
    pk.pack(campaign_->transactional);
    if (!campaign_->topic.empty()) {
      pack_str(pk, "topic");
      pack_str(pk, campaign_->topic);
    }
  }
  for (const auto& [key, value] : extra_) {
    pack_str(pk, key);
    pack_str(pk, value);
  }
}

MessageSender::MessageSender(zmq::context_t& context, const std::string& endpoint,
                             SenderOptions options)
    : socket_(context, zmq::socket_type::push) {
  socket_.set(zmq::sockopt::immediate, 1);
  socket_.set(zmq::sockopt::sndtimeo, static_cast<int>(options.send_timeout.count()));
  socket_.set(zmq::sockopt::linger, static_cast<int>(options.linger.count()));
  socket_.set(zmq::sockopt::sndhwm, options.sndhwm);
  if (!options.curve_server_key.empty()) {
    socket_.set(zmq::sockopt::curve_serverkey, options.curve_server_key);
    socket_.set(zmq::sockopt::curve_publickey, options.curve_public_key);
    socket_.set(zmq::sockopt::curve_secretkey, options.curve_secret_key);
  }
  socket_.connect(endpoint);
}

bool MessageSender::send(std::string_view header, std::string_view payload) {
  // ZeroMQ delivers a multipart message whole or not at all: once the first frame is taken,
  // the second cannot fail for lack of room.
  if (!socket_.send(zmq::buffer(header), zmq::send_flags::sndmore)) return false;
  return socket_.send(zmq::buffer(payload), zmq::send_flags::none).has_value();
}

bool MessageSender::send(std::string_view header) {
  return socket_.send(zmq::buffer(header), zmq::send_flags::none).has_value();
}

bool decode_decision(std::string_view bytes, Decision& out) {
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(bytes.data(), bytes.size());
  } catch (const std::exception& e) {
    out.error = std::string("decision frame is not msgpack: ") + e.what();
    return false;
  }
  const msgpack::object& root = handle.get();
  if (root.type != msgpack::type::MAP) {
    out.error = "decision frame is not a msgpack map";
    return false;
  }
  bool has_verdict = false;
  bool has_reason = false;
  for (const auto& kv : std::span(root.via.map.ptr, root.via.map.size)) {
    const auto value = str(kv.val);
    if (!value) continue;
    if (key_is(kv, "id")) {
      out.id = *value;
    } else if (key_is(kv, "verdict")) {
      out.verdict = *value;
      has_verdict = true;
    } else if (key_is(kv, "reason")) {
      out.reason = *value;
      has_reason = true;
    } else if (key_is(kv, "channel")) {
      out.channel = *value;
    } else if (key_is(kv, "detail")) {
      out.detail = *value;
    }
  }
  if (!has_verdict || !has_reason) {
    out.error = "decision map lacks a string verdict or reason";
    return false;
  }
  return true;
}

DecisionReader::DecisionReader(zmq::context_t& context, const std::string& endpoint)
    : socket_(context, zmq::socket_type::pull) {
  // Nothing this reader queued is worth keeping once it closes.
  socket_.set(zmq::sockopt::linger, 0);
  socket_.connect(endpoint);
}

std::optional<Decision> DecisionReader::receive(std::chrono::milliseconds timeout) {
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, timeout);
  if (!(item.revents & ZMQ_POLLIN)) return std::nullopt;
  std::vector<std::string> frames;
  zmq::message_t frame;
  do {
    (void)socket_.recv(frame, zmq::recv_flags::none);
    frames.emplace_back(static_cast<const char*>(frame.data()), frame.size());
  } while (frame.more());
  Decision decision;
  decode_decision(frames.front(), decision);
  frames.erase(frames.begin());
  decision.frames = std::move(frames);
  return decision;
}

std::string unsubscribe_links_body(const std::vector<LinkRequest>& links) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& l : links) {
    nlohmann::json user = nlohmann::json::object();
    if (!l.user_id.empty()) user["id"] = l.user_id;
    if (!l.email.empty()) user["email"] = l.email;
    if (!l.bu.empty()) user["bu"] = l.bu;
    nlohmann::json item = {{"user", std::move(user)}};
    if (!l.channel.empty()) item["channel"] = l.channel;
    if (!l.topic.empty()) item["topic"] = l.topic;
    if (l.all) item["all"] = true;
    items.push_back(std::move(item));
  }
  return nlohmann::json{{"links", std::move(items)}}.dump();
}

std::vector<IssuedLink> parse_unsubscribe_links(std::string_view answer) {
  const auto body = nlohmann::json::parse(answer, nullptr, false);
  if (!body.is_object() || !body.contains("links") || !body["links"].is_array()) {
    throw std::runtime_error("the answer holds no \"links\" list");
  }
  std::vector<IssuedLink> out;
  for (const auto& item : body["links"]) {
    IssuedLink l;
    if (!item.is_object()) throw std::runtime_error("a link item is not an object");
    l.url = item.value("url", "");
    l.list_unsubscribe = item.value("List-Unsubscribe", "");
    l.list_unsubscribe_post = item.value("List-Unsubscribe-Post", "");
    l.error = item.value("error", "");
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace gk::client

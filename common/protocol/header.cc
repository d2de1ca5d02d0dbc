#include "common/protocol/header.h"

#include <span>

namespace gk {

namespace {

// Strings are referenced in place instead of copied into the zone.
bool reference_strings(msgpack::type::object_type type, std::size_t, void*) {
  return type == msgpack::type::STR || type == msgpack::type::BIN;
}

bool key_is(const msgpack::object_kv& kv, std::string_view name) {
  return kv.key.type == msgpack::type::STR &&
         std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == name;
}

std::string_view view(const msgpack::object& o) {
  return {o.via.str.ptr, o.via.str.size};
}

bool is_str(const msgpack::object& o) {
  return o.type == msgpack::type::STR;
}
bool is_nil(const msgpack::object& o) {
  return o.type == msgpack::type::NIL;
}

HeaderStatus decode_user(const msgpack::object& user, MessageHeader& out) {
  if (user.type != msgpack::type::MAP) return HeaderStatus::kBadUser;
  for (const auto& kv : std::span(user.via.map.ptr, user.via.map.size)) {
    if (key_is(kv, "id")) {
      if (is_nil(kv.val)) continue;
      if (!is_str(kv.val)) return HeaderStatus::kBadUser;
      out.user_id = view(kv.val);
    } else if (key_is(kv, "email")) {
      if (is_nil(kv.val)) continue;
      if (!is_str(kv.val)) return HeaderStatus::kBadUser;
      out.email = view(kv.val);
    } else if (key_is(kv, "bu")) {
      if (is_nil(kv.val)) continue;
      if (!is_str(kv.val)) return HeaderStatus::kBadUser;
      out.bu = view(kv.val);
    }
  }
  if (out.user_id.empty() && out.email.empty()) return HeaderStatus::kNoIdentity;
  return HeaderStatus::kOk;
}

HeaderStatus decode_campaign(const msgpack::object& campaign, MessageHeader& out) {
  if (is_nil(campaign)) return HeaderStatus::kOk;
  if (campaign.type != msgpack::type::MAP) return HeaderStatus::kBadCampaign;
  for (const auto& kv : std::span(campaign.via.map.ptr, campaign.via.map.size)) {
    if (key_is(kv, "type")) {
      // Anything but "realtime" is treated as batch: the exemption is never granted by doubt.
      out.realtime = is_str(kv.val) && view(kv.val) == "realtime";
    } else if (key_is(kv, "topic")) {
      // No topic = no topic rule; any other non-string is an empty (unknown) topic.
      if (is_nil(kv.val)) continue;
      out.has_topic = true;
      if (is_str(kv.val)) out.topic = view(kv.val);
    } else if (key_is(kv, "transactional")) {
      out.transactional = kv.val.type == msgpack::type::BOOLEAN && kv.val.via.boolean;
    }
  }
  return HeaderStatus::kOk;
}

}  // namespace

std::string_view describe(HeaderStatus status) noexcept {
  switch (status) {
    case HeaderStatus::kOk:
      return "ok";
    case HeaderStatus::kTooLarge:
      return "header frame exceeds ingress.max_header_bytes";
    case HeaderStatus::kNotMsgpack:
      return "header frame is not valid msgpack";
    case HeaderStatus::kNotMap:
      return "header is not a msgpack map";
    case HeaderStatus::kMissingId:
      return "header has no `id`";
    case HeaderStatus::kBadId:
      return "header `id` is not a string";
    case HeaderStatus::kMissingChannel:
      return "header has no `channel`";
    case HeaderStatus::kBadChannel:
      return "header `channel` is not a non-empty string";
    case HeaderStatus::kMissingUser:
      return "header has no `user`";
    case HeaderStatus::kBadUser:
      return "header `user` is not a map of strings";
    case HeaderStatus::kNoIdentity:
      return "header `user` has neither `id` nor `email`";
    case HeaderStatus::kBadTo:
      return "header `to` is not a string";
    case HeaderStatus::kBadCampaign:
      return "header `campaign` is not a map";
  }
  return "unknown header error";
}

HeaderStatus HeaderDecoder::decode(const void* data, std::size_t size,
                                   MessageHeader& out) noexcept {
  out = MessageHeader{};
  if (size > max_bytes_) return HeaderStatus::kTooLarge;
  zone_.clear();
  msgpack::object root;
  try {
    std::size_t offset = 0;
    // Limits bound the work a hostile frame can cause, beyond the byte size itself.
    const msgpack::unpack_limit limit(/*array=*/1024, /*map=*/1024, /*str=*/size, /*bin=*/size,
                                      /*ext=*/size, /*depth=*/16);
    root = msgpack::unpack(zone_, static_cast<const char*>(data), size, offset, reference_strings,
                           nullptr, limit);
    if (offset != size) return HeaderStatus::kNotMsgpack;
  } catch (const std::exception&) {
    // msgpack-c reports malformed input only by exception; it stops here.
    return HeaderStatus::kNotMsgpack;
  }
  if (root.type != msgpack::type::MAP) return HeaderStatus::kNotMap;

  const msgpack::object* id = nullptr;
  const msgpack::object* channel = nullptr;
  const msgpack::object* user = nullptr;
  const msgpack::object* campaign = nullptr;
  const msgpack::object* to = nullptr;
  for (const auto& kv : std::span(root.via.map.ptr, root.via.map.size)) {
    if (key_is(kv, "id"))
      id = &kv.val;
    else if (key_is(kv, "channel"))
      channel = &kv.val;
    else if (key_is(kv, "user"))
      user = &kv.val;
    else if (key_is(kv, "campaign"))
      campaign = &kv.val;
    else if (key_is(kv, "to"))
      to = &kv.val;
  }

  if (id == nullptr) return HeaderStatus::kMissingId;
  if (!is_str(*id)) return HeaderStatus::kBadId;
  out.id = view(*id);
  if (channel == nullptr) return HeaderStatus::kMissingChannel;
  if (!is_str(*channel) || channel->via.str.size == 0) return HeaderStatus::kBadChannel;
  out.channel = view(*channel);
  if (user == nullptr) return HeaderStatus::kMissingUser;
  if (auto s = decode_user(*user, out); s != HeaderStatus::kOk) return s;
  if (to != nullptr && !is_nil(*to)) {
    if (!is_str(*to)) return HeaderStatus::kBadTo;
    out.to = view(*to);
  }
  if (campaign != nullptr) return decode_campaign(*campaign, out);
  return HeaderStatus::kOk;
}

}  // namespace gk

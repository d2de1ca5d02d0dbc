#include "common/protocol/header.h"

#include <algorithm>
#include <span>

#include "common/rules/identity.h"

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

// Remembers where `kv`'s value is; false if the key was seen before in this map.
bool take(const msgpack::object_kv& kv, const msgpack::object*& slot) {
  if (slot != nullptr) return false;
  slot = &kv.val;
  return true;
}

// A string value, or nil for "not given"; false for any other type.
bool optional_str(const msgpack::object* o, std::string_view& out) {
  if (o == nullptr || is_nil(*o)) return true;
  if (!is_str(*o)) return false;
  out = view(*o);
  return true;
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
    case HeaderStatus::kDuplicateKey:
      return "header has a key twice";
    case HeaderStatus::kBadIdentity:
      return "header `user` breaks the identity rules";
  }
  return "unknown header error";
}

HeaderStatus HeaderDecoder::fail(HeaderStatus status,
                                 std::initializer_list<std::string_view> parts) noexcept {
  detail_size_ = 0;
  for (std::string_view part : parts) {
    const std::size_t n = std::min(part.size(), detail_.size() - detail_size_);
    std::copy_n(part.data(), n, detail_.data() + detail_size_);
    detail_size_ += n;
  }
  return status;
}

std::string_view HeaderDecoder::detail(HeaderStatus status) const noexcept {
  if (status == HeaderStatus::kDuplicateKey || status == HeaderStatus::kBadIdentity) {
    return {detail_.data(), detail_size_};
  }
  return describe(status);
}

HeaderStatus HeaderDecoder::decode_user(const msgpack::object& user, MessageHeader& out) noexcept {
  if (user.type != msgpack::type::MAP) return HeaderStatus::kBadUser;
  const msgpack::object* id = nullptr;
  const msgpack::object* email = nullptr;
  const msgpack::object* bu = nullptr;
  for (const auto& kv : std::span(user.via.map.ptr, user.via.map.size)) {
    const char* twice = nullptr;
    if (key_is(kv, "id")) {
      if (!take(kv, id)) twice = "id";
    } else if (key_is(kv, "email")) {
      if (!take(kv, email)) twice = "email";
    } else if (key_is(kv, "bu")) {
      if (!take(kv, bu)) twice = "bu";
    }
    if (twice != nullptr) {
      return fail(HeaderStatus::kDuplicateKey, {"header `user` has two `", twice, "` keys"});
    }
  }
  if (!optional_str(id, out.user_id) || !optional_str(email, out.email) ||
      !optional_str(bu, out.bu)) {
    return HeaderStatus::kBadUser;
  }
  // An empty string counts as absent, as it always has; whitespace alone is a broken email.
  const bool email_given = !out.email.empty();
  out.email = trim_email(out.email);
  if (out.user_id.empty() && !email_given) return HeaderStatus::kNoIdentity;
  if (auto p = business_unit_problem(out.bu); !p.empty()) {
    return fail(HeaderStatus::kBadIdentity, {"header `user.bu` ", p});
  }
  if (!out.user_id.empty()) {
    if (auto p = external_id_problem(out.user_id); !p.empty()) {
      return fail(HeaderStatus::kBadIdentity, {"header `user.id` ", p});
    }
  }
  if (email_given) {
    if (auto p = email_problem(out.email); !p.empty()) {
      return fail(HeaderStatus::kBadIdentity, {"header `user.email` ", p});
    }
  }
  return HeaderStatus::kOk;
}

HeaderStatus HeaderDecoder::decode_campaign(const msgpack::object& campaign,
                                            MessageHeader& out) noexcept {
  if (is_nil(campaign)) return HeaderStatus::kOk;
  if (campaign.type != msgpack::type::MAP) return HeaderStatus::kBadCampaign;
  const msgpack::object* type = nullptr;
  const msgpack::object* transactional = nullptr;
  const msgpack::object* id = nullptr;
  const msgpack::object* topic = nullptr;
  for (const auto& kv : std::span(campaign.via.map.ptr, campaign.via.map.size)) {
    const char* twice = nullptr;
    if (key_is(kv, "type")) {
      if (!take(kv, type)) twice = "type";
    } else if (key_is(kv, "transactional")) {
      if (!take(kv, transactional)) twice = "transactional";
    } else if (key_is(kv, "id")) {
      // Not read here, but adapters and reports do, so they must agree on which one.
      if (!take(kv, id)) twice = "id";
    } else if (key_is(kv, "topic")) {
      if (!take(kv, topic)) twice = "topic";
    }
    if (twice != nullptr) {
      return fail(HeaderStatus::kDuplicateKey, {"header `campaign` has two `", twice, "` keys"});
    }
  }
  // Anything but "realtime" is treated as batch: the exemption is never granted by doubt.
  out.realtime = type != nullptr && is_str(*type) && view(*type) == "realtime";
  out.transactional = transactional != nullptr && transactional->type == msgpack::type::BOOLEAN &&
                      transactional->via.boolean;
  // No topic = no topic rule; any other non-string is an empty (unknown) topic.
  if (topic != nullptr && !is_nil(*topic)) {
    out.has_topic = true;
    if (is_str(*topic)) out.topic = view(*topic);
  }
  return HeaderStatus::kOk;
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
  const char* twice = nullptr;
  bool id_twice = false;
  for (const auto& kv : std::span(root.via.map.ptr, root.via.map.size)) {
    bool fresh = true;
    const char* name = nullptr;
    if (key_is(kv, "id")) {
      fresh = take(kv, id), name = "id";
    } else if (key_is(kv, "channel")) {
      fresh = take(kv, channel), name = "channel";
    } else if (key_is(kv, "user")) {
      fresh = take(kv, user), name = "user";
    } else if (key_is(kv, "campaign")) {
      fresh = take(kv, campaign), name = "campaign";
    } else if (key_is(kv, "to")) {
      fresh = take(kv, to), name = "to";
    }
    if (!fresh && std::string_view(name) == "id") {
      id_twice = true;
    } else if (!fresh && twice == nullptr) {
      twice = name;
    }
  }
  // The decision carries the id unless the id itself is the one in doubt.
  if (id_twice) return fail(HeaderStatus::kDuplicateKey, {"header has two `id` keys"});
  if (id == nullptr) return HeaderStatus::kMissingId;
  if (!is_str(*id)) return HeaderStatus::kBadId;
  out.id = view(*id);
  if (twice != nullptr) {
    return fail(HeaderStatus::kDuplicateKey, {"header has two `", twice, "` keys"});
  }
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

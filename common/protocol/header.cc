#include "common/protocol/header.h"

#include <algorithm>

#include "common/rules/identity.h"

namespace gk {

namespace {

using header_scan::Value;

// A string value, or nil for "not given"; false for any other type.
bool optional_str(const Value& v, std::string_view& out) {
  if (v.absent() || v.nil()) return true;
  if (!v.is_str()) return false;
  out = v.str;
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

HeaderStatus HeaderDecoder::decode_user(const header_scan::Scan& scan,
                                        MessageHeader& out) noexcept {
  using namespace header_scan;
  if (scan.top.values[kUser].kind != Value::Kind::kMap) return HeaderStatus::kBadUser;
  if (scan.user.duplicate != nullptr) {
    return fail(HeaderStatus::kDuplicateKey,
                {"header `user` has two `", scan.user.duplicate, "` keys"});
  }
  if (!optional_str(scan.user.values[kUserId], out.user_id) ||
      !optional_str(scan.user.values[kUserEmail], out.email) ||
      !optional_str(scan.user.values[kUserBu], out.bu)) {
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

HeaderStatus HeaderDecoder::decode_campaign(const header_scan::Scan& scan,
                                            MessageHeader& out) noexcept {
  using namespace header_scan;
  const Value& campaign = scan.top.values[kCampaign];
  if (campaign.nil()) return HeaderStatus::kOk;
  if (campaign.kind != Value::Kind::kMap) return HeaderStatus::kBadCampaign;
  // `id` is not read here, but adapters and reports do, so they must agree on which one.
  if (scan.campaign.duplicate != nullptr) {
    return fail(HeaderStatus::kDuplicateKey,
                {"header `campaign` has two `", scan.campaign.duplicate, "` keys"});
  }
  const Value& type = scan.campaign.values[kCampaignType];
  const Value& transactional = scan.campaign.values[kCampaignTransactional];
  const Value& topic = scan.campaign.values[kCampaignTopic];
  // Anything but "realtime" is treated as batch: the exemption is never granted by doubt.
  out.realtime = type.is_str() && type.str == "realtime";
  out.transactional = transactional.kind == Value::Kind::kBool && transactional.boolean;
  // No topic = no topic rule; any other non-string is an empty (unknown) topic.
  if (!topic.absent() && !topic.nil()) {
    out.has_topic = true;
    if (topic.is_str()) out.topic = topic.str;
  }
  return HeaderStatus::kOk;
}

HeaderStatus HeaderDecoder::decode(const void* data, std::size_t size,
                                   MessageHeader& out) noexcept {
  using namespace header_scan;
  out = MessageHeader{};
  if (size > max_bytes_) return HeaderStatus::kTooLarge;
  if (!scanner_.scan(static_cast<const char*>(data), size, scan_)) {
    return HeaderStatus::kNotMsgpack;
  }
  if (scan_.root != Value::Kind::kMap) return HeaderStatus::kNotMap;
  const auto& top = scan_.top.values;
  // The decision carries the id unless the id itself is the one in doubt.
  if (scan_.top.id_twice) return fail(HeaderStatus::kDuplicateKey, {"header has two `id` keys"});
  if (top[kId].absent()) return HeaderStatus::kMissingId;
  if (!top[kId].is_str()) return HeaderStatus::kBadId;
  out.id = top[kId].str;
  if (scan_.top.duplicate != nullptr) {
    return fail(HeaderStatus::kDuplicateKey, {"header has two `", scan_.top.duplicate, "` keys"});
  }
  if (top[kChannel].absent()) return HeaderStatus::kMissingChannel;
  if (!top[kChannel].is_str() || top[kChannel].str.empty()) return HeaderStatus::kBadChannel;
  out.channel = top[kChannel].str;
  if (top[kUser].absent()) return HeaderStatus::kMissingUser;
  if (auto s = decode_user(scan_, out); s != HeaderStatus::kOk) return s;
  if (!top[kTo].absent() && !top[kTo].nil()) {
    if (!top[kTo].is_str()) return HeaderStatus::kBadTo;
    out.to = top[kTo].str;
  }
  if (!top[kCampaign].absent()) return decode_campaign(scan_, out);
  return HeaderStatus::kOk;
}

}  // namespace gk

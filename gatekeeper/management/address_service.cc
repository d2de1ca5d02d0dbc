#include "gatekeeper/management/address_service.h"

#include "common/protocol/system_event.h"
#include "common/store/erasure_hash.h"
#include "common/store/status_script.h"

namespace gk {

AddressService::AddressService(const Config& config, const ChannelRegistry& channels,
                               StatusService& status, SharedRouter& store)
    : config_(config), channels_(channels), status_(status), store_(store), keys_(config.redis) {}

std::optional<std::string> AddressService::channel(std::string_view name) const {
  if (const auto index = channels_.find_type(name)) return channels_.name(*index);
  return std::nullopt;
}

Result<AppliedAddressChange> AddressService::apply(const AddressChange& change) {
  AppliedAddressChange applied;
  const auto canonical = channel(change.channel);
  if (!canonical) return fail("unknown channel '" + change.channel + "'");
  applied.channel = *canonical;
  if (!normalize_address(applied.channel, change.address, applied.address)) {
    return fail(address_problem(applied.channel, change.address));
  }
  AddressWrite w;
  keys_.address(w.key, applied.channel, applied.address);
  w.mode = change.mode;
  w.suppressed = change.suppressed;
  w.reason = change.reason;
  // A time past now + changes.max_future_ms would win against every later change: the time
  // of receipt instead, as for a person's status.
  bool clamped = false;
  const EpochMs now = now_ms();
  w.ts = clamp_change_time(change.ts, now, now, config_.changes.max_future_ms, clamped);
  w.soft_bounce_limit = config_.suppression.soft_bounce_limit;
  w.soft_bounce_window_ms =
      static_cast<EpochMs>(config_.suppression.soft_bounce_window_days) * 24 * 60 * 60 * 1000;
  // An erased address (PROTOCOL.md 13) is not written back: its tombstone suppresses it
  // already, and no address of an erased person may remain in the store.
  std::string tombstone;
  if (config_.erasure.enabled()) {
    keys_.tombstone(tombstone,
                    tombstone_of_address(config_.erasure.salt, applied.channel, applied.address));
  }
  auto result = store_.run([&](RedisRouter& redis) -> Result<AddressWriteResult> {
    applied.erased = false;
    if (!tombstone.empty()) {
      auto r = redis.command(tombstone, {"EXISTS", tombstone});
      if (!r || r->type != REDIS_REPLY_INTEGER) {
        return fail(r ? "EXISTS: " + describe_reply(r.get()) : redis.error());
      }
      applied.erased = r->integer > 0;
      if (applied.erased) return AddressWriteResult{};
    }
    return run_address_script(redis, w);
  });
  if (!result) return fail("status store unavailable: " + result.error());
  applied.write = *result;
  if (applied.write.changed && change.publish) {
    SystemEvent e;
    e.event =
        std::string(applied.write.suppressed ? kAddressSuppressedEvent : kAddressUnsuppressedEvent);
    e.channel = applied.channel;
    e.address = applied.address;
    e.reason = applied.write.reason;
    e.timestamp = applied.write.ts;
    e.source = change.source;
    e.changed = true;
    e.properties = change.properties.is_object() ? change.properties : nlohmann::json::object();
    status_.publish(e);
  }
  return applied;
}

Result<AddressState> AddressService::read(std::string_view channel, std::string_view address) {
  std::string key;
  keys_.address(key, channel, address);
  return store_.run([&](RedisRouter& redis) { return read_address(redis, key); });
}

std::optional<AddressChange> AddressService::change_of(const Event& event, const Identity& who,
                                                       EpochMs ts) const {
  AddressChange c;
  const bool sms = event.kind == EventKind::kSmsInbound;
  c.channel = channel(sms ? "SMS" : "MAIL").value_or(sms ? "SMS" : "MAIL");
  c.address = event_address(event, who);
  c.ts = ts;
  c.source = std::string(event_source(event));
  c.properties = event.properties;
  std::string normalized;
  if (!normalize_address(c.channel, c.address, normalized)) return std::nullopt;
  switch (event.kind) {
    case EventKind::kMailBounce:
      c.reason = AddressReason::kBounce;
      if (event.properties.value("type", std::string()) == "soft") {
        c.mode = AddressWrite::Mode::kSoftBounce;
      }
      return c;
    case EventKind::kMailComplaint:
      c.reason = AddressReason::kComplaint;
      return c;
    case EventKind::kSmsInbound:
      switch (match_sms_keyword(event.properties.value("body", std::string()),
                                config_.sms_keywords.opt_out, config_.sms_keywords.opt_in)) {
        case SmsKeyword::kOptOut:
          c.reason = AddressReason::kSmsStop;
          return c;
        case SmsKeyword::kOptIn:
          c.mode = AddressWrite::Mode::kLiftSmsStop;
          c.suppressed = false;
          c.reason = AddressReason::kSmsStop;
          return c;
        case SmsKeyword::kNone:
          break;
      }
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

}  // namespace gk

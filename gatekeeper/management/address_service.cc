#include "gatekeeper/management/address_service.h"

#include "common/store/keys.h"

namespace gk {

AddressService::AddressService(const Config& config, const ChannelRegistry& channels,
                               StatusService& status, StoreLink& store)
    : config_(config), channels_(channels), status_(status), store_(store) {}

std::optional<std::string> AddressService::channel(std::string_view name) const {
  if (const auto index = channels_.find_type(name)) return channels_.name(*index);
  return std::nullopt;
}

std::optional<AddressWriteResult> AddressService::change(const std::string& channel,
                                                         const std::string& address, AddressWrite w,
                                                         std::string_view source,
                                                         const nlohmann::json& properties,
                                                         std::string& error) {
  w.key = address_key(config_.redis.key_prefix, channel, address);
  auto result = store_.run(error, [&](RedisRouter& redis, std::string& err) {
    return run_address_script(redis, w, err);
  });
  if (result && result->changed) {
    SystemEvent e;
    e.event = std::string(result->suppressed ? kAddressSuppressedEvent : kAddressUnsuppressedEvent);
    e.channel = channel;
    e.address = address;
    e.reason = result->reason;
    e.timestamp = result->ts;
    e.source = std::string(source);
    e.changed = true;
    e.properties = properties.is_object() ? properties : nlohmann::json::object();
    status_.publish(e);
  }
  return result;
}

std::optional<AddressState> AddressService::read(const std::string& channel,
                                                 const std::string& address, std::string& error) {
  const std::string key = address_key(config_.redis.key_prefix, channel, address);
  return store_.run(
      error, [&](RedisRouter& redis, std::string& err) { return read_address(redis, key, err); });
}

std::optional<bool> AddressService::apply_event(const Event& event, const Identity& who, EpochMs ts,
                                                std::string& error) {
  const bool sms = event.kind == EventKind::kSmsInbound;
  const std::string channel_name =
      this->channel(sms ? "SMS" : "MAIL").value_or(sms ? "SMS" : "MAIL");
  std::string address;
  if (!normalize_address(channel_name, event_address(event, who), address)) {
    return false;  // not an address we could ever match; accepted, nothing changes
  }
  AddressWrite w;
  w.ts = ts;
  switch (event.kind) {
    case EventKind::kMailBounce: {
      w.reason = AddressReason::kBounce;
      const auto type = event.properties.find("type");
      if (type != event.properties.end() && *type == "soft") {
        w.mode = AddressWrite::Mode::kSoftBounce;
        w.soft_bounce_limit = config_.suppression.soft_bounce_limit;
        w.soft_bounce_window_ms =
            static_cast<EpochMs>(config_.suppression.soft_bounce_window_days) * 86400000;
      }
      break;
    }
    case EventKind::kMailComplaint:
      w.reason = AddressReason::kComplaint;
      break;
    case EventKind::kSmsInbound: {
      const auto body = event.properties.value("body", std::string());
      switch (match_sms_keyword(body, config_.sms_keywords.opt_out, config_.sms_keywords.opt_in)) {
        case SmsKeyword::kOptOut:
          w.reason = AddressReason::kSmsStop;
          break;
        case SmsKeyword::kOptIn:
          w.mode = AddressWrite::Mode::kLiftSmsStop;
          w.suppressed = false;
          w.reason = AddressReason::kSmsStop;
          break;
        case SmsKeyword::kNone:
          return false;
      }
      break;
    }
    default:
      return false;
  }
  auto result = change(channel_name, address, w, event_source(event), event.properties, error);
  if (!result) return std::nullopt;
  return result->changed;
}

}  // namespace gk

#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/config/config.h"
#include "common/protocol/events.h"
#include "common/rules/channels.h"
#include "common/store/address_script.h"
#include "gatekeeper/management/status_service.h"
#include "gatekeeper/management/store_link.h"

namespace gk {

// Address suppressions (PROTOCOL.md 11): the writes behind the address events and
// /addresses, each followed by `Address Suppressed` / `Address Unsuppressed` when it changed
// something. Thread-safe.
class AddressService {
 public:
  AddressService(const Config& config, const ChannelRegistry& channels, StatusService& status,
                 StoreLink& store);

  // The canonical channel name of `name` (aliases, any case); nullopt when not configured.
  std::optional<std::string> channel(std::string_view name) const;

  // Applies one change to `address` (stored form) on `channel`; publishes the system event
  // when it changed. nullopt and `error` when the store failed.
  std::optional<AddressWriteResult> change(const std::string& channel, const std::string& address,
                                           AddressWrite w, std::string_view source,
                                           const nlohmann::json& properties, std::string& error);
  std::optional<AddressState> read(const std::string& channel, const std::string& address,
                                   std::string& error);

  // An accepted address event (mail.bounce, mail.complaint, sms.inbound): whether it changed
  // a suppression; nullopt when the store failed.
  std::optional<bool> apply_event(const Event& event, const Identity& who, EpochMs ts,
                                  std::string& error);

 private:
  const Config& config_;
  const ChannelRegistry& channels_;
  StatusService& status_;
  StoreLink& store_;
};

}  // namespace gk

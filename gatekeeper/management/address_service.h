#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/config/config.h"
#include "common/protocol/events.h"
#include "common/rules/channels.h"
#include "common/store/address_script.h"
#include "common/store/key_schema.h"
#include "gatekeeper/management/shared_router.h"
#include "gatekeeper/management/status_service.h"

namespace gk {

// One change of an address suppression, whichever door it came through (the API, an ESP or
// SMS event, a bulk import).
struct AddressChange {
  std::string channel;  // a channel name or alias; resolved to the canonical name
  std::string address;  // as received; normalised (common/rules/address.h)
  AddressWrite::Mode mode = AddressWrite::Mode::kSet;
  bool suppressed = true;
  AddressReason reason = AddressReason::kManual;
  EpochMs ts = 0;      // last writer wins by this
  std::string source;  // the system event's `source`: "api", "esp", "import", ...
  nlohmann::json properties = nlohmann::json::object();
  bool publish = true;  // false: write only (a dry run never gets here; a bulk load may)
};

// What apply did, with the canonical channel and the address as stored (or refused as
// erased).
struct AppliedAddressChange {
  AddressWriteResult write;
  std::string channel;
  std::string address;
  bool erased = false;  // the address is erased: nothing written, nothing published
};

// Address suppressions (PROTOCOL.md 11): the one place that writes them (the script of
// common/store/address_script.h: last writer wins, soft-bounce counting, an opt-in keyword
// lifting only an sms_stop) and publishes `Address Suppressed` / `Address Unsuppressed`
// when the stored suppression changed. Thread-safe.
class AddressService {
 public:
  AddressService(const Config& config, const ChannelRegistry& channels, StatusService& status,
                 SharedRouter& store);

  // The canonical name of a channel or alias (configured or a platform type).
  std::optional<std::string> channel(std::string_view name) const;

  // An error naming the problem for a bad channel or address (nothing written), or when the
  // store failed.
  Result<AppliedAddressChange> apply(const AddressChange& change);
  Result<AddressState> read(std::string_view channel, std::string_view address);

  // An accepted address event (mail.bounce, mail.complaint, sms.inbound): the change it
  // means, if any (an SMS body that is no keyword, an address that cannot be one: none).
  std::optional<AddressChange> change_of(const Event& event, const Identity& who, EpochMs ts) const;

 private:
  const Config& config_;
  const ChannelRegistry& channels_;
  StatusService& status_;
  SharedRouter& store_;
  const KeySchema keys_;
};

}  // namespace gk

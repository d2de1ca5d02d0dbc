#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"
#include "common/store/erasure_hash.h"
#include "common/store/key_schema.h"
#include "common/util/result.h"
#include "gatekeeper/management/shared_router.h"

namespace gk {

// Erasure (PROTOCOL.md 13): removes every trace of a person from the store and leaves
// tombstones named by salted hashes (common/store/erasure_hash.h) of their identifiers: the
// user (business unit, external id) and each known address (their emails on MAIL, phones on
// SMS). The message loop suppresses a message naming any of them (`erased`, through the
// AddressBook); the API answers 404 for their status; an explicit Opt In lifts them
// (StatusService::apply calls lift()). Thread-safe. Disabled (every call an error, reads
// false) without `erasure.salt`.
class ErasureService {
 public:
  ErasureService(const Config& config, SharedRouter& store);

  bool enabled() const noexcept { return !salt_.empty(); }

  struct Erased {
    std::size_t keys_deleted = 0;
    std::size_t stream_entries_deleted = 0;
    std::size_t history_entries_deleted = 0;  // in a linked user's history (lead erasure)
    std::size_t tombstones = 0;
  };
  // `emails` and `phones`: further addresses of the person, beyond the emails linked to
  // the user in the store (which are found and erased too).
  Result<Erased> erase_user(const std::string& bu, const std::string& external_id,
                            const std::vector<std::string>& emails,
                            const std::vector<std::string>& phones);
  Result<Erased> erase_lead(const std::string& bu, const std::string& email,
                            const std::vector<std::string>& phones);

  Result<bool> user_erased(std::string_view bu, std::string_view external_id);
  Result<bool> email_erased(std::string_view email);
  // Lifts the tombstones of the user and of the email a change names (an explicit Opt In);
  // true when one existed. Nothing to do (false) when disabled.
  Result<bool> lift(std::string_view bu, std::string_view external_id, std::string_view email);
  // The tombstone keys a change naming the user and / or the email would meet (none when
  // disabled): StatusService reads them on its own pooled links, so that checking every
  // change does not queue behind this service's one link.
  std::vector<std::string> tombstone_keys(std::string_view bu, std::string_view external_id,
                                          std::string_view email) const;

 private:
  Result<Erased> erase(const std::string& bu, const std::string& external_id,
                       std::vector<std::string> emails, const std::vector<std::string>& phones);
  Result<bool> exists(const std::string& key);
  std::string user_tombstone(std::string_view bu, std::string_view external_id) const;
  std::string address_tombstone(std::string_view channel, std::string_view address) const;

  const std::string salt_;  // hashers are made per call: TombstoneHasher reuses a buffer
  const KeySchema keys_;
  SharedRouter& store_;
};

}  // namespace gk

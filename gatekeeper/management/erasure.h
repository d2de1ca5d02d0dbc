#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/protocol/events.h"
#include "gatekeeper/management/store_link.h"

namespace gk {

// Erasure (PROTOCOL.md 13): removes every trace of a person from the store and leaves
// tombstones keyed by salted hashes (common/store/erasure_hash.h) of their identifiers:
// the user (bu, external id), and each known address (their e-mails on MAIL, phones on SMS).
// An explicit Opt In for the identifier lifts its tombstones. Thread-safe.
class ErasureService {
 public:
  ErasureService(const Config& config, StoreLink& store);

  bool enabled() const noexcept { return !salt_.empty(); }

  struct Result {
    std::size_t keys_deleted = 0;
    std::size_t stream_entries_deleted = 0;
    std::size_t tombstones = 0;
  };
  // `emails` and `phones`: further addresses of the person (linked e-mails are found).
  std::optional<Result> erase_user(const std::string& bu, const std::string& external_id,
                                   std::vector<std::string> emails,
                                   const std::vector<std::string>& phones, std::string& error);
  std::optional<Result> erase_lead(const std::string& bu, const std::string& email,
                                   const std::vector<std::string>& phones, std::string& error);

  std::optional<bool> user_erased(const std::string& bu, const std::string& external_id,
                                  std::string& error);
  std::optional<bool> email_erased(const std::string& email, std::string& error);
  // Lifts the tombstones of the user and of the e-mail `who` names; true when one existed.
  std::optional<bool> lift(const Identity& who, std::string& error);

 private:
  std::optional<Result> erase(const std::string& bu, const std::string& external_id,
                              std::vector<std::string> emails, std::vector<std::string> phones,
                              std::string& error);

  const Config& config_;
  const std::string salt_;
  StoreLink& store_;
};

}  // namespace gk

#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"
#include "common/rules/channels.h"
#include "common/util/csv.h"
#include "gatekeeper/management/status_service.h"
#include "gatekeeper/management/store_link.h"

namespace gk {

// Bulk import and export (PROTOCOL.md 12) in the CSV
// `kind,businessUnit,key,field,value,timestamp,reason`.
inline constexpr std::string_view kBulkHeader =
    "kind,businessUnit,key,field,value,timestamp,reason";

class BulkService {
 public:
  BulkService(const Config& config, const ChannelRegistry& channels, StatusService& status,
              StoreLink& store);

  struct RowError {
    std::size_t row = 0;  // 0-based index of the row in the request
    std::string error;
  };
  struct ImportResult {
    std::size_t rows = 0;
    std::size_t applied = 0;  // written (or, dry run, would be): not older than what is stored
    std::size_t changed = 0;  // applied and different from what was stored
    std::vector<RowError> errors;
  };
  // Applies CSV rows (no header), each last-writer-wins by its timestamp; `dry_run` reads
  // only. nullopt and `error` when the store failed (rows before it may have been applied;
  // re-importing is harmless).
  std::optional<ImportResult> import(std::string_view csv, bool dry_run, std::string& error);
  // Every stored status as CSV, header first.
  std::optional<std::string> export_csv(std::string& error);

 private:
  const Config& config_;
  const ChannelRegistry& channels_;
  StatusService& status_;
  StoreLink& store_;
};

}  // namespace gk

#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"
#include "common/rules/channels.h"
#include "common/util/result.h"
#include "gatekeeper/management/status_service.h"

namespace gk {

// Bulk import and export (PROTOCOL.md 12, docs/API.md): many statuses per call, each row
// with the result StatusService::apply would give it (source `import`), but with one script
// call for hundreds of rows instead of one per row.
class BulkService {
 public:
  BulkService(const Config& config, const ChannelRegistry& channels, StatusService& status)
      : config_(config), channels_(channels), status_(status) {}

  struct RowError {
    std::size_t line = 0;  // 1-based line of the body
    std::string error;
  };
  struct ImportResult {
    std::size_t rows = 0;     // lines that are rows (not blank, not the header)
    std::size_t applied = 0;  // written, or in a dry run would be: not older than the stored
    std::size_t changed = 0;  // applied and a different value than the stored one
    std::size_t clamped = 0;  // dated past now + changes.max_future_ms: stored as now
    std::vector<RowError> errors;
  };
  // Applies the CSV rows of `csv` (the header row is optional); `dry_run` compares and
  // writes nothing. An error when the store failed (rows before the failure may have been
  // applied; importing them again is harmless).
  Result<ImportResult> import(std::string_view csv, bool dry_run);

  struct ExportPage {
    std::string csv;     // rows, the header row first on the first page
    std::string cursor;  // where the next page starts; "" after the last page
  };
  // One page of every stored status: about `rows` rows from where `cursor` ("" or "0" to
  // start) left off, SCAN by SCAN over every primary. A status written during an export may
  // or may not be in it (SCAN's guarantee: what exists throughout is there exactly once
  // unless a hash grows from one to many fields while being scanned). An error for a bad
  // cursor (starts with "bad cursor") or when the store failed.
  Result<ExportPage> export_page(std::string_view cursor, std::size_t rows);

 private:
  const Config& config_;
  const ChannelRegistry& channels_;
  StatusService& status_;
};

}  // namespace gk

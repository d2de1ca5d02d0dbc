#include "gatekeeper/api/bulk_routes.h"

#include <charconv>

#include "common/protocol/system_event.h"
#include "gatekeeper/api/request_params.h"
#include "gatekeeper/http/http_server.h"

namespace gk {

namespace {

using nlohmann::json;

constexpr std::size_t kDefaultExportRows = 10000;
constexpr std::size_t kMaxExportRows = 100000;

// "true" / "false" (absent: false); nullopt for anything else.
std::optional<bool> bool_param(const httplib::Request& req, const std::string& key) {
  const auto v = query_param(req, key);
  if (!v || *v == "false") return false;
  if (*v == "true") return true;
  return std::nullopt;
}

}  // namespace

std::span<const RouteSpec<BulkRoutes>> BulkRoutes::routes() {
  static constexpr RouteSpec<BulkRoutes> kRoutes[] = {
      {{"POST", "/import", "/import"}, &BulkRoutes::post_import},
      {{"GET", "/export", "/export"}, &BulkRoutes::get_export},
  };
  return kRoutes;
}

void BulkRoutes::post_import(const httplib::Request& req, httplib::Response& res) {
  const auto dry = bool_param(req, "dryRun");
  if (!dry) return send_error(res, 400, "dryRun must be true or false");
  auto result = bulk_.import(req.body, *dry);
  if (!result) return send_error(res, 503, kStoreUnavailable);
  json errors = json::array();
  for (const auto& e : result->errors) errors.push_back({{"line", e.line}, {"error", e.error}});
  json body = {{"rows", result->rows},
               {"applied", result->applied},
               {"changed", result->changed},
               {"failed", result->errors.size()},
               {"timestampsClamped", result->clamped},
               {"dryRun", *dry},
               {"errors", std::move(errors)}};
  send_json(res, 200, body);
}

void BulkRoutes::get_export(const httplib::Request& req, httplib::Response& res) {
  std::size_t rows = kDefaultExportRows;
  if (const auto v = query_param(req, "rows")) {
    const auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), rows);
    if (ec != std::errc() || p != v->data() + v->size() || rows < 1 || rows > kMaxExportRows) {
      return send_error(res, 400, "rows must be a number from 1 to 100000");
    }
  }
  auto page = bulk_.export_page(query_param(req, "cursor").value_or(""), rows);
  if (!page) {
    const bool bad = page.error().starts_with("bad cursor");
    return send_error(res, bad ? 400 : 503, bad ? page.error() : kStoreUnavailable);
  }
  // The next page's start; absent after the last page.
  if (!page->cursor.empty()) res.set_header("X-Export-Cursor", page->cursor);
  res.status = 200;
  res.set_content(std::move(page->csv), "text/csv; charset=utf-8");
}

}  // namespace gk

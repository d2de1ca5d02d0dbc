// export and import: the bulk CSV of PROTOCOL.md section 12, through GET /export and
// POST /import (many rows per request, so a million rows take seconds, not hours).
#include <unistd.h>

#include <chrono>
#include <deque>
#include <fstream>
#include <future>
#include <iostream>

#include "common/protocol/system_event.h"
#include "common/util/csv.h"
#include "common/util/timestamp.h"
#include "gatekeeper/ctl/api_client.h"
#include "gatekeeper/ctl/commands.h"

namespace gk::ctl {

namespace {

using nlohmann::json;

constexpr std::string_view kHeader = "kind,businessUnit,key,field,value,timestamp,reason";
// Rows per request, and a byte cap under the server's default body limit (1 MiB).
constexpr std::size_t kMaxBatchBytes = 768 * 1024;
constexpr std::size_t kInFlight = 3;

ApiClient client(const ParsedArgs& args) {
  std::string t = token(args);
  if (t.empty()) throw UsageError("no API token: pass --token or set GATEKEEPER_TOKEN");
  return ApiClient(base_url(args), std::move(t),
                   std::chrono::milliseconds(args.integer("--timeout", 60000, 1, 3'600'000)));
}

int export_all(const ParsedArgs& args, std::ostream& out) {
  out << client(args).get_text("/export");
  out.flush();
  return 0;
}

// "--as address:MAIL:manual": every line of the file is one address of that channel.
struct OneColumn {
  std::string channel;
  std::string reason;
};

OneColumn parse_as(const std::string& as) {
  const std::size_t a = as.find(':');
  const std::size_t b = a == std::string::npos ? a : as.find(':', a + 1);
  if (a == std::string::npos || b == std::string::npos || as.substr(0, a) != "address" ||
      b == a + 1 || b + 1 == as.size()) {
    throw UsageError("--as must be address:<CHANNEL>:<reason>, e.g. address:MAIL:manual, got '" +
                     as + "'");
  }
  return {as.substr(a + 1, b - a - 1), as.substr(b + 1)};
}

std::string csv_field(std::string_view field) {
  std::string out;
  append_csv(out, field);
  return out;
}

struct Totals {
  std::size_t rows = 0, applied = 0, changed = 0, failed = 0;
};

int import_file(const ParsedArgs& args, std::ostream& out) {
  const std::string path = args.positionals().at(0);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CtlError("cannot read " + path);
  std::optional<OneColumn> one;
  if (const auto as = args.value("--as")) one = parse_as(*as);
  const bool dry = args.flag("--dry-run");
  const auto batch_rows = static_cast<std::size_t>(args.integer("--batch", 5000, 1, 100000));
  ApiClient api = client(args);
  const std::string target = dry ? "/import?dryRun=true" : "/import";
  const bool progress = ::isatty(STDERR_FILENO) == 1;
  const auto started = std::chrono::steady_clock::now();
  const std::string now = std::to_string(now_ms());

  Totals totals;
  std::string body;
  std::vector<std::size_t> lines;  // the file line of each row in `body`
  // Up to kInFlight requests at once, answered in order: the server checks one batch while
  // Redis applies the one before, and the file is read meanwhile.
  struct Sent {
    std::future<json> answer;
    std::vector<std::size_t> lines;
  };
  std::deque<Sent> in_flight;
  auto settle = [&] {
    Sent sent = std::move(in_flight.front());
    in_flight.pop_front();
    const json answer = sent.answer.get();
    totals.rows += sent.lines.size();
    totals.applied += answer.value("applied", std::size_t{0});
    totals.changed += answer.value("changed", std::size_t{0});
    for (const json& e : answer.value("errors", json::array())) {
      const auto row = e.value("row", std::size_t{0});
      ++totals.failed;
      std::cerr << path << ":" << (row < sent.lines.size() ? sent.lines[row] : 0) << ": "
                << e.value("error", std::string("rejected")) << "\n";
    }
    if (progress) {
      const double s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      std::cerr << "\r" << totals.rows << " rows, " << totals.failed << " failed, "
                << static_cast<long long>(s > 0 ? totals.rows / s : 0) << " rows/s" << std::flush;
    }
  };
  auto flush = [&] {
    if (lines.empty()) return;
    // Each request owns its body; the client only reads its settings, so threads may share it.
    in_flight.push_back({std::async(std::launch::async,
                                    [&api, &target, text = std::move(body)] {
                                      return api.post_json(target, text, "text/csv");
                                    }),
                         std::move(lines)});
    body.clear();
    lines.clear();
    while (in_flight.size() >= kInFlight) settle();
  };

  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (one) {
      const std::size_t start = line.find_first_not_of(" \t");
      if (start == std::string::npos) continue;  // blank lines are no rows
      const std::string address = line.substr(start, line.find_last_not_of(" \t") - start + 1);
      // An ESP's export may start with a column name.
      if (number == 1 && address.find('@') == std::string::npos && one->channel == "MAIL") continue;
      body += "address,," + csv_field(address) + "," + one->channel + ",1," + now + "," +
              one->reason + "\n";
    } else {
      if (number == 1 && line == kHeader) continue;
      if (line.empty()) continue;
      body += line;
      body.push_back('\n');
    }
    lines.push_back(number);
    if (lines.size() >= batch_rows || body.size() >= kMaxBatchBytes) flush();
  }
  flush();
  while (!in_flight.empty()) settle();
  if (progress) std::cerr << "\n";
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out << safe_dump({{"rows", totals.rows},
                    {"applied", totals.applied},
                    {"changed", totals.changed},
                    {"failed", totals.failed},
                    {"dryRun", dry},
                    {"seconds", seconds}})
      << std::endl;
  return totals.failed > 0 ? 1 : 0;
}

std::vector<OptionSpec> options(std::vector<OptionSpec> own) {
  own.push_back(http_option());
  own.push_back(token_option());
  own.push_back(timeout_option("for each HTTP answer (default 60000)"));
  return own;
}

}  // namespace

std::vector<Command> bulk_commands() {
  return {
      {{"export",
        {},
        "write every stored status as CSV to stdout",
        "Writes every stored status (users, leads, address suppressions) as CSV with the header\n"
        "kind,businessUnit,key,field,value,timestamp,reason. `import` reads it back.",
        options({})},
       export_all},
      {{"import",
        {"FILE"},
        "apply a CSV of statuses (or a list of addresses)",
        "Applies each row of FILE (the CSV `export` writes; the header row is optional) as a\n"
        "change with its own timestamp: a row older than what is stored changes nothing. A bad\n"
        "row is reported on stderr as FILE:LINE: reason and skipped; the exit status is 1 when\n"
        "any row failed. With --as address:<CHANNEL>:<reason> every line is one address (an\n"
        "ESP's suppression list), suppressed now. Progress goes to stderr when it is a terminal.",
        options({{"--as", "address:CHANNEL:REASON", "FILE is one address per line"},
                 {"--dry-run", "", "report what would change, write nothing"},
                 {"--batch", "N", "rows per request (default 5000)"}})},
       import_file},
  };
}

}  // namespace gk::ctl

// export and import: the bulk CSV of PROTOCOL.md section 12, through GET /export (page by
// page) and POST /import (thousands of rows per request, a few requests in flight).
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
// Under the server's default body limit (http.max_body_bytes, 1 MiB).
constexpr std::size_t kMaxBatchBytes = 768 * 1024;
// The server checks one batch while Redis applies another and this reads the file.
constexpr std::size_t kInFlight = 3;

ApiClient client(const ParsedArgs& args) {
  std::string t = token(args);
  if (t.empty()) throw UsageError("no API token: pass --token or set GATEKEEPER_TOKEN");
  return ApiClient(base_url(args), std::move(t),
                   std::chrono::milliseconds(args.integer("--timeout", 60000, 1, 3'600'000)));
}

int export_all(const ParsedArgs& args, std::ostream& out) {
  ApiClient api = client(args);
  const auto rows = args.integer("--page", 10000, 1, 100000);
  std::string cursor = "0";
  do {
    std::string next;
    out << api.get_text("/export?rows=" + std::to_string(rows) + "&cursor=" + cursor,
                        "X-Export-Cursor", next);
    cursor = next;
  } while (!cursor.empty());
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
  OneColumn one{as.substr(a + 1, b - a - 1), as.substr(b + 1)};
  if (one.reason != "bounce" && one.reason != "complaint" && one.reason != "sms_stop" &&
      one.reason != "manual") {
    throw UsageError("--as: unknown reason '" + one.reason +
                     "' (bounce, complaint, sms_stop or manual)");
  }
  return one;
}

struct Totals {
  std::size_t rows = 0, applied = 0, changed = 0, failed = 0;
};

class Importer {
 public:
  Importer(const ParsedArgs& args, std::ostream& out)
      : out_(out),
        path_(args.positionals().at(0)),
        dry_(args.flag("--dry-run")),
        batch_rows_(static_cast<std::size_t>(args.integer("--batch", 5000, 1, 100000))),
        api_(client(args)),
        target_(dry_ ? "/import?dryRun=true" : "/import"),
        progress_(::isatty(STDERR_FILENO) == 1),
        started_(std::chrono::steady_clock::now()),
        now_(std::to_string(now_ms())) {
    if (const auto as = args.value("--as")) one_ = parse_as(*as);
  }

  int run() {
    std::ifstream in(path_, std::ios::binary);
    if (!in) throw CtlError("cannot read " + path_);
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
      ++number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (number == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);  // a UTF-8 BOM
      if (one_) {
        if (!add_address(line, number)) continue;
      } else {
        if (line.empty() || (number == 1 && line == kHeader)) continue;
        body_ += line;
        body_.push_back('\n');
      }
      lines_.push_back(number);
      if (lines_.size() >= batch_rows_ || body_.size() >= kMaxBatchBytes) flush();
    }
    flush();
    while (!in_flight_.empty()) settle();
    if (progress_) std::cerr << "\n";
    const double seconds = elapsed();
    out_ << safe_dump({{"rows", totals_.rows},
                       {"applied", totals_.applied},
                       {"changed", totals_.changed},
                       {"failed", totals_.failed},
                       {"dryRun", dry_},
                       {"seconds", seconds},
                       {"rowsPerSecond",
                        seconds > 0 ? static_cast<double>(totals_.rows) / seconds : 0.0}})
         << std::endl;
    return totals_.failed > 0 ? 1 : 0;
  }

 private:
  // One address line as a CSV row; false for a line that is no row (blank, a column name).
  bool add_address(const std::string& line, std::size_t number) {
    const std::size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos) return false;
    const std::string address = line.substr(start, line.find_last_not_of(" \t") - start + 1);
    // An ESP's export may start with a column name ("email", "phone").
    if (number == 1 && address.find('@') == std::string::npos &&
        address.find_first_of("0123456789") == std::string::npos) {
      return false;
    }
    body_ += "address,,";
    append_csv(body_, address);
    body_ += "," + one_->channel + ",1," + now_ + "," + one_->reason + "\n";
    return true;
  }

  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }

  struct Sent {
    std::future<json> answer;
    std::vector<std::size_t> lines;  // the file line of each row of the body
  };

  void flush() {
    if (lines_.empty()) return;
    // Each request owns its body; the client is only read, so the threads may share it.
    in_flight_.push_back({std::async(std::launch::async,
                                     [this, text = std::move(body_)] {
                                       return api_.post_json(target_, text, "text/csv");
                                     }),
                          std::move(lines_)});
    body_.clear();
    lines_.clear();
    while (in_flight_.size() >= kInFlight) settle();
  }

  // The oldest request's answer, in file order.
  void settle() {
    Sent sent = std::move(in_flight_.front());
    in_flight_.pop_front();
    const json answer = sent.answer.get();
    totals_.rows += sent.lines.size();
    totals_.applied += answer.value("applied", std::size_t{0});
    totals_.changed += answer.value("changed", std::size_t{0});
    for (const json& e : answer.value("errors", json::array())) {
      const auto line = e.value("line", std::size_t{0});
      ++totals_.failed;
      std::cerr << path_ << ":"
                << (line >= 1 && line <= sent.lines.size() ? sent.lines[line - 1] : 0) << ": "
                << e.value("error", std::string("rejected")) << "\n";
    }
    if (progress_) {
      const double s = elapsed();
      std::cerr << "\r" << totals_.rows << " rows, " << totals_.failed << " failed, "
                << static_cast<long long>(s > 0 ? static_cast<double>(totals_.rows) / s : 0)
                << " rows/s" << std::flush;
    }
  }

  std::ostream& out_;
  const std::string path_;
  const bool dry_;
  const std::size_t batch_rows_;
  ApiClient api_;
  const std::string target_;
  const bool progress_;
  const std::chrono::steady_clock::time_point started_;
  const std::string now_;
  std::optional<OneColumn> one_;
  Totals totals_;
  std::string body_;
  std::vector<std::size_t> lines_;
  std::deque<Sent> in_flight_;
};

int import_file(const ParsedArgs& args, std::ostream& out) {
  Importer importer(args, out);
  return importer.run();
}

std::vector<OptionSpec> options(std::vector<OptionSpec> own) {
  own.push_back(http_option());
  own.push_back(token_option());
  own.push_back({"--timeout", "MS", "milliseconds to wait for each HTTP answer (default 60000)"});
  return own;
}

}  // namespace

std::vector<Command> bulk_commands() {
  return {
      {{"export",
        {},
        "Write every stored status as CSV to stdout (GET /export).",
        "Writes every stored status (users, leads, address suppressions) as CSV with the header\n"
        "kind,businessUnit,key,field,value,timestamp,reason, page by page through GET /export.\n"
        "`import` reads it back. A status changed while the export runs may or may not be in it.",
        options({{"--page", "N", "rows per request (default 10000)"}})},
       export_all},
      {{"import",
        {"FILE"},
        "Apply a CSV of statuses, or a list of addresses (POST /import).",
        "Applies each row of FILE (the CSV `export` writes; the header row is optional) as a\n"
        "change with its own timestamp (source `import`): a row older than what is stored\n"
        "changes nothing. A bad row is reported on stderr as FILE:LINE: reason and skipped; the\n"
        "exit status is 1 when any row failed. With --as address:<CHANNEL>:<reason> every line\n"
        "is one address (an ESP's suppression list), suppressed now. Prints a JSON summary;\n"
        "progress goes to stderr when it is a terminal. Requests carry --batch rows and at most\n"
        "768 KiB; against a gatekeeper with a smaller http.max_body_bytes, lower --batch.",
        options({{"--as", "address:CHANNEL:REASON", "FILE is one address per line"},
                 {"--dry-run", "", "report what would change, write nothing"},
                 {"--batch", "N", "rows per request (default 5000)"}})},
       import_file},
  };
}

}  // namespace gk::ctl

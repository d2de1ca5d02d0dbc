#include "gatekeeper/ctl/metrics_summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace gk::ctl {

namespace {

using nlohmann::json;

// Reads `{a="x",b="y"}` starting at text[pos] == '{'; returns the position after '}', or npos.
std::size_t parse_labels(std::string_view text, std::size_t pos,
                         std::map<std::string, std::string>& out) {
  ++pos;
  while (pos < text.size()) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == ',')) ++pos;
    if (pos < text.size() && text[pos] == '}') return pos + 1;
    const auto eq = text.find('=', pos);
    if (eq == std::string_view::npos || eq + 1 >= text.size() || text[eq + 1] != '"') {
      return std::string_view::npos;
    }
    std::string name(text.substr(pos, eq - pos));
    std::string value;
    pos = eq + 2;
    for (; pos < text.size() && text[pos] != '"'; ++pos) {
      if (text[pos] == '\\' && pos + 1 < text.size()) {
        ++pos;
        value.push_back(text[pos] == 'n' ? '\n' : text[pos]);
      } else {
        value.push_back(text[pos]);
      }
    }
    if (pos >= text.size()) return std::string_view::npos;
    ++pos;  // closing quote
    out.emplace(std::move(name), std::move(value));
  }
  return std::string_view::npos;
}

bool parse_line(std::string_view line, Sample& out) {
  const auto name_end = line.find_first_of("{ ");
  if (name_end == 0 || name_end == std::string_view::npos) return false;
  out.name = std::string(line.substr(0, name_end));
  std::size_t pos = name_end;
  if (line[pos] == '{') {
    pos = parse_labels(line, pos, out.labels);
    if (pos == std::string_view::npos) return false;
  }
  while (pos < line.size() && line[pos] == ' ') ++pos;
  const auto value_end = line.find(' ', pos);
  const std::string value(
      line.substr(pos, value_end == std::string_view::npos ? value_end : value_end - pos));
  if (value.empty()) return false;
  char* end = nullptr;
  // strtod reads the format's +Inf, -Inf and NaN spellings too.
  out.value = std::strtod(value.c_str(), &end);
  return end == value.c_str() + value.size();
}

// The sum of a family over every label set; null when the page has no such family.
json total(const std::vector<Sample>& samples, std::string_view name) {
  bool found = false;
  double sum = 0;
  for (const auto& s : samples) {
    if (s.name != name) continue;
    found = true;
    sum += s.value;
  }
  if (!found) return nullptr;
  return sum == std::floor(sum) && std::abs(sum) < 9e15 ? json(static_cast<long long>(sum))
                                                        : json(sum);
}

// The upper bound of the histogram bucket that holds quantile `q` (0.99: "99 % took at most
// this long"), in seconds; null without observations. Buckets are cumulative.
json quantile_bound(const std::vector<Sample>& samples, const std::string& family, double q) {
  const json count = total(samples, family + "_count");
  if (!count.is_number() || count.get<double>() <= 0) return nullptr;
  std::vector<std::pair<double, double>> buckets;  // (le, cumulative count)
  for (const auto& s : samples) {
    if (s.name != family + "_bucket") continue;
    const auto le = s.labels.find("le");
    if (le != s.labels.end())
      buckets.emplace_back(std::strtod(le->second.c_str(), nullptr), s.value);
  }
  std::sort(buckets.begin(), buckets.end());
  for (const auto& [le, n] : buckets) {
    if (n >= q * count.get<double>()) return std::isinf(le) ? json("+Inf") : json(le);
  }
  return nullptr;
}

// Seconds as an operator reads them: "250us", "2.5ms", "1s".
std::string duration(const json& seconds) {
  if (seconds.is_null()) return "n/a";
  if (seconds.is_string()) return "> largest bucket";
  const double s = seconds.get<double>();
  char buf[32];
  if (s < 1e-3) {
    std::snprintf(buf, sizeof(buf), "%gus", s * 1e6);
  } else if (s < 1) {
    std::snprintf(buf, sizeof(buf), "%gms", s * 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%gs", s);
  }
  return buf;
}

std::string text(const json& v) {
  if (v.is_null()) return "n/a";
  return v.dump();
}

}  // namespace

std::vector<Sample> parse_prometheus_text(std::string_view text) {
  std::vector<Sample> samples;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    Sample s;
    if (parse_line(line, s)) samples.push_back(std::move(s));
  }
  return samples;
}

json summarize_metrics(const std::vector<Sample>& samples) {
  json summary;
  summary["messages"] = {
      {"received", total(samples, "gk_messages_received_total")},
      {"forwarded", total(samples, "gk_messages_forwarded_total")},
      {"suppressed", total(samples, "gk_messages_suppressed_total")},
      {"rejected", total(samples, "gk_messages_rejected_total")},
      {"held", total(samples, "gk_messages_held")},
      {"backlog", total(samples, "gk_messages_backlog")},
  };
  json reasons = json::object();
  for (const auto& s : samples) {
    if (s.name != "gk_decisions_total") continue;
    const auto verdict = s.labels.find("verdict");
    const auto reason = s.labels.find("reason");
    if (verdict == s.labels.end() || reason == s.labels.end()) continue;
    if (verdict->second == "forwarded" || reason->second.empty()) continue;
    const auto n = static_cast<long long>(s.value);
    reasons[reason->second] = reasons.value(reason->second, 0LL) + n;
  }
  summary["reasons"] = reasons;

  const json hits = total(samples, "gk_cache_hits_total");
  const json misses = total(samples, "gk_cache_misses_total");
  json ratio = nullptr;
  if (hits.is_number() && misses.is_number()) {
    const double lookups = hits.get<double>() + misses.get<double>();
    if (lookups > 0) ratio = std::round(hits.get<double>() / lookups * 1000.0) / 1000.0;
  }
  summary["cache"] = {{"hits", hits},
                      {"misses", misses},
                      {"hit_ratio", ratio},
                      {"entries", total(samples, "gk_cache_entries")},
                      {"flushes", total(samples, "gk_cache_flushes_total")}};
  const json up = total(samples, "gk_redis_up");
  summary["redis"] = {{"up", up.is_null() ? json(nullptr) : json(up.get<double>() > 0)},
                      {"errors", total(samples, "gk_redis_errors_total")}};
  summary["intake_pauses"] = total(samples, "gk_intake_pauses_total");
  summary["latency"] = {
      {"decision_p99_le_seconds", quantile_bound(samples, "gk_decision_latency_seconds", 0.99)},
      {"redis_p99_le_seconds", quantile_bound(samples, "gk_redis_round_trip_seconds", 0.99)}};
  summary["config"] = {{"reloads", total(samples, "gk_config_reloads_total")},
                       {"reload_failures", total(samples, "gk_config_reload_failures_total")}};
  return summary;
}

std::string format_summary(const json& summary) {
  std::ostringstream out;
  const json& m = summary["messages"];
  out << "messages  received " << text(m["received"]) << "  forwarded " << text(m["forwarded"])
      << "  suppressed " << text(m["suppressed"]) << "  rejected " << text(m["rejected"])
      << "  held " << text(m["held"]) << "  backlog " << text(m["backlog"]) << "\n";
  out << "reasons  ";
  if (summary["reasons"].empty()) out << " none";
  bool first = true;
  for (const auto& [reason, n] : summary["reasons"].items()) {
    out << (first ? " " : ", ") << reason << " " << n.dump();
    first = false;
  }
  out << "\n";
  const json& c = summary["cache"];
  out << "cache     hit ratio ";
  if (c["hit_ratio"].is_null()) {
    out << "n/a";
  } else {
    char pct[16];
    std::snprintf(pct, sizeof(pct), "%.1f%%", c["hit_ratio"].get<double>() * 100.0);
    out << pct;
  }
  out << " (hits " << text(c["hits"]) << ", misses " << text(c["misses"]) << ")  entries "
      << text(c["entries"]) << "  flushes " << text(c["flushes"]) << "\n";
  const json& r = summary["redis"];
  out << "redis     " << (r["up"].is_null() ? "n/a" : (r["up"].get<bool>() ? "up" : "DOWN"))
      << "  errors " << text(r["errors"]) << "  intake pauses " << text(summary["intake_pauses"])
      << "\n";
  const json& l = summary["latency"];
  out << "latency   99% of decisions within " << duration(l["decision_p99_le_seconds"])
      << ", of Redis round trips within " << duration(l["redis_p99_le_seconds"]) << "\n";
  out << "config    reloads " << text(summary["config"]["reloads"]) << "  failed "
      << text(summary["config"]["reload_failures"]) << "\n";
  return out.str();
}

}  // namespace gk::ctl

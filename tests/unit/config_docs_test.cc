#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/config/config_reload.h"
#include "common/config/settings.h"

using namespace gk;

namespace {

// One key row of docs/CONFIG.md, by the column headings of its table.
struct DocRow {
  std::string type;
  std::string default_value;
  std::string range;
  std::string reload;
};

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line.substr(1));  // past the leading '|'
  for (std::string cell; std::getline(in, cell, '|');) {
    const auto first = cell.find_first_not_of(' ');
    const auto last = cell.find_last_not_of(' ');
    out.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
  }
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Every key row of docs/CONFIG.md as "section.key". `[channels.<NAME>]` and
// `[topics.<name>]` document "channels.*.<key>" and "topics.*.<key>".
std::map<std::string, DocRow> documented_settings() {
  std::ifstream in(GK_SOURCE_DIR "/docs/CONFIG.md");
  REQUIRE(in);
  const std::regex heading(R"(^## `?\[([a-z_.<>A-Z]+)\]`?)");
  const std::regex placeholder(R"(\.<[A-Za-z]+>$)");
  const std::regex key_cell(R"(^`([a-z_]+)`$)");
  std::map<std::string, DocRow> out;
  std::string section;
  std::map<std::string, std::size_t> column;  // heading -> index, of the current table
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0) {  // a section of keys, or prose
      section = std::regex_search(line, m, heading)
                    ? std::regex_replace(m[1].str(), placeholder, ".*")
                    : "";
      column.clear();
      continue;
    }
    if (section.empty() || line.rfind("|", 0) != 0) continue;
    const std::vector<std::string> row = cells(line);
    if (column.empty()) {  // the heading row
      for (std::size_t i = 0; i < row.size(); ++i) column[lower(row[i])] = i;
      continue;
    }
    if (row.empty() || !std::regex_match(row[0], m, key_cell)) continue;
    auto at = [&](const std::string& name) {
      const auto it = column.find(name);
      return it != column.end() && it->second < row.size() ? row[it->second] : "(no column)";
    };
    out[section + "." + m[1].str()] = {at("type"), at("default"), at("range"), at("reload")};
  }
  return out;
}

std::string type_name(Kind kind) {
  switch (kind) {
    case Kind::kString:
    case Kind::kOneOf:
      return "string";
    case Kind::kInteger:
      return "integer";
    case Kind::kBoolean:
      return "boolean";
    case Kind::kStrings:
      return "array of strings";
    case Kind::kTables:
      break;
  }
  return "table";
}

// The `code` spans of a cell, in order.
std::vector<std::string> code_spans(const std::string& cell) {
  static const std::regex code("`([^`]*)`");
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(cell.begin(), cell.end(), code); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

}  // namespace

TEST_CASE("settings: docs/CONFIG.md documents exactly the keys of the settings table",
          "[config][docs]") {
  const auto documented = documented_settings();
  REQUIRE(documented.size() > 30);
  std::map<std::string, const Setting*> table;
  for (const Setting& s : settings()) {
    if (s.kind != Kind::kTables) table[std::string(s.path)] = &s;
  }
  for (const auto& [key, row] : documented) {
    INFO("docs/CONFIG.md documents " << key);
    CHECK(table.count(key) == 1);
  }
  for (const auto& [key, s] : table) {
    INFO("the settings table has " << key);
    CHECK(documented.count(key) == 1);
  }
}

TEST_CASE(
    "settings: docs/CONFIG.md gives each key the type, default, range and reload class "
    "of the table",
    "[config][docs]") {
  const auto documented = documented_settings();
  for (const Setting& s : settings()) {
    const auto it = documented.find(std::string(s.path));
    if (it == documented.end()) continue;  // the test above names it
    const DocRow& doc = it->second;
    INFO("docs/CONFIG.md on " << s.path << ": type " << doc.type << ", default "
                              << doc.default_value << ", range " << doc.range);
    CHECK(doc.reload == to_string(s.reload));
    CHECK(doc.type == type_name(s.kind));

    const std::vector<std::string> shown_default = code_spans(doc.default_value);
    if (s.required) {
      CHECK(doc.default_value.find("required") != std::string::npos);
    } else {
      REQUIRE_FALSE(shown_default.empty());
      CHECK(shown_default.front() == default_text(s));
    }

    switch (s.kind) {
      case Kind::kInteger: {
        const std::string range = std::to_string(s.min) + ".." + std::to_string(s.max);
        CHECK(doc.range.substr(0, doc.range.find_first_of(",; ")) == range);
        break;
      }
      case Kind::kOneOf:
        CHECK(code_spans(doc.range) ==
              std::vector<std::string>(s.allowed.begin(), s.allowed.end()));
        break;
      case Kind::kBoolean:
        CHECK(doc.range.empty());
        break;
      default:
        // A checked string says what it accepts.
        if (s.check != nullptr) CHECK_FALSE(doc.range.empty());
        break;
    }
  }
}

TEST_CASE("settings: log.format is applied by a reload, HTTP limits are reported restart-only",
          "[config][reload]") {
  Config running;
  running.channels = {ChannelConfig{"MAIL", {"EMAIL"}, "tcp://127.0.0.1:1", true, 10}};
  Config loaded = running;
  loaded.log.format = "json";
  loaded.http.max_body_bytes = 4096;
  CHECK(restart_only_changes(running, loaded) == std::vector<std::string>{"http.max_body_bytes"});
  const Config merged = merge_reloadable(running, loaded);
  CHECK(merged.log.format == "json");
  CHECK(merged.http.max_body_bytes == running.http.max_body_bytes);
}

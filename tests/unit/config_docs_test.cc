#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include "common/config/config_reload.h"
#include "common/config/settings.h"

using namespace gk;

namespace {

// Every key row of docs/CONFIG.md with its Reload column, as "section.key" -> class. A
// `[channels.<NAME>]` section documents "channels.*.<key>".
std::map<std::string, std::string> documented_reload_classes() {
  std::ifstream in(GK_SOURCE_DIR "/docs/CONFIG.md");
  REQUIRE(in);
  const std::regex heading(R"(^## `?\[([a-z_.<>A-Z]+)\]`?)");
  const std::regex row(R"(^\| `([a-z_]+)` \|.*\| (restart|reloadable) \|\s*$)");
  std::map<std::string, std::string> out;
  std::string section;
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, heading)) {
      section = m[1].str() == "channels.<NAME>" ? "channels.*" : m[1].str();
    } else if (!section.empty() && std::regex_search(line, m, row)) {
      out[section + "." + m[1].str()] = m[2].str();
    }
  }
  return out;
}

// Per-channel settings that the table keeps as one entry: the channel set as a whole.
std::string setting_for(const std::string& documented) {
  if (documented == "channels.*.endpoint" || documented == "channels.*.sndhwm") return "channels";
  if (documented.rfind("topics.<name>.", 0) == 0) return "topics";
  return documented;
}

}  // namespace

TEST_CASE("settings: docs/CONFIG.md gives every setting the reload class the code applies",
          "[config][docs]") {
  const auto documented = documented_reload_classes();
  REQUIRE(documented.size() > 30);
  std::map<std::string, const Setting*> by_path;
  for (const Setting& s : settings()) by_path[std::string(s.path)] = &s;

  for (const auto& [key, reload] : documented) {
    INFO("docs/CONFIG.md documents " << key);
    const auto it = by_path.find(setting_for(key));
    REQUIRE(it != by_path.end());
    CHECK(reload == to_string(it->second->reload));
  }
  for (const Setting& s : settings()) {
    if (s.path == "channels") continue;  // documented as its endpoint and sndhwm keys
    if (s.path == "topics") continue;    // documented as the keys of [topics.<name>]
    INFO("setting " << s.path);
    CHECK(documented.count(std::string(s.path)) == 1);
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

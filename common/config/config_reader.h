#pragma once

// Reading TOML into the configuration: typed getters that record every problem instead of
// stopping, and the table-driven reader of one section. Private to common/config.

#include <toml++/toml.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"
#include "common/config/settings.h"

namespace gk {

int line_of(const toml::node& node);
// The line of `key` in `t`, 0 when either is absent.
int line_at(const toml::table* t, std::string_view key);
std::string type_name(toml::node_type type);
// Keys are echoed the way TOML would need them written, so a path can be pasted back.
std::string join(std::string_view path, std::string_view key);
// An absent section still goes through the getters, so its defaults are validated too.
const toml::table& or_empty(const toml::table* t);

// Reads typed values out of tables and records every problem instead of stopping.
class Reader {
 public:
  explicit Reader(std::vector<ConfigError>& errors) : errors_(errors) {}

  void fail(std::string key, int line, std::string message);

  // Returns nullptr when the key is absent or not a table (the latter is recorded).
  const toml::table* table(const toml::table& parent, std::string_view path, std::string_view key);

  void only_keys(const toml::table& t, std::string_view path,
                 std::span<const std::string_view> known);

  // The getters below leave `out` alone when the key is absent or its value unusable, so the
  // default survives, and return false only in the unusable case.
  bool string(const toml::table& t, std::string_view path, std::string_view key, std::string& out,
              Check check = nullptr);
  bool boolean(const toml::table& t, std::string_view path, std::string_view key, bool& out);
  bool integer(const toml::table& t, std::string_view path, std::string_view key, std::int64_t min,
               std::int64_t max, std::int64_t& out);
  bool one_of(const toml::table& t, std::string_view path, std::string_view key,
              std::span<const std::string_view> allowed, std::string& out);
  // An array of strings. Unlike the other getters it keeps the acceptable elements even when
  // some are bad, so later checks (alias collisions) still see them; `lines` receives the
  // line of each kept element.
  bool strings(const toml::table& t, std::string_view path, std::string_view key,
               std::vector<std::string>& out, Check check, std::vector<int>* lines = nullptr);

 private:
  template <typename V>
  const toml::value<V>* value(const toml::table& t, std::string_view path, std::string_view key,
                              std::string_view expected);
  void wrong_type(std::string key, const toml::node& node, std::string_view expected);

  std::vector<ConfigError>& errors_;
};

// What reading one section's keys found, for the section's own rules after it.
struct SectionRead {
  struct Key {
    std::string_view name;
    bool ok = true;          // absent, or usable: the record holds its value
    std::vector<int> lines;  // kStrings: the line of each element kept
  };
  std::vector<Key> keys;

  bool ok(std::string_view key) const;
  const std::vector<int>& lines(std::string_view key) const;
};

// Reads the keys the settings table lists for `section` ("http", "channels.*") from `t`,
// which is written at `path` ("http", "channels.MAIL"), into `record`: each by its kind,
// with its range, allowed values or check; keys the table does not list are errors.
SectionRead read_section(Reader& r, const toml::table& t, std::string_view path,
                         std::string_view section, Config& record);
SectionRead read_section(Reader& r, const toml::table& t, std::string_view path,
                         std::string_view section, ChannelConfig& record);
SectionRead read_section(Reader& r, const toml::table& t, std::string_view path,
                         std::string_view section, TopicConfig& record);

}  // namespace gk

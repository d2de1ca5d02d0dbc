#include "common/config/config_reader.h"

#include <algorithm>
#include <cctype>
#include <type_traits>
#include <utility>

#include "common/config/config_checks.h"

namespace gk {

int line_of(const toml::node& node) {
  return static_cast<int>(node.source().begin.line);
}

std::string type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

std::string join(std::string_view path, std::string_view key) {
  const bool bare = !key.empty() && std::all_of(key.begin(), key.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
  std::string out(path);
  if (!out.empty()) out += '.';
  if (bare) return out.append(key);
  return out.append("\"").append(key).append("\"");
}

const toml::table& or_empty(const toml::table* t) {
  static const toml::table kEmpty;
  return t != nullptr ? *t : kEmpty;
}

int line_at(const toml::table* t, std::string_view key) {
  const toml::node* node = t != nullptr ? t->get(key) : nullptr;
  return node != nullptr ? line_of(*node) : 0;
}

void Reader::fail(std::string key, int line, std::string message) {
  errors_.push_back(ConfigError{std::move(key), line, std::move(message)});
}

const toml::table* Reader::table(const toml::table& parent, std::string_view path,
                                 std::string_view key) {
  const toml::node* node = parent.get(key);
  if (node == nullptr) return nullptr;
  if (const toml::table* t = node->as_table()) return t;
  wrong_type(join(path, key), *node, "table");
  return nullptr;
}

void Reader::only_keys(const toml::table& t, std::string_view path,
                       std::span<const std::string_view> known) {
  for (const auto& [key, node] : t) {
    if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
    std::string list;
    for (std::string_view k : known) list.append(list.empty() ? "" : ", ").append(k);
    fail(join(path, key.str()), line_of(node), "unknown key (known keys: " + list + ")");
  }
}

bool Reader::string(const toml::table& t, std::string_view path, std::string_view key,
                    std::string& out, Check check) {
  const auto* v = value<std::string>(t, path, key, "string");
  if (v == nullptr) return t.get(key) == nullptr;
  if (check != nullptr) {
    if (std::string problem = check(v->get()); !problem.empty()) {
      fail(join(path, key), line_of(*v), std::move(problem));
      return false;
    }
  }
  out = v->get();
  return true;
}

bool Reader::boolean(const toml::table& t, std::string_view path, std::string_view key, bool& out) {
  const auto* v = value<bool>(t, path, key, "boolean");
  if (v != nullptr) out = v->get();
  return v != nullptr || t.get(key) == nullptr;
}

bool Reader::integer(const toml::table& t, std::string_view path, std::string_view key,
                     std::int64_t min, std::int64_t max, std::int64_t& out) {
  const auto* v = value<std::int64_t>(t, path, key, "integer");
  if (v == nullptr) return t.get(key) == nullptr;
  if (v->get() < min || v->get() > max) {
    fail(join(path, key), line_of(*v),
         "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
             std::to_string(v->get()));
    return false;
  }
  out = v->get();
  return true;
}

bool Reader::one_of(const toml::table& t, std::string_view path, std::string_view key,
                    std::span<const std::string_view> allowed, std::string& out) {
  const auto* v = value<std::string>(t, path, key, "string");
  if (v == nullptr) return t.get(key) == nullptr;
  if (std::find(allowed.begin(), allowed.end(), v->get()) == allowed.end()) {
    std::string list;
    for (std::string_view a : allowed) list.append(list.empty() ? "" : ", ").append(a);
    fail(join(path, key), line_of(*v), "must be one of " + list + ", got " + in_quotes(v->get()));
    return false;
  }
  out = v->get();
  return true;
}

bool Reader::strings(const toml::table& t, std::string_view path, std::string_view key,
                     std::vector<std::string>& out, Check check, std::vector<int>* lines) {
  const toml::node* node = t.get(key);
  if (node == nullptr) return true;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    wrong_type(join(path, key), *node, "array of strings");
    return false;
  }
  std::vector<std::string> values;
  bool ok = true;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = *array->get(i);
    const std::string item_key = join(path, key) + "[" + std::to_string(i) + "]";
    const auto* s = item.as_string();
    if (s == nullptr) {
      wrong_type(item_key, item, "string");
      ok = false;
    } else if (std::string problem = check(s->get()); !problem.empty()) {
      fail(item_key, line_of(item), std::move(problem));
      ok = false;
    } else {
      values.push_back(s->get());
      if (lines != nullptr) lines->push_back(line_of(item));
    }
  }
  out = std::move(values);
  return ok;
}

template <typename V>
const toml::value<V>* Reader::value(const toml::table& t, std::string_view path,
                                    std::string_view key, std::string_view expected) {
  const toml::node* node = t.get(key);
  if (node == nullptr) return nullptr;
  if (const auto* v = node->as<V>()) return v;
  wrong_type(join(path, key), *node, expected);
  return nullptr;
}

void Reader::wrong_type(std::string key, const toml::node& node, std::string_view expected) {
  fail(std::move(key), line_of(node),
       "expected " + std::string(expected) + ", got " + type_name(node.type()));
}

bool SectionRead::ok(std::string_view key) const {
  for (const Key& k : keys) {
    if (k.name == key) return k.ok;
  }
  return true;
}

const std::vector<int>& SectionRead::lines(std::string_view key) const {
  static const std::vector<int> kNone;
  for (const Key& k : keys) {
    if (k.name == key) return k.lines;
  }
  return kNone;
}

namespace {

// An enum member holds the position of its text in `allowed`.
template <class Enum>
bool read_enum(Reader& r, const toml::table& t, std::string_view path, const Setting& s,
               Enum& out) {
  std::string text;
  if (!r.one_of(t, path, s.key(), s.allowed, text)) return false;
  if (!text.empty()) {
    const auto at = std::find(s.allowed.begin(), s.allowed.end(), text) - s.allowed.begin();
    out = static_cast<Enum>(at);
  }
  return true;
}

SectionRead::Key read_setting(Reader& r, const toml::table& t, std::string_view path,
                              const Setting& s, Field field) {
  SectionRead::Key out;
  out.name = s.key();
  const std::string_view key = s.key();
  if (s.required && t.get(key) == nullptr) {
    r.fail(join(path, key), line_of(t), "required key missing");
    out.ok = false;
    return out;
  }
  auto read = [&](auto* member) -> bool {
    using T = std::remove_pointer_t<decltype(member)>;
    if constexpr (std::is_same_v<T, std::string>) {
      return s.kind == Kind::kOneOf ? r.one_of(t, path, key, s.allowed, *member)
                                    : r.string(t, path, key, *member, s.check);
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      return r.strings(t, path, key, *member, s.check != nullptr ? s.check : any_text, &out.lines);
    } else if constexpr (std::is_same_v<T, bool>) {
      return r.boolean(t, path, key, *member);
    } else if constexpr (std::is_enum_v<T>) {
      return read_enum(r, t, path, s, *member);
    } else {
      auto value = static_cast<std::int64_t>(*member);
      if (!r.integer(t, path, key, s.min, s.max, value)) return false;
      *member = static_cast<T>(value);
      return true;
    }
  };
  out.ok = std::visit(read, field);
  return out;
}

template <class Record>
SectionRead read_keys(Reader& r, const toml::table& t, std::string_view path,
                      std::string_view section, Record& record, Access<Record> Setting::*access) {
  r.only_keys(t, path, keys_of(section));
  SectionRead out;
  for (const Setting& s : settings()) {
    if (s.section() != section || s.kind == Kind::kTables) continue;
    out.keys.push_back(read_setting(r, t, path, s, (s.*access).get(record)));
  }
  return out;
}

}  // namespace

SectionRead read_section(Reader& r, const toml::table& t, std::string_view path,
                         std::string_view section, Config& record) {
  return read_keys(r, t, path, section, record, &Setting::config);
}

SectionRead read_section(Reader& r, const toml::table& t, std::string_view path,
                         std::string_view section, ChannelConfig& record) {
  return read_keys(r, t, path, section, record, &Setting::channel);
}

SectionRead read_section(Reader& r, const toml::table& t, std::string_view path,
                         std::string_view section, TopicConfig& record) {
  return read_keys(r, t, path, section, record, &Setting::topic);
}

}  // namespace gk

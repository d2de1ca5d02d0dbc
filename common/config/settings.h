#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/config/config.h"

namespace gk {

// When a changed value takes effect: on SIGHUP (kLive) or only after a restart (kRestart:
// bound sockets, listeners, the Redis connection, thread counts).
enum class ReloadClass { kLive, kRestart };

// How a key is written in the file.
enum class Kind {
  kString,
  kInteger,
  kBoolean,
  kOneOf,    // a string out of `allowed`
  kStrings,  // an array of strings, `check` applied to each
  kTables,   // a table of tables ([channels.*], [topics.*]): the whole set, for reload
};

// How the startup summary shows a value, so logs never hold a secret.
enum class Secret {
  kNo,
  kYes,          // "<redacted>" when set; an array shows how many entries it has
  kUrlPassword,  // the URL with its password replaced
};

// Returns an empty string when the value is acceptable, else the problem.
using Check = std::string (*)(std::string_view);

template <class T>
using FieldPtr = T*;
template <class T>
using ConstFieldPtr = const T*;
// Every member type a setting can have; one-of settings with an enum member hold the index
// of the value in `allowed`.
template <template <class> class P>
using FieldVariant =
    std::variant<P<std::string>, P<std::vector<std::string>>, P<int>, P<std::size_t>,
                 P<std::int64_t>, P<bool>, P<TransactionalPolicy>, P<TopicDefault>>;
using Field = FieldVariant<FieldPtr>;
using ConstField = FieldVariant<ConstFieldPtr>;

// Where a setting lives: Config for plain keys; one channel's or one topic's table for the
// keys under channels.* and topics.*.
template <class Record>
struct Access {
  Field (*get)(Record&) = nullptr;
  ConstField (*view)(const Record&) = nullptr;
  explicit operator bool() const noexcept { return get != nullptr; }
};

// One configuration setting: how it is read, checked, reloaded, summarised and documented.
// The table is the single list of what each setting is; a new key is one entry there. Its
// default is the member's value in a default-constructed record, so it is written once.
struct Setting {
  std::string_view path;  // "http.max_body_bytes"; "channels.*.aliases" for every channel
  Access<Config> config = {};
  Access<ChannelConfig> channel = {};
  Access<TopicConfig> topic = {};
  // Reload: whether two configs disagree on it, and taking the loaded value (live only).
  // nullptr for a key of a table of tables whose kTables entry covers it.
  bool (*differs)(const Config& a, const Config& b) = nullptr;
  void (*adopt)(Config& running, const Config& loaded) = nullptr;
  ReloadClass reload = ReloadClass::kRestart;
  Kind kind = Kind::kString;
  std::int64_t min = 0;  // kInteger
  std::int64_t max = 0;
  std::span<const std::string_view> allowed = {};  // kOneOf, in the enum's order
  Check check = nullptr;                           // kString, and each element of kStrings
  bool required = false;                           // in its table, when that table is there
  Secret secret = Secret::kNo;
  std::string_view doc = {};  // one line: what it does
  // What a reload's restart warning names, when the path alone would not say it.
  std::string_view label = {};

  std::string_view name() const noexcept { return label.empty() ? path : label; }
  // "channels.*" and "aliases" for "channels.*.aliases".
  std::string_view section() const noexcept;
  std::string_view key() const noexcept;
};

std::span<const Setting> settings();

// The top-level tables in table order: "ingress", "egress", "channels", ...
std::span<const std::string_view> sections();
// The keys of one section ("http", "channels.*") in table order.
std::vector<std::string_view> keys_of(std::string_view section);

// The setting's default as TOML would write it: "\"info\"", "512", "true", "[]".
std::string default_text(const Setting& s);

std::string_view to_string(ReloadClass reload) noexcept;

}  // namespace gk

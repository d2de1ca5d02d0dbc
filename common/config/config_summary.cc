#include "common/config/config_summary.h"

#include <string>
#include <type_traits>

#include "common/config/config_checks.h"
#include "common/config/settings.h"

namespace gk {

namespace {

using nlohmann::json;

constexpr const char* kRedacted = "<redacted>";

json shown(const Setting& s, ConstField value) {
  return std::visit(
      [&](const auto* v) -> json {
        using T = std::remove_cvref_t<decltype(*v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          if (s.secret == Secret::kYes) return v->empty() ? "" : kRedacted;
          if (s.secret == Secret::kUrlPassword) return redact_url_password(*v);
          return *v;
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          if (s.secret != Secret::kNo) return std::to_string(v->size()) + " configured";
          return *v;
        } else if constexpr (std::is_enum_v<T>) {
          return s.allowed[static_cast<std::size_t>(*v)];
        } else {
          return *v;
        }
      },
      value);
}

// One object per channel or topic: its name, then its keys.
template <class Record>
json tables(const std::vector<Record>& records, Access<Record> Setting::*access) {
  json out = json::array();
  for (const Record& record : records) {
    json entry = {{"name", record.name}};
    for (const Setting& s : settings()) {
      if (s.*access) entry[std::string(s.key())] = shown(s, (s.*access).view(record));
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace

json summarize_config(const Config& c) {
  json out = json::object();
  for (const Setting& s : settings()) {
    if (s.config) out[std::string(s.section())][std::string(s.key())] = shown(s, s.config.view(c));
  }
  out["channels"] = tables(c.channels, &Setting::channel);
  out["topics"] = tables(c.topics, &Setting::topic);
  return out;
}

}  // namespace gk

#pragma once

#include <span>
#include <string_view>

#include "common/config/config.h"

namespace gk {

// When a changed value takes effect: on SIGHUP (kLive) or only after a restart (kRestart:
// bound sockets, listeners, the Redis connection, thread counts).
enum class ReloadClass { kLive, kRestart };

// One configuration setting as reload, the restart warning and the docs test see it. The
// table is the single list of what each setting is; a new key is one line there.
struct Setting {
  std::string_view path;  // "http.max_body_bytes"; "channels.*.aliases" for every channel
  ReloadClass reload;
  bool (*differs)(const Config& a, const Config& b);
  void (*adopt)(Config& running, const Config& loaded);  // live settings only
  // What a reload's restart warning names, when the path alone would not say it.
  std::string_view label = {};

  std::string_view name() const noexcept { return label.empty() ? path : label; }
};

std::span<const Setting> settings();

std::string_view to_string(ReloadClass reload) noexcept;

}  // namespace gk

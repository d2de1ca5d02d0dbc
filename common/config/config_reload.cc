#include "common/config/config_reload.h"

#include "common/config/settings.h"

namespace gk {

std::vector<std::string> restart_only_changes(const Config& running, const Config& loaded) {
  std::vector<std::string> out;
  for (const Setting& s : settings()) {
    // A key of a table of tables has no check of its own: the whole table's entry covers it.
    if (s.reload == ReloadClass::kRestart && s.differs != nullptr && s.differs(running, loaded)) {
      out.emplace_back(s.name());
    }
  }
  return out;
}

Config merge_reloadable(const Config& running, const Config& loaded) {
  Config out = running;
  for (const Setting& s : settings()) {
    if (s.reload == ReloadClass::kLive && s.adopt != nullptr) s.adopt(out, loaded);
  }
  return out;
}

}  // namespace gk

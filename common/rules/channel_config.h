#pragma once

#include <string>
#include <vector>

namespace gk {

// One delivery channel: where permitted messages for it go and what it requires.
struct ChannelConfig {
  std::string name;                  // canonical upper-case name, e.g. "MAIL"
  std::vector<std::string> aliases;  // upper-cased, e.g. {"EMAIL"}
  std::string endpoint;              // bound PUSH endpoint for the adapter
  bool require_address = true;       // a message without `to` is rejected
  int sndhwm = 100000;               // ZeroMQ send high-water mark of the channel socket
};

}  // namespace gk

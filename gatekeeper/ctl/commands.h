#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "gatekeeper/ctl/args.h"

namespace gk::ctl {

// One leaf command ("status get", "send", ...): its description and what runs it. A runner
// prints its result on `out` and returns the exit status; it throws UsageError or CtlError.
struct Command {
  CommandSpec spec;
  int (*run)(const ParsedArgs& args, std::ostream& out);
};

// The commands that call the HTTP API: status, blacklist, recipient, metrics.
std::vector<Command> api_commands();
// export and import: the bulk CSV of PROTOCOL.md section 12.
std::vector<Command> bulk_commands();
// The commands that talk ZeroMQ: send, tail decisions, tail events.
std::vector<Command> socket_commands();

// Options several commands share, spelled the same everywhere.
OptionSpec http_option();
OptionSpec token_option();
OptionSpec timeout_option(const std::string& what);

// The API token: --token, else $GATEKEEPER_TOKEN; "" when neither is set.
std::string token(const ParsedArgs& args);

// The API's base URL: --http, else $GATEKEEPER_HTTP, else http://127.0.0.1:8080.
std::string base_url(const ParsedArgs& args);

}  // namespace gk::ctl

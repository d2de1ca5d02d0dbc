// gatekeeper-ctl: the operator's command line for a running gatekeeper. Status reads and
// writes through the HTTP API, bulk import and export, test messages and tails over ZeroMQ,
// a metrics summary.
// Exit status: 0 done, 1 the request failed, 2 the command line is wrong.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "gatekeeper/ctl/commands.h"

namespace {

using gk::ctl::Command;
using gk::ctl::CtlError;
using gk::ctl::UsageError;

constexpr int kRuntimeError = 1;
constexpr int kUsageError = 2;

// Commands with subcommands; "status get" is found as group "status", word "get".
const std::vector<std::pair<std::string, std::string>> kGroups = {
    {"status", "read or set a person's opt-out status"},
    {"blacklist", "read or set a person's blacklist status"},
    {"tail", "follow the decisions outlet or the system events"},
    {"links", "mint one-click unsubscribe links"},
};

std::vector<Command> all_commands() {
  auto commands = gk::ctl::api_commands();
  for (auto& c : gk::ctl::socket_commands()) commands.push_back(std::move(c));
  for (auto& c : gk::ctl::bulk_commands()) commands.push_back(std::move(c));
  return commands;
}

std::string top_help(const std::vector<Command>& commands) {
  std::string text =
      "Usage: gatekeeper-ctl COMMAND [ARGS] [options]\n\n"
      "Operates a running gatekeeper: opt-out status through its HTTP API, bulk import and\n"
      "export, test messages, the decisions outlet and system events over ZeroMQ, a metrics\n"
      "summary.\n\nCommands:\n";
  for (const auto& c : commands) {
    std::string left = c.spec.name;
    for (const auto& p : c.spec.positionals) left += " " + p;
    text += "  " + left + std::string(left.size() < 20 ? 20 - left.size() : 1, ' ') +
            c.spec.summary + "\n";
  }
  text +=
      "\nHTTP commands take --http URL (default $GATEKEEPER_HTTP, else http://127.0.0.1:8080);\n"
      "API commands also --token TOKEN (default $GATEKEEPER_TOKEN). Output is JSON lines,\n"
      "except the metrics summary.\n"
      "Exit status: 0 done, 1 the request failed, 2 bad command line.\n"
      "Run gatekeeper-ctl COMMAND --help for the options of a command.\n";
  return text;
}

std::string group_help(const std::string& group, const std::string& about,
                       const std::vector<Command>& commands) {
  std::string text = "Usage: gatekeeper-ctl " + group + " SUBCOMMAND [ARGS] [options]\n\n" +
                     "Commands to " + about + ":\n";
  for (const auto& c : commands) {
    if (!c.spec.name.starts_with(group + " ")) continue;
    std::string left = c.spec.name;
    for (const auto& p : c.spec.positionals) left += " " + p;
    text += "  " + left + std::string(left.size() < 20 ? 20 - left.size() : 1, ' ') +
            c.spec.summary + "\n";
  }
  text += "\nRun gatekeeper-ctl " + group + " SUBCOMMAND --help for its options.\n";
  return text;
}

bool wants_help(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--") return false;
    if (a == "--help" || a == "-h") return true;
  }
  return false;
}

int run(const std::vector<std::string>& argv, std::string& command_name) {
  const auto commands = all_commands();
  // Options before the command word: only the shared ones that take a value.
  std::vector<std::string> leading;
  std::size_t i = 0;
  for (; i < argv.size() && argv[i].starts_with("-"); ++i) {
    if (argv[i] == "--help" || argv[i] == "-h") {
      std::cout << top_help(commands);
      return 0;
    }
    if (argv[i] == "--version") {
      std::cout << "gatekeeper-ctl " << GK_VERSION << "\n";
      return 0;
    }
    leading.push_back(argv[i]);
    if ((argv[i] == "--http" || argv[i] == "--token") && i + 1 < argv.size()) {
      leading.push_back(argv[++i]);
    }
  }
  if (i == argv.size()) {
    throw UsageError("no command given (see gatekeeper-ctl --help)");
  }
  std::string name = argv[i++];
  for (const auto& [group, about] : kGroups) {
    if (name != group) continue;
    if (i == argv.size() || argv[i].starts_with("-")) {
      if (i < argv.size() && wants_help({argv[i]})) {
        std::cout << group_help(group, about, commands);
        return 0;
      }
      command_name = group;
      throw UsageError("needs a subcommand (see gatekeeper-ctl " + group + " --help)");
    }
    name += " " + argv[i++];
  }
  command_name = name;
  const auto it = std::find_if(commands.begin(), commands.end(),
                               [&](const Command& c) { return c.spec.name == name; });
  if (it == commands.end()) {
    throw UsageError("unknown command (see gatekeeper-ctl --help)");
  }
  std::vector<std::string> rest(argv.begin() + static_cast<std::ptrdiff_t>(i), argv.end());
  if (wants_help(rest) || wants_help(leading)) {
    std::cout << gk::ctl::help_text(it->spec);
    return 0;
  }
  rest.insert(rest.begin(), leading.begin(), leading.end());
  return it->run(gk::ctl::parse_args(it->spec, rest), std::cout);
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  std::string command;
  // Every failure is one line on stderr, prefixed with the command, so scripts can log it.
  auto fail = [&](int status, const std::string& message) {
    std::cerr << "gatekeeper-ctl" << (command.empty() ? "" : " " + command) << ": " << message
              << std::endl;
    return status;
  };
  try {
    return run(args, command);
  } catch (const UsageError& e) {
    return fail(kUsageError, e.what());
  } catch (const CtlError& e) {
    return fail(kRuntimeError, e.what());
  } catch (const zmq::error_t& e) {
    return fail(kRuntimeError, std::string("ZeroMQ: ") + e.what());
  } catch (const std::exception& e) {
    return fail(kRuntimeError, e.what());
  }
}

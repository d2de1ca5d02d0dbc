#pragma once

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gk::ctl {

// Bad command-line input: printed as one line, exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A failure while doing what was asked (connection, HTTP error, timeout): exit status 1.
struct CtlError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  std::string name;        // "--channel"
  std::string value_name;  // "C"; empty for a flag that takes no value
  std::string help;
};

// What one command accepts; the same description drives parsing and --help.
struct CommandSpec {
  std::string name;                      // "status get"
  std::vector<std::string> positionals;  // names of the required positional arguments
  std::string summary;                   // one line, for the command list
  std::string description;               // paragraphs for --help
  std::vector<OptionSpec> options;
};

// The parsed command line of one command: positionals, option values and flags.
class ParsedArgs {
 public:
  const std::vector<std::string>& positionals() const noexcept { return positionals_; }
  bool flag(std::string_view name) const { return flags_.count(std::string(name)) != 0; }
  std::optional<std::string> value(std::string_view name) const;
  std::string value_or(std::string_view name, std::string fallback) const;
  // The value of an option that must be given; throws UsageError naming it.
  std::string required(std::string_view name) const;
  // An integer option within [min, max]; throws UsageError when it is not one.
  long long integer(std::string_view name, long long fallback, long long min, long long max) const;

 private:
  friend ParsedArgs parse_args(const CommandSpec& spec, const std::vector<std::string>& args);
  std::string command_;
  std::vector<std::string> positionals_;
  std::map<std::string, std::string, std::less<>> values_;
  std::set<std::string> flags_;
};

// Parses `args` (everything after the command words) against `spec`; accepts "--name value"
// and "--name=value", and "--" before positionals that start with a dash. Throws UsageError.
ParsedArgs parse_args(const CommandSpec& spec, const std::vector<std::string>& args);

// The --help text of a command.
std::string help_text(const CommandSpec& spec);

}  // namespace gk::ctl

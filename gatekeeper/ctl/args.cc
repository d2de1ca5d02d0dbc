#include "gatekeeper/ctl/args.h"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace gk::ctl {

namespace {

std::string see_help(const std::string& command) {
  return " (see gatekeeper-ctl " + command + " --help)";
}

const OptionSpec* find_option(const CommandSpec& spec, std::string_view name) {
  const auto it = std::find_if(spec.options.begin(), spec.options.end(),
                               [&](const OptionSpec& o) { return o.name == name; });
  return it == spec.options.end() ? nullptr : &*it;
}

}  // namespace

std::optional<std::string> ParsedArgs::value(std::string_view name) const {
  const auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string ParsedArgs::value_or(std::string_view name, std::string fallback) const {
  auto v = value(name);
  return v ? *v : std::move(fallback);
}

std::string ParsedArgs::required(std::string_view name) const {
  auto v = value(name);
  if (!v) throw UsageError(std::string(name) + " is required" + see_help(command_));
  return *v;
}

long long ParsedArgs::integer(std::string_view name, long long fallback, long long min,
                              long long max) const {
  const auto v = value(name);
  if (!v) return fallback;
  long long n = 0;
  const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n < min || n > max) {
    throw UsageError(std::string(name) + " must be an integer from " + std::to_string(min) +
                     " to " + std::to_string(max) + ", not '" + *v + "'");
  }
  return n;
}

ParsedArgs parse_args(const CommandSpec& spec, const std::vector<std::string>& args) {
  ParsedArgs parsed;
  parsed.command_ = spec.name;
  bool options_done = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (options_done || arg.size() < 2 || arg[0] != '-') {
      parsed.positionals_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    const auto eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const OptionSpec* option = find_option(spec, name);
    if (option == nullptr) {
      throw UsageError("unknown option " + name + see_help(spec.name));
    }
    if (option->value_name.empty()) {
      if (eq != std::string::npos) {
        throw UsageError(name + " takes no value" + see_help(spec.name));
      }
      parsed.flags_.insert(name);
      continue;
    }
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      throw UsageError(name + " needs a value (" + name + " " + option->value_name + ")");
    }
    if (!parsed.values_.emplace(name, value).second) {
      throw UsageError(name + " is given twice");
    }
  }
  if (parsed.positionals_.size() != spec.positionals.size()) {
    std::string expected;
    for (const auto& p : spec.positionals) expected += " " + p;
    if (parsed.positionals_.size() < spec.positionals.size()) {
      throw UsageError("missing " + spec.positionals[parsed.positionals_.size()] +
                       see_help(spec.name));
    }
    throw UsageError("unexpected argument '" + parsed.positionals_[spec.positionals.size()] + "'" +
                     see_help(spec.name));
  }
  return parsed;
}

std::string help_text(const CommandSpec& spec) {
  std::ostringstream out;
  out << "Usage: gatekeeper-ctl " << spec.name;
  for (const auto& p : spec.positionals) out << " " << p;
  if (!spec.options.empty()) out << " [options]";
  out << "\n\n" << spec.summary << "\n";
  if (!spec.description.empty()) out << "\n" << spec.description << "\n";
  std::size_t width = 6;  // "--help"
  for (const auto& o : spec.options) {
    width = std::max(width, o.name.size() + (o.value_name.empty() ? 0 : o.value_name.size() + 1));
  }
  out << "\nOptions:\n";
  // Help text wraps at 100 columns, continuation lines under the start of the text.
  auto line = [&](const std::string& left, const std::string& help) {
    const std::size_t indent = width + 4;
    const std::size_t room = indent < 60 ? 100 - indent : 40;
    out << "  " << left << std::string(width + 2 - left.size(), ' ');
    std::string_view rest(help);
    while (rest.size() > room) {
      auto cut = rest.rfind(' ', room);
      if (cut == std::string_view::npos || cut == 0) cut = room;
      out << rest.substr(0, cut) << "\n" << std::string(indent, ' ');
      rest.remove_prefix(std::min(rest.size(), cut + 1));
    }
    out << rest << "\n";
  };
  for (const auto& o : spec.options) {
    line(o.value_name.empty() ? o.name : o.name + " " + o.value_name, o.help);
  }
  line("--help", "print this text and exit");
  return out.str();
}

}  // namespace gk::ctl

#include "gatekeeper/api/api_tokens.h"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace gk {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

void add(std::vector<std::string>& out, std::string_view token) {
  token = trim(token);
  if (!token.empty()) out.emplace_back(token);
}

}  // namespace

ApiTokens::ApiTokens(const HttpConfig& config) {
  for (const auto& t : config.auth_tokens) add(tokens_, t);
  if (!config.auth_tokens_env.empty()) {
    if (const char* env = std::getenv(config.auth_tokens_env.c_str())) {
      std::string_view rest(env);
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        add(tokens_, rest.substr(0, comma));
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    }
  }
  if (!config.auth_tokens_file.empty()) {
    std::ifstream in(config.auth_tokens_file);
    if (!in) {
      throw std::runtime_error("cannot read http.auth_tokens_file = " + config.auth_tokens_file);
    }
    std::string line;
    while (std::getline(in, line)) {
      if (!trim(line).starts_with('#')) add(tokens_, line);
    }
  }
}

bool ApiTokens::accepts(std::string_view candidate) const noexcept {
  unsigned match = 0;
  for (const auto& token : tokens_) {
    // Walk the whole candidate against every token, no early exit on the first difference.
    unsigned diff = token.size() == candidate.size() ? 0U : 1U;
    for (std::size_t i = 0; i < candidate.size(); ++i) {
      const char t = token.empty() ? '\0' : token[i % token.size()];
      diff |= static_cast<unsigned char>(t ^ candidate[i]);
    }
    match |= diff == 0 ? 1U : 0U;
  }
  return match != 0 && !candidate.empty();
}

}  // namespace gk

#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"

namespace gk {

// The accepted X-XNG-AuthToken values, from the config, the environment variable it names
// (comma-separated) and the token file it names (one per line, `#` comments), read once at
// start-up. Tokens are never logged, only counted.
class ApiTokens {
 public:
  // Throws std::runtime_error naming http.auth_tokens_file when that file cannot be read:
  // a configured secret that is silently missing would lock every client out.
  explicit ApiTokens(const HttpConfig& config);
  // For tests.
  explicit ApiTokens(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}

  // Compares against every token in time that depends only on the lengths, not on where
  // the first difference is, so the answer time reveals nothing about a token's content.
  bool accepts(std::string_view candidate) const noexcept;
  std::size_t size() const noexcept { return tokens_.size(); }

 private:
  std::vector<std::string> tokens_;
};

}  // namespace gk

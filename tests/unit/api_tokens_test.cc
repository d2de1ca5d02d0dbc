// API tokens: the three sources and the comparison.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "gatekeeper/api/api_tokens.h"
#include "tests/support/process.h"

using namespace gk;

TEST_CASE("api tokens: config, environment and file are all accepted", "[auth]") {
  gk::test::TempDir dir;
  HttpConfig http;
  http.auth_tokens = {"from-config"};
  http.auth_tokens_env = "GK_TEST_API_TOKENS";
  ::setenv("GK_TEST_API_TOKENS", " env-1 , env-2,,", 1);
  http.auth_tokens_file = dir.write("tokens", "# a comment\nfile-1\n\n  file-2\r\n");
  const ApiTokens tokens(http);
  ::unsetenv("GK_TEST_API_TOKENS");
  CHECK(tokens.size() == 5);
  for (const char* t : {"from-config", "env-1", "env-2", "file-1", "file-2"}) {
    INFO(t);
    CHECK(tokens.accepts(t));
  }
  for (const char* t : {"", "from-confi", "from-configx", "FROM-CONFIG", "# a comment", "env-1 "}) {
    INFO(t);
    CHECK_FALSE(tokens.accepts(t));
  }
}

TEST_CASE("api tokens: an unreadable token file stops start-up", "[auth]") {
  HttpConfig http;
  http.auth_tokens_env = "";
  http.auth_tokens_file = "/nonexistent/tokens";
  CHECK_THROWS_WITH(ApiTokens(http), Catch::Contains("http.auth_tokens_file"));
}

TEST_CASE("api tokens: none configured accepts nothing", "[auth]") {
  const ApiTokens tokens(std::vector<std::string>{});
  CHECK_FALSE(tokens.accepts(""));
  CHECK_FALSE(tokens.accepts("anything"));
}

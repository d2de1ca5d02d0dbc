// Logs as operators read them: JSON lines that parse, a startup line without secrets.
#include <catch2/catch.hpp>

#include <sstream>

#include "tests/support/ports.h"
#include "tests/support/rig.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_CASE("logging: JSON lines parse and the startup line redacts secrets", "[e2e][logging]") {
  Rig rig;
  rig.opts.log_format = "json";
  rig.opts.auth_token = "very-secret-token-123";
  const std::string curve_secret = "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
  rig.opts.extra_toml = "[curve]\nenabled = false\nsecret_key = \"" + curve_secret + "\"\n";
  rig.start();
  // A message whose id needs escaping must not break the line it is logged in.
  rig.sender->send(Frames{pack(json{{"id", "quote\"and\\backslash"}, {"channel", "MAIL"}}), "p"});
  REQUIRE(rig.collect(1).size() == 1);

  const std::string log = rig.gk->log();
  CHECK(log.find("very-secret-token-123") == std::string::npos);
  CHECK(log.find(curve_secret) == std::string::npos);
  std::istringstream lines(log);
  int parsed = 0;
  bool startup = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) continue;
    INFO(line);
    const json entry = json::parse(line);  // throws, failing the test, on a broken line
    CHECK(entry.contains("ts"));
    CHECK(entry.contains("level"));
    const std::string msg = entry.at("msg");
    if (msg.find("starting with") != std::string::npos) {
      startup = true;
      CHECK(msg.find("<redacted>") != std::string::npos);
      CHECK(msg.find("\"auth_tokens\":\"1 configured\"") != std::string::npos);
    }
    ++parsed;
  }
  CHECK(startup);
  CHECK(parsed >= 3);
  CHECK(log.find("quote\\\"and") != std::string::npos);  // the malformed-message debug line
}

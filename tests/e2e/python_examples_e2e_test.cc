// The Python example sender and adapter (scripts/demo_sender.py, scripts/demo_adapter.py, on
// Debian's python3-zmq and python3-msgpack) against the built gatekeeper: what the examples
// show a platform team must keep working.
#include <signal.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <sstream>

#include "tests/support/gatekeeper_process.h"
#include "tests/support/process.h"
#include "tests/support/redis_server.h"
#include "tests/support/skip.h"

using namespace gk::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kPython = "/usr/bin/python3";

std::string script(const std::string& name) {
  return std::string(GK_SOURCE_DIR) + "/scripts/" + name;
}

// The interpreter and both modules the examples import.
bool python_ready() {
  if (!std::filesystem::exists(kPython)) return false;
  TempDir dir;
  Process probe({kPython, "-c", "import zmq, msgpack"}, dir.file("probe.log"));
  const auto status = probe.wait(30s);
  return status && *status == 0;
}

}  // namespace

TEST_CASE("e2e python: the example sender and adapters account for every message",
          "[e2e][python]") {
  if (!prerequisite(python_ready(), std::string(kPython) +
                                        " with the zmq and msgpack modules is absent "
                                        "(scripts/setup installs python3, python3-zmq and "
                                        "python3-msgpack)")) {
    return;
  }
  RedisServer redis;
  // The statuses the examples' batch is written against (as scripts/demo seeds them).
  redis.hset("gk:u::bob", "MAIL", "1");
  redis.hset("gk:u::carol", "ALL", "1");
  redis.hset("gk:u::mallory", "BLACKLIST", "1");
  redis.hset("gk:l:shop:dave@example.com", "SMS", "1");
  GatekeeperOptions opts;
  opts.redis_port = redis.port();
  opts.log_level = "info";
  GatekeeperProcess gk(opts);
  REQUIRE(gk.wait_ready());

  TempDir dir;
  const std::string delivered = dir.file("delivered");
  Process mail({kPython, script("demo_adapter.py"), "MAIL", gk.mail(), "--record", delivered},
               dir.file("mail.log"));
  Process sms({kPython, script("demo_adapter.py"), "SMS", gk.sms(), "--record", delivered},
              dir.file("sms.log"));
  Process sender({kPython, script("demo_sender.py"), "--messages", gk.messages(), "--decisions",
                  gk.decisions(), "--delivered", delivered, "--timeout", "30"},
                 dir.file("sender.log"));

  const auto status = sender.wait(60s);
  const std::string out = sender.log();
  INFO("sender:\n" << out << "\nMAIL adapter:\n" << mail.log() << "\nSMS adapter:\n" << sms.log());
  REQUIRE(status);
  CHECK(*status == 0);
  CHECK_THAT(out, Catch::Contains("summary: sent=12 forwarded=3 suppressed=6 rejected=3"));
  // The sender's table: one row per message, "<id> <scenario> <outcome>".
  const std::map<std::string, std::string> expected = {
      {"m1", "forwarded to MAIL"},        {"m2", "suppressed opt_out:MAIL"},
      {"m3", "forwarded to SMS"},         {"m4", "suppressed opt_out:ALL"},
      {"m5", "suppressed blacklisted"},   {"m6", "forwarded to MAIL"},
      {"m7", "suppressed opt_out:ALL"},   {"m8", "rejected no_address"},
      {"m9", "rejected unknown_channel"}, {"m10", "suppressed opt_out:MAIL"},
      {"m11", "suppressed opt_out:SMS"},
  };
  std::map<std::string, std::string> rows;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    const auto space = line.find(' ');
    const std::string id = line.substr(0, space);
    if (expected.count(id) != 0 && line.size() > 51) rows[id] = line.substr(51);
  }
  CHECK(rows == expected);
  CHECK_THAT(out, Catch::Contains("rejected   malformed"));
  CHECK_THAT(mail.log(), Catch::Contains("[MAIL adapter] deliver id=m1 to=alice@example.com"));
  CHECK_THAT(sms.log(), Catch::Contains("[SMS adapter] deliver id=m3 to=+15550101"));

  // The adapters stop on SIGTERM with status 0, as a service manager expects.
  mail.signal(SIGTERM);
  sms.signal(SIGTERM);
  CHECK(mail.wait(10s) == 0);
  CHECK(sms.wait(10s) == 0);
}

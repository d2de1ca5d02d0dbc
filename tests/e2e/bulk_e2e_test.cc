// gatekeeper-ctl import / export against the built binary (PROTOCOL.md 12): bad rows are
// reported with their line and skipped while the rest apply, export then import into an
// empty store reproduces every status, --dry-run writes nothing, the one-column ESP list.
// The million-row import and its throughput live in bench/ (gk-bench import).
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

#include "tests/e2e/address_support.h"
#include "tests/support/process.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct CtlRun {
  int status = -1;
  std::string out;
  std::string err;
};

CtlRun ctl(TempDir& dir, const std::vector<std::string>& args, int http_port) {
  // Files of their own per run: the harness appends to a log that exists.
  static int runs = 0;
  const std::string n = std::to_string(++runs);
  std::vector<std::string> argv = {"/usr/bin/env",
                                   "GK_CTL_ERR=" + dir.file("stderr" + n),
                                   "GATEKEEPER_TOKEN=" + std::string(kAddrToken),
                                   "GATEKEEPER_HTTP=http://127.0.0.1:" + std::to_string(http_port),
                                   "/bin/sh",
                                   "-c",
                                   R"(exec "$0" "$@" 2>"$GK_CTL_ERR")",
                                   GK_CTL_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p(argv, dir.file("stdout" + n));
  CtlRun r;
  const auto status = p.wait(120s);
  r.status = status ? *status : -1;
  r.out = p.log();
  std::ifstream err(dir.file("stderr" + n));
  r.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
  return r;
}

std::vector<std::string> sorted_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  std::sort(out.begin(), out.end());
  return out;
}

std::string hget(RedisServer& redis, const std::string& key, const std::string& field) {
  auto r = redis.command({"HGET", key, field});
  return r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : std::string();
}

}  // namespace

TEST_CASE("e2e bulk: bad rows are reported by line and skipped, the rest apply", "[e2e][bulk]") {
  RedisServer redis;
  AddrRig rig(addr_options(redis.port()));
  rig.start();
  TempDir dir;
  const std::string file = dir.file("statuses.csv");
  constexpr int kRows = 20000;
  {
    std::ofstream out(file);
    out << "kind,businessUnit,key,field,value,timestamp,reason\n";
    for (int i = 1; i <= kRows; ++i) {
      if (i % 1000 == 0) {
        out << "user,,bad-" << i << ",NOT_A_CHANNEL,1,1700000000000,\n";
      } else {
        out << "user,bu,u" << i << "," << (i % 2 ? "MAIL" : "ALL") << ",1,1700000000000,\n";
      }
    }
  }
  SECTION("dry run writes nothing") {
    const CtlRun r = ctl(dir, {"import", file, "--dry-run"}, rig.opts.http_port);
    CHECK(r.status == 1);
    const json summary = json::parse(r.out);
    CHECK(summary["applied"] == kRows - kRows / 1000);
    CHECK(summary["dryRun"] == true);
    CHECK(redis.command({"DBSIZE"})->integer <= 1);  // nothing but maybe the events stream
  }
  SECTION("applied") {
    const CtlRun r = ctl(dir, {"import", file}, rig.opts.http_port);
    CHECK(r.status == 1);
    const json summary = json::parse(r.out);
    CHECK(summary["rows"] == kRows);
    CHECK(summary["failed"] == kRows / 1000);
    CHECK(summary["changed"] == kRows - kRows / 1000);
    // Line = row + 1 (the header is line 1).
    CHECK(r.err.find(file + ":1001: unknown field 'NOT_A_CHANNEL'") != std::string::npos);
    CHECK(r.err.find(file + ":20001:") != std::string::npos);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == kRows / 1000);
    CHECK(hget(redis, "gk:u:bu:u1", "MAIL") == "1");
    CHECK(hget(redis, "gk:u:bu:u1", "MAIL:ts") == "1700000000000");
    CHECK(hget(redis, "gk:u:bu:u19998", "ALL") == "1");
    CHECK(redis.command({"EXISTS", "gk:u::bad-1000"})->integer == 0);
    CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL", {{"id", "u3"}, {"bu", "bu"}},
                                 "a@b.c") == "suppressed/opt_out:MAIL");
    // Last writer wins by the row's time: an older row changes nothing.
    std::ofstream(dir.file("old.csv")) << "user,bu,u1,MAIL,0,1600000000000,\n";
    const CtlRun old = ctl(dir, {"import", dir.file("old.csv")}, rig.opts.http_port);
    CHECK(old.status == 0);
    CHECK(json::parse(old.out)["applied"] == 0);
    CHECK(hget(redis, "gk:u:bu:u1", "MAIL") == "1");
  }
}

TEST_CASE("e2e bulk: export then import into an empty store reproduces every status",
          "[e2e][bulk]") {
  RedisServer redis;
  AddrRig rig(addr_options(redis.port()));
  rig.start();
  TempDir dir;
  REQUIRE(rig.call("PUT", "/users/alice/optout-status?channelType=MAIL", R"({"optOut": true})")
              .status == 200);
  REQUIRE(
      rig.call("PUT", "/users/alice/blacklist-status?businessUnit=b2", R"({"blacklisted": true})")
          .status == 200);
  REQUIRE(rig.call("PUT", "/users/bob/optout-status", R"({"optOut": false})").status == 200);
  REQUIRE(rig.event({{"email", "Lead@Example.com"},
                     {"events", json::array({{{"event", "Opt Out"}, {"channel.type", "SMS"}}})}})
              .status == 202);
  REQUIRE(rig.call("PUT", "/addresses/MAIL/bounced@example.com",
                   R"({"suppressed": true, "reason": "bounce"})")
              .status == 200);
  REQUIRE(rig.call("PUT", "/addresses/SMS/+15550000001",
                   R"({"suppressed": true, "reason": "sms_stop"})")
              .status == 200);
  REQUIRE(rig.call("PUT", "/addresses/SMS/+15550000002", R"({"suppressed": false})").status == 200);
  redis.command(
      {"HSET", "gk:u::carol", "topic:newsletter", "1", "topic:newsletter:ts", "1700000000001"});
  redis.command({"HSET", "gk:u::has,comma", "PUSH_NOTIFICATION", "1", "PUSH_NOTIFICATION:ts",
                 "1700000000002"});

  const CtlRun first = ctl(dir, {"export"}, rig.opts.http_port);
  REQUIRE(first.status == 0);
  const auto rows = sorted_lines(first.out);
  CHECK(std::find(rows.begin(), rows.end(), "kind,businessUnit,key,field,value,timestamp,reason") !=
        rows.end());
  CHECK(rows.size() == 1 + 2 + 1 + 1 + 3 + 1 + 1);
  std::ofstream(dir.file("export.csv")) << first.out;

  redis.command({"FLUSHALL"});
  const CtlRun imported = ctl(dir, {"import", dir.file("export.csv")}, rig.opts.http_port);
  CHECK(imported.status == 0);
  INFO(imported.err);
  const CtlRun second = ctl(dir, {"export"}, rig.opts.http_port);
  REQUIRE(second.status == 0);
  CHECK(sorted_lines(second.out) == rows);
  CHECK(rig.eventually_outcome("suppressed/address:bounce", "MAIL", {{"id", "zed"}},
                               "bounced@example.com") == "suppressed/address:bounce");
}

TEST_CASE("e2e bulk: an ESP's one-column list with --as address:MAIL:manual", "[e2e][bulk]") {
  RedisServer redis;
  AddrRig rig(addr_options(redis.port()));
  rig.start();
  TempDir dir;
  std::ofstream(dir.file("esp.txt"))
      << "email\nOne@Example.com\n\n two@example.com \nnot an address\n";
  const CtlRun r =
      ctl(dir, {"import", dir.file("esp.txt"), "--as", "address:MAIL:manual"}, rig.opts.http_port);
  CHECK(r.status == 1);
  CHECK(r.err.find("esp.txt:5:") != std::string::npos);
  CHECK(hget(redis, "gk:a:MAIL:one@example.com", "reason") == "manual");
  CHECK(hget(redis, "gk:a:MAIL:two@example.com", "suppressed") == "1");
  const CtlRun bad = ctl(dir, {"import", dir.file("esp.txt"), "--as", "MAIL"}, rig.opts.http_port);
  CHECK(bad.status == 2);
}

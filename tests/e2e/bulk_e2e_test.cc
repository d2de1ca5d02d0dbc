// gatekeeper-ctl import / export against the built binary (PROTOCOL.md 12): bad rows are
// reported with their line and skipped while the rest apply, each changed row leaves a
// history entry and a system event with source `import`, --dry-run writes nothing, export
// then import into an empty store reproduces every status (one server and a cluster), a
// row for a linked email reaches the user, and an ESP's one-column list. The million-row
// import and its throughput live in bench/ (gk-bench import).
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <sstream>

#include "tests/e2e/ctl_run.h"
#include "tests/support/api_rig.h"
#include "tests/support/process.h"
#include "tests/support/redis_cluster.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> sorted_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  std::sort(out.begin(), out.end());
  return out;
}

// Statuses of every kind, written through the API, events and as another job would.
void seed(ApiRig& rig, const std::function<void(const std::vector<std::string>&)>& write) {
  REQUIRE(rig.call("PUT", "/users/alice/optout-status?channelType=MAIL", R"({"optOut": true})")
              .status == 200);
  REQUIRE(
      rig.call("PUT", "/users/alice/blacklist-status?businessUnit=b2", R"({"blacklisted": true})")
          .status == 200);
  REQUIRE(rig.call("PUT", "/users/bob/optout-status", R"({"optOut": false})").status == 200);
  REQUIRE(rig.call("POST", "/events",
                   json{{"email", "Lead@Example.com"},
                        {"events", json::array({{{"event", "Opt Out"}, {"channel.type", "SMS"}}})}}
                       .dump())
              .status == 202);
  write({"HSET", "gk:u::carol", "topic:newsletter", "1", "topic:newsletter:ts", "1700000000001"});
  write({"HSET", "gk:u::has,comma \"q\"", "PUSH_NOTIFICATION", "1", "PUSH_NOTIFICATION:ts",
         "1700000000002"});
  write({"HSET", "gk:u::no-time", "WEBHOOK", "1"});
  write({"HSET", "gk:a:MAIL:bounced@example.com", "suppressed", "1", "reason", "bounce",
         "suppressed:ts", "1700000000003"});
  write({"HSET", "gk:a:SMS:+15550000001", "suppressed", "0", "reason", "sms_stop", "suppressed:ts",
         "1700000000004"});
}

// The rows seed() leaves, as export writes them (sorted, header included).
constexpr std::size_t kSeededRows = 1 + 2 + 1 + 1 + 1 + 1 + 1 + 2;

}  // namespace

TEST_CASE("e2e bulk: bad rows are reported by line and skipped, the rest apply", "[e2e][bulk]") {
  ApiRig rig;
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
      } else if (i % 10 == 0) {
        out << "address,,A" << i << "@Example.org,EMAIL,1,1700000000000,bounce\n";
      } else {
        out << "user,bu,u" << i << "," << (i % 2 ? "mail" : "ALL") << ",1,1700000000000,\n";
      }
    }
  }
  constexpr int kBad = kRows / 1000;
  SECTION("a dry run reports and writes nothing") {
    const CtlRun r = ctl(dir, {"import", file, "--dry-run"}, rig.opts.http_port);
    CHECK(r.status == 1);
    const json summary = json::parse(r.out);
    CHECK(summary["rows"] == kRows);
    CHECK(summary["applied"] == kRows - kBad);
    CHECK(summary["changed"] == kRows - kBad);
    CHECK(summary["dryRun"] == true);
    CHECK(count_of(r.err, "statuses.csv:") == kBad);
    // Nothing but the stream the rig's start-up probe wrote to.
    const auto keys = rig.redis.command({"KEYS", "*"});
    REQUIRE(keys->elements <= 1);
    if (keys->elements == 1) CHECK(std::string(keys->element[0]->str) == "gk:events");
  }
  SECTION("applied, last writer wins, one history entry and system event per change") {
    const CtlRun r = ctl(dir, {"import", file}, rig.opts.http_port);
    INFO(r.err);
    CHECK(r.status == 1);
    const json summary = json::parse(r.out);
    CHECK(summary["rows"] == kRows);
    CHECK(summary["failed"] == kBad);
    CHECK(summary["changed"] == kRows - kBad);
    // Line = row + 1 (the header is line 1).
    CHECK(r.err.find(file + ":1001: unknown field 'NOT_A_CHANNEL'") != std::string::npos);
    CHECK(r.err.find(file + ":20001: ") != std::string::npos);
    CHECK(count_of(r.err, "statuses.csv:") == kBad);
    // Nothing else on stderr: progress is only for a terminal.
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == kBad);
    CHECK(r.err.find('\r') == std::string::npos);
    CHECK(rig.hget("gk:u:bu:u1", "MAIL") == "1");
    CHECK(rig.hget("gk:u:bu:u1", "MAIL:ts") == "1700000000000");
    CHECK(rig.hget("gk:u:bu:u19998", "ALL") == "1");
    CHECK(rig.hget("gk:a:MAIL:a10@example.org", "suppressed") == "1");
    CHECK(rig.hget("gk:a:MAIL:a10@example.org", "reason") == "bounce");
    CHECK(rig.redis.command({"EXISTS", "gk:u::bad-1000"})->integer == 0);
    CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL", {{"id", "u3"}, {"bu", "bu"}},
                                 {{"to", "a@b.c"}}));
    // The person's history, as the API answers it.
    const auto history = rig.call("GET", "/users/u1/optout-history?businessUnit=bu");
    REQUIRE(history.status == 200);
    INFO(history.raw);
    REQUIRE(history.body.dump().find("\"source\":\"import\"") != std::string::npos);
    CHECK(history.body.dump().find("\"event\":\"Opt Out\"") != std::string::npos);
    // A system event per changed row in the stream, source import.
    const auto stream = rig.stream();
    const auto imported = std::count_if(stream.begin(), stream.end(), [](const auto& e) {
      return e.count("source") && e.at("source") == "import";
    });
    CHECK(imported == kRows - kBad);
    const auto address = std::find_if(stream.begin(), stream.end(), [](const auto& e) {
      return e.count("address") && e.at("address") == "a10@example.org";
    });
    REQUIRE(address != stream.end());
    CHECK(address->at("event") == "Address Suppressed");
    CHECK(address->at("reason") == "bounce");
    CHECK(address->at("channel.type") == "MAIL");

    // Again: nothing changes, nothing is published.
    const CtlRun again = ctl(dir, {"import", file}, rig.opts.http_port);
    CHECK(json::parse(again.out)["changed"] == 0);
    CHECK(json::parse(again.out)["applied"] == kRows - kBad);
    CHECK(rig.stream().size() == stream.size());
    // Last writer wins by the row's time: an older row changes nothing.
    std::ofstream(dir.file("old.csv")) << "user,bu,u1,MAIL,0,1600000000000,\n";
    const CtlRun old = ctl(dir, {"import", dir.file("old.csv")}, rig.opts.http_port);
    CHECK(old.status == 0);
    CHECK(json::parse(old.out)["applied"] == 0);
    CHECK(rig.hget("gk:u:bu:u1", "MAIL") == "1");
  }
}

TEST_CASE("e2e bulk: rows that are wrong in every way are named, none crash", "[e2e][bulk]") {
  ApiRig rig;
  rig.start();
  TempDir dir;
  std::ofstream(dir.file("bad.csv")) << "user,,u1,MAIL,1,1700000000000,\n"        // 1 good
                                     << "robot,,u1,MAIL,1,1700000000000,\n"       // 2 kind
                                     << "user,,u1,MAIL,yes,1700000000000,\n"      // 3 value
                                     << "user,,u1,MAIL,1,yesterday,\n"            // 4 timestamp
                                     << "user,,u1,MAIL,1\n"                       // 5 columns
                                     << "user,a:b,u1,MAIL,1,1700000000000,\n"     // 6 bu
                                     << "lead,,not-an-email,MAIL,1,1,\n"          // 7 email
                                     << "address,,+1 (555) 12-34,SMS,1,1,nope\n"  // 8 reason
                                     << "address,,x,SMS,1,1,\n"                   // 9 phone
                                     << "user,,\"u1,MAIL,1,1,\n"                  // 10 quote
                                     << "address,,+1 (555) 12-34,SMS,1,1,\n";     // 11 good
  const CtlRun r = ctl(dir, {"import", dir.file("bad.csv")}, rig.opts.http_port);
  CHECK(r.status == 1);
  INFO(r.err);
  CHECK(json::parse(r.out)["failed"] == 9);
  CHECK(json::parse(r.out)["applied"] == 2);
  for (const char* expected :
       {"bad.csv:2: unknown kind 'robot'", "bad.csv:3: value must be 1 or 0",
        "bad.csv:4: timestamp must be ms since the epoch", "bad.csv:5: expected 7 columns",
        "bad.csv:6: businessUnit", "bad.csv:7: key (email)", "bad.csv:8: unknown reason 'nope'",
        "bad.csv:9: the address is not a phone number",
        "bad.csv:10: a quoted field is not closed"}) {
    CHECK(r.err.find(expected) != std::string::npos);
  }
  CHECK(rig.hget("gk:a:SMS:+15551234", "reason") == "manual");
  CHECK(rig.call("GET", "/healthz").status == 200);
  // A server answer, too, for a bad query.
  CHECK(rig.call("POST", "/import?dryRun=maybe", "").status == 400);
  CHECK(rig.call("GET", "/export?cursor=nonsense").status == 400);
  CHECK(rig.call("POST", "/import", "user,,u1,MAIL,1,1,\n", std::nullopt).status == 401);
}

TEST_CASE("e2e bulk: export then import into an empty store reproduces every status",
          "[e2e][bulk]") {
  ApiRig rig;
  rig.start();
  TempDir dir;
  seed(rig, [&](const std::vector<std::string>& args) { rig.redis.command(args); });
  const CtlRun first = ctl(dir, {"export", "--page", "3"}, rig.opts.http_port);
  INFO(first.err);
  REQUIRE(first.status == 0);
  const auto rows = sorted_lines(first.out);
  CHECK(std::count(rows.begin(), rows.end(),
                   "kind,businessUnit,key,field,value,timestamp,reason") == 1);
  CHECK(rows.size() == kSeededRows);
  CHECK(std::count(rows.begin(), rows.end(), "user,,no-time,WEBHOOK,1,0,") == 1);
  CHECK(std::count(rows.begin(), rows.end(),
                   "address,,bounced@example.com,MAIL,1,1700000000003,bounce") == 1);
  std::ofstream(dir.file("export.csv")) << first.out;

  rig.redis.command({"FLUSHALL"});
  const CtlRun imported = ctl(dir, {"import", dir.file("export.csv")}, rig.opts.http_port);
  INFO(imported.err);
  CHECK(imported.status == 0);
  const CtlRun second = ctl(dir, {"export"}, rig.opts.http_port);
  REQUIRE(second.status == 0);
  CHECK(sorted_lines(second.out) == rows);
  CHECK(rig.eventually_outcome("suppressed/opt_out:SMS", "SMS", {{"email", "lead@example.com"}},
                               {{"to", "+15550000009"}}));
}

TEST_CASE("e2e bulk: export then import reproduces every status on a Redis Cluster",
          "[e2e][bulk][cluster]") {
  RedisCluster cluster(3, 0);
  ApiRig rig;
  rig.opts.redis_port = cluster.ports()[0];
  std::string seeds;
  for (const std::string& s : cluster.seeds()) seeds += (seeds.empty() ? "\"" : ", \"") + s + "\"";
  rig.opts.redis_extra = "cluster = [" + seeds + "]";
  rig.start();
  TempDir dir;
  const auto write = [&](const std::vector<std::string>& args) { cluster.routed(args[1], args); };
  seed(rig, write);
  // Enough keys that every primary holds some.
  for (int i = 0; i < 300; ++i) {
    const std::string key = "gk:u:bu:many" + std::to_string(i);
    write({"HSET", key, "SMS", std::to_string(i % 2), "SMS:ts", std::to_string(1000 + i)});
  }
  const CtlRun first = ctl(dir, {"export", "--page", "50"}, rig.opts.http_port);
  INFO(first.err);
  REQUIRE(first.status == 0);
  const auto rows = sorted_lines(first.out);
  CHECK(rows.size() == kSeededRows + 300);
  std::ofstream(dir.file("export.csv")) << first.out;

  for (int port : cluster.primary_ports()) cluster.command(port, {"FLUSHALL"});
  const CtlRun imported = ctl(dir, {"import", dir.file("export.csv")}, rig.opts.http_port);
  INFO(imported.err);
  CHECK(imported.status == 0);
  CHECK(json::parse(imported.out)["changed"] == 150 + 7);  // every set value; 0s change nothing
  const CtlRun second = ctl(dir, {"export"}, rig.opts.http_port);
  REQUIRE(second.status == 0);
  CHECK(sorted_lines(second.out) == rows);
  CHECK(rig.eventually_outcome("suppressed/opt_out:MAIL", "MAIL", {{"id", "alice"}},
                               {{"to", "a@example.com"}}));
}

TEST_CASE("e2e bulk: a row for a linked email changes the user, as the API would", "[e2e][bulk]") {
  ApiRig rig;
  rig.start();
  TempDir dir;
  // The email joins user u9 (an event naming both links them).
  REQUIRE(rig.call("POST", "/events",
                   json{{"id", "u9"},
                        {"email", "Linked@Example.com"},
                        {"events", json::array({{{"event", "Opt In"}, {"channel.type", "SMS"}}})}}
                       .dump())
              .status == 202);
  REQUIRE(rig.redis.command({"GET", "gk:id::linked@example.com"})->type == REDIS_REPLY_STRING);
  std::ofstream(dir.file("linked.csv")) << "lead,,LINKED@example.com,MAIL,1,1700000000000,\n"
                                        << "user,,u9,PUSH_NOTIFICATION,1,1700000000000,\n";
  const CtlRun r = ctl(dir, {"import", dir.file("linked.csv")}, rig.opts.http_port);
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(json::parse(r.out)["changed"] == 2);
  CHECK(rig.hget("gk:u::u9", "MAIL") == "1");
  CHECK(rig.hget("gk:u::u9", "PUSH_NOTIFICATION") == "1");
  CHECK(rig.redis.command({"EXISTS", "gk:l::linked@example.com"})->integer == 0);
}

TEST_CASE("e2e bulk: an ESP's one-column list with --as address:MAIL:manual", "[e2e][bulk]") {
  ApiRig rig;
  rig.start();
  TempDir dir;
  std::ofstream(dir.file("esp.txt"))
      << "email\r\nOne@Example.com\r\n\r\n two@example.com \r\nnot an address\r\n";
  const CtlRun r =
      ctl(dir, {"import", dir.file("esp.txt"), "--as", "address:MAIL:manual"}, rig.opts.http_port);
  CHECK(r.status == 1);
  INFO(r.err);
  CHECK(r.err.find("esp.txt:5: ") != std::string::npos);
  CHECK(count_of(r.err, "esp.txt:") == 1);
  CHECK(json::parse(r.out)["rows"] == 3);
  CHECK(rig.hget("gk:a:MAIL:one@example.com", "reason") == "manual");
  CHECK(rig.hget("gk:a:MAIL:two@example.com", "suppressed") == "1");
  const CtlRun bad = ctl(dir, {"import", dir.file("esp.txt"), "--as", "MAIL"}, rig.opts.http_port);
  CHECK(bad.status == 2);
  CHECK(bad.err.find("--as must be address:<CHANNEL>:<reason>") != std::string::npos);
}

TEST_CASE("e2e bulk: progress goes to stderr when it is a terminal", "[e2e][bulk]") {
  ApiRig rig;
  rig.start();
  TempDir dir;
  {
    std::ofstream out(dir.file("rows.csv"));
    for (int i = 0; i < 300; ++i) out << "user,,t" << i << ",MAIL,1,1700000000000,\n";
  }
  // script(1) runs the ctl on a pseudo-terminal; stdout goes to a file, stderr stays on it.
  const std::string command =
      "GATEKEEPER_TOKEN=" + std::string(kApiToken) +
      " GATEKEEPER_HTTP=http://127.0.0.1:" + std::to_string(rig.opts.http_port) + " " +
      GK_CTL_PATH + " import --batch 100 " + dir.file("rows.csv") + " > " +
      dir.file("summary.json");
  Process p({"/usr/bin/script", "-qec", command, "/dev/null"}, dir.file("tty.log"));
  const auto status = p.wait(60s);
  REQUIRE(status);
  CHECK(*status == 0);
  INFO(p.log());
  CHECK(p.log().find("300 rows, 0 failed, ") != std::string::npos);
  CHECK(p.log().find(" rows/s") != std::string::npos);
  std::ifstream summary(dir.file("summary.json"));
  const json s = json::parse(summary);
  CHECK(s["changed"] == 300);
}

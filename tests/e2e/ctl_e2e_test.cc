// The built gatekeeper-ctl run as an operator runs it, against a real gatekeeper, Redis and
// ZeroMQ peers: status through the API, test messages, tails, the metrics summary, and the
// one-line errors with their exit statuses.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>

#include "tests/support/ports.h"
#include "tests/support/process.h"
#include "tests/support/rig.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct CtlResult {
  int status = -1;
  std::string out;
  std::string err;
};

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// One gatekeeper-ctl process with stdout and stderr kept apart (a shell splits them, since the
// harness's Process writes both to one log). The environment is the test's, less
// GATEKEEPER_TOKEN and GATEKEEPER_HTTP, plus `env` ("NAME=value" entries).
class Ctl {
 public:
  explicit Ctl(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv = {"/usr/bin/env",     "-u",
                                     "GATEKEEPER_TOKEN", "-u",
                                     "GATEKEEPER_HTTP",  "GK_CTL_ERR=" + dir_.file("stderr")};
    argv.insert(argv.end(), env.begin(), env.end());
    for (const auto& a : {"/bin/sh", "-c", R"(exec "$0" "$@" 2>"$GK_CTL_ERR")", GK_CTL_PATH}) {
      argv.emplace_back(a);
    }
    argv.insert(argv.end(), args.begin(), args.end());
    process_ = std::make_unique<Process>(argv, dir_.file("stdout"));
  }

  CtlResult finish(std::chrono::milliseconds timeout = 20s) {
    CtlResult r;
    const auto status = process_->wait(timeout);
    r.status = status ? *status : -1;
    r.out = process_->log();
    std::ifstream err(dir_.file("stderr"));
    r.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
    return r;
  }
  bool running() { return process_->running(); }

 private:
  TempDir dir_;
  std::unique_ptr<Process> process_;
};

CtlResult ctl(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  return Ctl(args, env).finish();
}

// A ctl failure: a non-zero status and exactly one line on stderr, nothing on stdout.
void check_one_line_error(const CtlResult& r, int status, const std::string& needle) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.status == status);
  CHECK(r.out.empty());
  CHECK(lines(r.err).size() == 1);
  CHECK_THAT(r.err, Catch::Contains(needle));
}

json json_line(const CtlResult& r) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.status == 0);
  REQUIRE(lines(r.out).size() == 1);
  return json::parse(r.out);
}

}  // namespace

TEST_CASE("e2e ctl: --help on every command and subcommand prints usage and exits 0",
          "[e2e][ctl]") {
  const std::vector<std::vector<std::string>> commands = {
      {},
      {"status"},
      {"status", "get"},
      {"status", "set"},
      {"blacklist"},
      {"blacklist", "get"},
      {"blacklist", "set"},
      {"recipient"},
      {"send"},
      {"tail"},
      {"tail", "decisions"},
      {"tail", "events"},
      {"metrics"},
      {"health"},
  };
  for (auto args : commands) {
    std::string name;
    for (const auto& a : args) name += " " + a;
    INFO("gatekeeper-ctl" << name << " --help");
    args.push_back("--help");
    const auto r = ctl(args);
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    CHECK_THAT(r.out, Catch::StartsWith("Usage: gatekeeper-ctl" + name));
    if (args.size() == 3 ||
        (args.size() == 2 && name != " status" && name != " blacklist" && name != " tail")) {
      CHECK_THAT(r.out, Catch::Contains("--help"));
    }
  }
}

TEST_CASE("e2e ctl: a bad command line is one line on stderr and exit status 2", "[e2e][ctl]") {
  check_one_line_error(ctl({}), 2, "no command given");
  check_one_line_error(ctl({"frobnicate"}), 2, "gatekeeper-ctl frobnicate: unknown command");
  check_one_line_error(ctl({"status"}), 2, "needs a subcommand");
  check_one_line_error(ctl({"status", "get"}), 2, "gatekeeper-ctl status get: missing ID");
  check_one_line_error(ctl({"status", "get", "bob", "--colour", "red"}), 2,
                       "unknown option --colour");
  check_one_line_error(ctl({"status", "set", "bob", "--channel", "MAIL", "--token", "t"}), 2,
                       "give --opt-out or --opt-in");
  check_one_line_error(ctl({"status", "set", "bob", "--opt-out", "--token", "t"}), 2,
                       "--channel is required");
  check_one_line_error(ctl({"status", "get", "bob"}), 2, "no API token");
  check_one_line_error(ctl({"status", "get", "bob", "--token", "t", "--http", "ftp://x"}), 2,
                       "--http must look like http://host:port");
  check_one_line_error(
      ctl({"tail", "decisions", "--endpoint", "tcp://127.0.0.1:1", "--count", "many"}), 2,
      "--count must be an integer");
  check_one_line_error(ctl({"send", "--channel", "MAIL", "--messages", "tcp://127.0.0.1:1"}), 2,
                       "header needs a user id or an email");
  check_one_line_error(
      ctl({"send", "--channel", "MAIL", "--user", "u", "--messages", "not-an-endpoint"}), 2,
      "is not a ZeroMQ endpoint");
}

TEST_CASE("e2e ctl: nothing listening is one line on stderr and exit status 1", "[e2e][ctl]") {
  const std::string nowhere = "http://127.0.0.1:" + std::to_string(free_port());
  check_one_line_error(ctl({"status", "get", "bob", "--token", "t", "--http", nowhere}), 1,
                       "cannot connect");
  check_one_line_error(ctl({"metrics", "--http", nowhere}), 1, "cannot connect");
  check_one_line_error(ctl({"send", "--channel", "MAIL", "--user", "u", "--timeout", "300",
                            "--messages", tcp_endpoint(free_port())}),
                       1, "no gatekeeper took the message within 300 ms");
  check_one_line_error(ctl({"tail", "decisions", "--endpoint", tcp_endpoint(free_port()), "--count",
                            "1", "--timeout", "300"}),
                       1, "got 0 of 1 decisions");
}

TEST_CASE("e2e ctl: status, blacklist and recipient go through the HTTP API", "[e2e][ctl]") {
  Rig rig;
  rig.start();
  const std::string http = rig.gk->http_base();
  const std::string token = rig.opts.auth_token;
  auto api = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--http", http, "--token", token});
    return json_line(ctl(args));
  };

  const json set = api({"status", "set", "bob", "--channel", "email", "--opt-out"});
  CHECK(set["optOut"] == true);
  CHECK(set["id"] == "bob");
  CHECK(rig.redis.hget("gk:u::bob", "MAIL") == "1");

  const json mail = api({"status", "get", "bob", "--channel", "MAIL"});
  CHECK(mail["optOut"] == true);
  CHECK(mail["effective"] == true);
  const json all = api({"status", "get", "bob"});
  CHECK(all["optOut"] == false);

  SECTION("the token and the URL can come from the environment") {
    const json env = json_line(ctl({"status", "get", "bob", "--channel", "SMS"},
                                   {"GATEKEEPER_TOKEN=" + token, "GATEKEEPER_HTTP=" + http}));
    CHECK(env["optOut"] == false);
  }
  SECTION("blacklist and recipient") {
    CHECK(api({"blacklist", "set", "bob", "--on"})["blacklisted"] == true);
    CHECK(api({"blacklist", "get", "bob"})["blacklisted"] == true);
    const json who = api({"recipient", "bob"});
    CHECK(who["blacklisted"] == true);
    CHECK(who["optOutAll"] == false);
    CHECK(who["optOutChannels"] == json::array({"MAIL"}));
    // The gatekeeper acts on it: even a realtime transactional message stays back.
    rig.sender->send(
        header("bl-1", "SMS", {{"id", "bob"}},
               {{"to", "+1"}, {"campaign", {{"type", "realtime"}, {"transactional", true}}}}),
        "p");
    auto d = rig.decisions->receive();
    REQUIRE(d);
    CHECK(unpack((*d)[0])["reason"] == "blacklisted");
    CHECK(api({"blacklist", "set", "bob", "--off"})["blacklisted"] == false);
  }
  SECTION("opting back in and a business unit") {
    CHECK(api({"status", "set", "bob", "--channel", "MAIL", "--opt-in"})["optOut"] == false);
    CHECK(rig.redis.hget("gk:u::bob", "MAIL") == "0");
    api({"status", "set", "carol", "--bu", "shop", "--channel", "ALL", "--opt-out"});
    CHECK(rig.redis.hget("gk:u:shop:carol", "ALL") == "1");
    CHECK(api({"status", "get", "carol", "--bu", "shop"})["optOut"] == true);
    CHECK(api({"status", "get", "carol"})["optOut"] == false);
  }
}

TEST_CASE("e2e ctl: health answers for container health checks", "[e2e][ctl]") {
  Rig rig;
  rig.start();
  const std::string http = rig.gk->http_base();
  CHECK(json_line(ctl({"health", "--http", http}))["status"] == "ok");
  CHECK(json_line(ctl({"health", "--ready", "--http", http}))["ready"] == true);

  // Without Redis the process is up but not ready: exit 1 with the reasons on one line.
  rig.redis.stop();
  REQUIRE(rig.gk->wait_ready(503));
  CHECK(json_line(ctl({"health", "--http", http}))["status"] == "ok");
  check_one_line_error(ctl({"health", "--ready", "--http", http}), 1, "HTTP 503");
}

TEST_CASE("e2e ctl: HTTP errors print the server's error text", "[e2e][ctl]") {
  Rig rig;
  rig.start();
  const std::string http = rig.gk->http_base();
  check_one_line_error(ctl({"status", "get", "bob", "--http", http, "--token", "wrong"}), 1,
                       "HTTP 401: missing or invalid X-XNG-AuthToken");
  check_one_line_error(ctl({"status", "get", "bob", "--channel", "FAX", "--http", http, "--token",
                            rig.opts.auth_token}),
                       1, "HTTP 400: unknown channelType 'FAX'");
}

TEST_CASE("e2e ctl: send delivers a test message to the channel adapter", "[e2e][ctl]") {
  Rig rig;
  rig.redis.hset("gk:u::carol", "ALL", "1");
  rig.start();
  const json sent =
      json_line(ctl({"send", "--channel", "MAIL", "--user", "u1", "--to", "u1@example.com", "--id",
                     "ctl-1", "--payload", "hello", "--messages", rig.gk->messages()}));
  CHECK(sent["header"]["id"] == "ctl-1");
  auto got = rig.mail->receive();
  REQUIRE(got);
  REQUIRE(got->size() == 2);
  const json h = unpack((*got)[0]);
  CHECK(h["id"] == "ctl-1");
  CHECK(h["user"]["id"] == "u1");
  CHECK(h["to"] == "u1@example.com");
  CHECK((*got)[1] == "hello");

  SECTION("realtime transactional passes an ALL opt-out, batch transactional does not") {
    json_line(ctl({"send", "--channel", "MAIL", "--user", "carol", "--to", "c@x", "--id", "rt",
                   "--realtime", "--transactional", "--messages", rig.gk->messages()}));
    auto rt = rig.mail->receive();
    REQUIRE(rt);
    CHECK(unpack((*rt)[0])["campaign"]["type"] == "realtime");
    json_line(ctl({"send", "--channel", "MAIL", "--user", "carol", "--to", "c@x", "--id", "btx",
                   "--transactional", "--messages", rig.gk->messages()}));
    auto d = rig.decisions->receive();
    REQUIRE(d);
    CHECK(unpack((*d)[0])["id"] == "btx");
    CHECK(unpack((*d)[0])["reason"] == "opt_out:ALL");
  }
}

TEST_CASE("e2e ctl: tail decisions prints a suppressed message as one JSON line", "[e2e][ctl]") {
  Rig rig;
  rig.redis.hset("gk:u::dora", "SMS", "1");
  rig.start();
  // The outlet deals decisions round-robin over its readers: only the tail may read now.
  rig.decisions.reset();
  Ctl tail({"tail", "decisions", "--endpoint", rig.gk->decisions(), "--count", "1"});
  int n = 0;
  // The tail connects asynchronously; keep sending until it has printed one.
  REQUIRE(eventually(
      [&] {
        rig.sender->send(
            header("sup-" + std::to_string(n++), "SMS", {{"id", "dora"}}, {{"to", "+15550100"}}),
            "secret payload");
        return !tail.running();
      },
      10s, 200ms));
  const json d = json_line(tail.finish());
  CHECK(d["verdict"] == "suppressed");
  CHECK(d["reason"] == "opt_out:SMS");
  CHECK(d["channel"] == "SMS");
  CHECK_THAT(d["id"].get<std::string>(), Catch::StartsWith("sup-"));
  CHECK(d["header"]["user"]["id"] == "dora");
  CHECK(d["payload_bytes"] == 14);
}

TEST_CASE("e2e ctl: tail events prints a status change made through the API", "[e2e][ctl]") {
  Rig rig;
  rig.start();
  Ctl tail({"tail", "events", "--endpoint", rig.gk->system_events(), "--count", "1"});
  // A subscription takes effect asynchronously; repeat the change until the tail has one.
  REQUIRE(eventually(
      [&] {
        ctl({"status", "set", "erin", "--channel", "MAIL", "--opt-out", "--http",
             rig.gk->http_base(), "--token", rig.opts.auth_token});
        return !tail.running();
      },
      10s, 100ms));
  const json e = json_line(tail.finish());
  CHECK(e["event"] == "Opt Out");
  CHECK(e["id"] == "erin");
  CHECK(e["channel.type"] == "MAIL");
  CHECK(e["source"] == "api");
}

TEST_CASE("e2e ctl: metrics prints the counts of the traffic so far", "[e2e][ctl]") {
  Rig rig;
  rig.redis.hset("gk:u::frank", "MAIL", "1");
  rig.start();
  rig.sender->send(header("ok", "MAIL", {{"id", "gina"}}, {{"to", "g@x"}}), "p");
  rig.sender->send(header("out", "MAIL", {{"id", "frank"}}, {{"to", "f@x"}}), "p");
  rig.sender->send(header("fax", "FAX", {{"id", "gina"}}, {{"to", "1"}}), "p");
  const auto outcomes = rig.collect(3);
  REQUIRE(outcomes.size() == 3);

  const std::string http = rig.gk->http_base();
  const json s = json_line(ctl({"metrics", "--json", "--http", http}));
  CHECK(s["messages"]["received"] == 3);
  CHECK(s["messages"]["forwarded"] == 1);
  CHECK(s["messages"]["suppressed"] == 1);
  CHECK(s["messages"]["rejected"] == 1);
  CHECK(s["messages"]["held"] == 0);
  CHECK(s["reasons"] == json{{"opt_out:MAIL", 1}, {"unknown_channel", 1}});
  CHECK(s["redis"]["up"] == true);
  CHECK(s["cache"]["misses"].get<long long>() >= 1);

  const auto text = ctl({"metrics", "--http", http});
  INFO(text.out << text.err);
  CHECK(text.status == 0);
  CHECK_THAT(text.out, Catch::Contains("received 3  forwarded 1  suppressed 1  rejected 1"));
  CHECK_THAT(text.out, Catch::Contains("opt_out:MAIL 1"));
  CHECK_THAT(text.out, Catch::Contains("redis     up"));
}

TEST_CASE("e2e ctl: send speaks CURVE to a gatekeeper that requires it", "[e2e][ctl]") {
  char server_public[41], server_secret[41], client_public[41], client_secret[41];
  REQUIRE(zmq_curve_keypair(server_public, server_secret) == 0);
  REQUIRE(zmq_curve_keypair(client_public, client_secret) == 0);
  Rig rig;
  TempDir dir;
  rig.opts.extra_toml = std::string("[curve]\nenabled = true\nsecret_key = \"") + server_secret +
                        "\"\nallowed_clients = [\"" + client_public + "\"]\n";
  rig.start();
  const std::string secret_file = dir.write("client.key", std::string(client_secret) + "\n");
  const std::vector<std::string> send = {
      "send", "--channel", "MAIL",       "--user",          "u1", "--to", "a@x",
      "--id", "curved",    "--messages", rig.gk->messages()};

  auto with_keys = send;
  with_keys.insert(with_keys.end(), {"--curve-server-key", server_public, "--curve-public-key",
                                     client_public, "--curve-secret-key-file", secret_file});
  json_line(ctl(with_keys));
  auto got = rig.mail->receive();
  REQUIRE(got);
  CHECK(unpack((*got)[0])["id"] == "curved");

  // The same key from the environment instead of a file.
  auto env_keys = send;
  env_keys.insert(env_keys.end(),
                  {"--curve-server-key", server_public, "--curve-public-key", client_public});
  json_line(ctl(env_keys, {std::string("GATEKEEPER_CURVE_SECRET_KEY=") + client_secret}));
  REQUIRE(rig.mail->receive());

  // Without keys the handshake never completes: a timeout, not a silent success.
  auto plain = send;
  plain.insert(plain.end(), {"--timeout", "500"});
  check_one_line_error(ctl(plain), 1, "no gatekeeper took the message within 500 ms");
  check_one_line_error(
      ctl({"send", "--channel", "MAIL", "--user", "u", "--messages", rig.gk->messages(),
           "--curve-server-key", "short", "--curve-public-key", client_public}),
      2, "--curve-server-key must be a 40-character Z85 key");
}

// SIGHUP: a valid config is applied without a restart, a broken one is refused.
#include <signal.h>
#include <catch2/catch.hpp>

#include <httplib.h>

#include <fstream>

#include "tests/support/ports.h"
#include "tests/support/rig.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string config_path(Rig& rig) {
  // The harness passes the config path as the last argument; rewrite that very file.
  const std::string log = rig.gk->process().log_path();
  return log.substr(0, log.rfind('/')) + "/gatekeeper.toml";
}

}  // namespace

TEST_CASE("reload: SIGHUP applies a new header limit without a restart", "[e2e][reload]") {
  Rig rig;
  rig.start();
  const json big =
      header("big", "MAIL", {{"id", "u1"}}, {{"to", "a@x"}, {"note", std::string(600, 'n')}});
  rig.sender->send(big, "p");
  REQUIRE(rig.collect(1) == Outcomes{{"big", "MAIL"}});

  rig.opts.max_header_bytes = 256;
  std::ofstream(config_path(rig)) << rig.opts.toml();
  rig.gk->process().signal(SIGHUP);
  REQUIRE(eventually([&] { return rig.metric("gk_config_reloads_total") == 1; }));
  const json big2 =
      header("big2", "MAIL", {{"id", "u1"}}, {{"to", "a@x"}, {"note", std::string(600, 'n')}});
  // The loop applies the reload at its next turn: poll until the new limit shows.
  bool rejected = false;
  for (int i = 0; i < 50 && !rejected; ++i) {
    rig.sender->send(big2, "p");
    const Outcomes got = rig.collect(1, 2s);
    rejected = !got.empty() && got.begin()->second == "rejected/malformed";
  }
  CHECK(rejected);
  CHECK(rig.gk->process().running());
}

TEST_CASE("reload: a broken config is refused and the running one stays", "[e2e][reload]") {
  Rig rig;
  rig.start();
  std::ofstream(config_path(rig)) << "[ingress\nthis is not toml";
  rig.gk->process().signal(SIGHUP);
  REQUIRE(eventually([&] { return rig.metric("gk_config_reload_failures_total") == 1; }));
  CHECK(rig.metric("gk_config_reloads_total") == 0);
  rig.sender->send(header("after", "MAIL", {{"id", "u1"}}, {{"to", "a@x"}}), "p");
  CHECK(rig.collect(1) == Outcomes{{"after", "MAIL"}});
  CHECK(rig.gk->log().find("reload refused") != std::string::npos);
}

TEST_CASE("reload: a changed endpoint is reported as needing a restart", "[e2e][reload]") {
  Rig rig;
  rig.start();
  GatekeeperOptions moved = rig.opts;
  moved.mail_port = free_port();
  std::ofstream(config_path(rig)) << moved.toml();
  rig.gk->process().signal(SIGHUP);
  REQUIRE(eventually([&] { return rig.metric("gk_config_reloads_total") == 1; }));
  CHECK(eventually([&] {
    return rig.gk->log().find("channels (names, endpoints, sndhwm) changed") != std::string::npos;
  }));
  // The old endpoint keeps serving.
  rig.sender->send(header("still", "MAIL", {{"id", "u1"}}, {{"to", "a@x"}}), "p");
  CHECK(rig.collect(1) == Outcomes{{"still", "MAIL"}});
}

TEST_CASE("reload: SIGHUP replaces the API tokens", "[e2e][reload]") {
  Rig rig;
  rig.start();
  auto status_with = [&](const std::string& token) {
    httplib::Client c("127.0.0.1", rig.opts.http_port);
    auto res = c.Get("/users/u1/recipient-status", {{"X-XNG-AuthToken", token}});
    return res ? res->status : -1;
  };
  REQUIRE(status_with("test-token") == 200);
  rig.opts.auth_token = "rotated-token";
  std::ofstream(config_path(rig)) << rig.opts.toml();
  rig.gk->process().signal(SIGHUP);
  REQUIRE(eventually([&] { return rig.metric("gk_config_reloads_total") == 1; }));
  CHECK(status_with("rotated-token") == 200);
  CHECK(status_with("test-token") == 401);
}

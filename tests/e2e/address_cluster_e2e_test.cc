// Address suppressions and erasure on a Redis Cluster (3 primaries): the address book is
// loaded from every primary and follows writes on all of them, an erasure leaves no trace on
// any node (an import of an old export and an Opt Out do not bring it back), and an Opt In
// lifts it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

#include "tests/e2e/address_support.h"
#include "tests/e2e/ctl_run.h"
#include "tests/support/redis_cluster.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Every key and value on every primary.
std::vector<std::string> everything(RedisCluster& cluster) {
  std::vector<std::string> out;
  for (int port : cluster.primary_ports()) {
    collect_store([&](const std::vector<std::string>& args) { return cluster.command(port, args); },
                  out);
  }
  return out;
}

GatekeeperOptions cluster_options(RedisCluster& cluster) {
  GatekeeperOptions o = addr_options(cluster.ports()[0]);
  std::string seeds;
  for (const std::string& seed : cluster.seeds())
    seeds += (seeds.empty() ? "\"" : ", \"") + seed + "\"";
  o.redis_extra = "cluster = [" + seeds + "]\ncluster_refresh_ms = 100";
  return o;
}

}  // namespace

TEST_CASE("e2e cluster: addresses on every primary and erasure leaving no trace on any node",
          "[e2e][addresses][erasure][cluster]") {
  RedisCluster cluster(3, 0);
  // Suppressions written before the start land on every primary; SCAN must find them all.
  for (int i = 0; i < 30; ++i) {
    const std::string key = "gk:a:MAIL:pre" + std::to_string(i) + "@example.com";
    cluster.routed(key, {"HSET", key, "suppressed", "1", "reason", "complaint"});
  }
  AddrRig rig(cluster_options(cluster));
  rig.start();
  const json u = {{"id", "c-user"}};
  for (int i = 0; i < 30; ++i) {
    CHECK(rig.eventually_outcome("suppressed/address:complaint", "MAIL", u,
                                 "pre" + std::to_string(i) + "@example.com") ==
          "suppressed/address:complaint");
  }
  REQUIRE(
      rig.event({{"events",
                  json::array({{{"event", "sms.inbound"},
                                {"properties", {{"from", "+15550009999"}, {"body", "STOP"}}}}})}})
          .status == 202);
  CHECK(rig.eventually_outcome("suppressed/address:sms_stop", "SMS", u, "+1 555 000 9999") ==
        "suppressed/address:sms_stop");

  const std::string id = "cluster-erase-4411", email = "cluster.erase@example.org";
  rig.seed_person(id, email);
  REQUIRE(rig.call("PUT", "/addresses/MAIL/" + email, R"({"suppressed": true, "reason": "bounce"})")
              .status == 200);
  REQUIRE(mentions(everything(cluster), id));
  const AddrAnswer del = rig.call("DELETE", "/users/" + id);
  REQUIRE(del.status == 200);
  const auto after = everything(cluster);
  CHECK_FALSE(mentions(after, id));
  CHECK_FALSE(mentions(after, email));
  CHECK(rig.eventually_outcome("suppressed/erased", "MAIL", {{"id", id}}, "a@b.c") ==
        "suppressed/erased");
  CHECK(rig.outcome("MAIL", {{"id", "x"}}, email,
                    {{"campaign", {{"type", "realtime"}, {"transactional", true}}}}) ==
        "suppressed/erased");

  // Neither an old export nor an Opt Out brings them back onto any node.
  TempDir dir;
  const std::string file = dir.file("old.csv");
  std::ofstream(file) << "user,," << id << ",SMS,1,1700000000000,\n"
                      << "address,," << email << ",MAIL,1,1700000000000,bounce\n"
                      << "user,,cluster-kept,SMS,1,1700000000000,\n";
  const CtlRun imported = ctl(dir, {"import", file}, rig.opts.http_port);
  INFO(imported.err);
  CHECK(imported.status == 1);
  CHECK(count_of(imported.err, ": erased: ") == 2);
  CHECK(rig.call("PUT", "/users/" + id + "/optout-status?channelType=MAIL", R"({"optOut": true})")
            .status == 404);
  const auto later = everything(cluster);
  CHECK_FALSE(mentions(later, id));
  CHECK_FALSE(mentions(later, email));
  CHECK(mentions(later, "cluster-kept"));
}

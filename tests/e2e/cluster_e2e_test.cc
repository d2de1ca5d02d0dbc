// Two gatekeepers on one Redis Cluster (3 primaries, a replica each): right decisions, a
// write through one seen by the other, and no wrong forward and no lost message while slots
// migrate or a primary fails over under load.
#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <thread>

#include "tests/support/ports.h"
#include "tests/support/redis_cluster.h"
#include "tests/support/rig.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr int kPeople = 300;
// Every 4th person has opted out of MAIL, every 7th is blacklisted.
bool opted_out(int p) {
  return p % 4 == 0;
}
bool blacklisted(int p) {
  return p % 7 == 0;
}
std::string person(int p) {
  return "p" + std::to_string(p);
}

// The cluster and two sidecars on it, people's statuses written as another job would.
struct ClusterRig {
  RedisCluster cluster{3, 1};
  zmq::context_t ctx;
  Sidecar a{ctx}, b{ctx};

  // B runs without a cache, so every one of its messages reads the cluster while it changes.
  ClusterRig() {
    for (int p = 0; p < kPeople; ++p) {
      const std::string key = "gk:u::" + person(p);
      if (opted_out(p)) cluster.routed(key, {"HSET", key, "MAIL", "1"});
      if (blacklisted(p)) cluster.routed(key, {"HSET", key, "BLACKLIST", "1"});
    }
    // On the replicas too before anything fails over (WAIT counts this client's writes).
    for (int port : cluster.primary_ports()) cluster.command(port, {"WAIT", "1", "5000"});
    for (Sidecar* s : {&a, &b}) {
      s->opts.redis_port = cluster.ports()[0];  // the url only lends credentials here
      std::string seeds;
      for (const std::string& seed : cluster.seeds()) {
        seeds += (seeds.empty() ? "\"" : ", \"") + seed + "\"";
      }
      s->opts.redis_extra = "cluster = [" + seeds + "]\ncluster_refresh_ms = 100";
      s->opts.hold_max_wait_ms = 60000;
      s->opts.cache_enabled = s == &a;
      s->start();
    }
  }
  ~ClusterRig() {
    a.close_peers();
    b.close_peers();
  }
};

void send(Sidecar& s, const std::string& id, int p) {
  s.sender->send(header(id, "MAIL", {{"id", person(p)}}, {{"to", "a@x"}}), "payload");
}

// What a message for person p must become.
std::string expected(int p) {
  if (blacklisted(p)) return "suppressed/blacklisted";
  if (opted_out(p)) return "suppressed/opt_out:MAIL";
  return "MAIL";
}

// Messages spread over everyone, alternating sidecars, from a thread of their own, paced (a
// pause every 50) so that the stream goes on while the cluster changes under it: it runs
// until stop(), and for at least `at_least` messages.
class Stream {
 public:
  Stream(ClusterRig& rig, int at_least)
      : thread_([this, &rig, at_least] {
          for (int i = 0; running_.load() || i < at_least; ++i) {
            send(i % 2 == 0 ? rig.a : rig.b, "m" + std::to_string(i), i % kPeople);
            sent_ = i + 1;
            if (i % 50 == 0) std::this_thread::sleep_for(5ms);
          }
        }) {}
  ~Stream() {
    if (thread_.joinable()) stop();
  }
  int sent() const { return sent_.load(); }
  // Ends the stream; the number of messages sent.
  int stop() {
    running_ = false;
    thread_.join();
    return sent_.load();
  }

 private:
  std::atomic<bool> running_{true};
  std::atomic<int> sent_{0};
  std::thread thread_;
};

// Every message exactly once, in the right place (A took the even ones, B the odd ones).
void check_outcomes(ClusterRig& rig, int count) {
  Outcomes got = rig.a.collect((count + 1) / 2, 20s);
  Outcomes from_b = rig.b.collect(count / 2, 20s);
  CHECK(rig.a.duplicates() == 0);
  CHECK(rig.b.duplicates() == 0);
  got.insert(from_b.begin(), from_b.end());
  REQUIRE(got.size() == static_cast<std::size_t>(count));
  int wrong = 0;
  for (int i = 0; i < count; ++i) {
    const auto it = got.find("m" + std::to_string(i));
    REQUIRE(it != got.end());
    if (it->second != expected(i % kPeople)) {
      if (++wrong <= 5) UNSCOPED_INFO("m" << i << " -> " << it->second);
    }
  }
  CHECK(wrong == 0);
}

}  // namespace

TEST_CASE("cluster e2e: decisions on a cluster, and a write through one sidecar reaches the other",
          "[e2e][cluster]") {
  ClusterRig rig;
  for (int p = 0; p < kPeople; ++p) send(p % 2 == 0 ? rig.a : rig.b, "m" + std::to_string(p), p);
  check_outcomes(rig, kPeople);

  // p1 may receive mail and is now cached as such by A; the opt-out goes through B's API.
  const int p = 1;
  REQUIRE(expected(p) == "MAIL");
  send(rig.a, "warm", p);
  REQUIRE(rig.a.collect(1)["warm"] == "MAIL");
  const auto put =
      http_put(rig.b.opts.http_port, "/users/" + person(p) + "/optout-status?channelType=MAIL",
               R"({"optOut": true})", rig.b.opts.auth_token);
  REQUIRE(put.status == 200);
  // Propagation takes milliseconds; once A suppresses, it must keep suppressing.
  int n = 0;
  bool suppressed = false;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!suppressed && std::chrono::steady_clock::now() < deadline) {
    const std::string id = "after" + std::to_string(n++);
    send(rig.a, id, p);
    suppressed = rig.a.collect(1)[id] == "suppressed/opt_out:MAIL";
  }
  REQUIRE(suppressed);
  for (int i = 0; i < 20; ++i) {
    const std::string id = "later" + std::to_string(i);
    send(rig.a, id, p);
    CHECK(rig.a.collect(1)[id] == "suppressed/opt_out:MAIL");
  }
}

TEST_CASE("cluster e2e: slots migrating under load cause no wrong forward and no loss",
          "[e2e][cluster][load]") {
  ClusterRig rig;
  const auto primaries = rig.cluster.primary_ports();
  Stream stream(rig, 2000);
  REQUIRE(eventually([&] { return stream.sent() > 500; }, 10s));
  // A third of the key space moves, keys and all, while the stream goes on.
  auto reshard = rig.cluster.start_reshard(primaries[0], primaries[1], 2000);
  // Opt-outs of people never looked up before go through B's API meanwhile: once acknowledged
  // they must hold, wherever their slot is by then.
  constexpr int kLate = 100;
  int acknowledged = 0;
  for (int q = 0; q < kLate; ++q) {
    const auto put = http_put(rig.b.opts.http_port,
                              "/users/q" + std::to_string(q) + "/optout-status?channelType=MAIL",
                              R"({"optOut": true})", rig.b.opts.auth_token);
    acknowledged += put.status == 200 ? 1 : 0;
    INFO(put.body);
  }
  CHECK(acknowledged == kLate);
  const auto code = reshard->wait(60s);
  INFO(reshard->log());
  REQUIRE(code == 0);
  rig.cluster.wait_until_stable();
  const int sent = stream.stop();
  check_outcomes(rig, sent);
  // B read through the migration: it saw the slot map change under it.
  CHECK(rig.b.metric("gk_redis_cluster_topology_changes_total") > 0);
  UNSCOPED_INFO("B was redirected by MOVED " << rig.b.metric("gk_redis_moved_total") << " and ASK "
                                             << rig.b.metric("gk_redis_ask_total") << " times over "
                                             << sent << " messages");
  for (int q = 0; q < kLate; ++q) {
    const std::string id = "late" + std::to_string(q);
    (q % 2 == 0 ? rig.a : rig.b)
        .sender->send(header(id, "MAIL", {{"id", "q" + std::to_string(q)}}, {{"to", "a@x"}}), "p");
  }
  Outcomes late = rig.a.collect(kLate / 2, 10s);
  const Outcomes late_b = rig.b.collect(kLate / 2, 10s);
  late.insert(late_b.begin(), late_b.end());
  REQUIRE(late.size() == kLate);
  for (const auto& [id, where] : late) CHECK(where == "suppressed/opt_out:MAIL");
}

TEST_CASE("cluster e2e: a primary failover under load causes no wrong forward and no loss",
          "[e2e][cluster][load]") {
  ClusterRig rig;
  Stream stream(rig, 2000);
  REQUIRE(eventually([&] { return stream.sent() > 500; }, 10s));
  SECTION("manual failover") {
    rig.cluster.failover(rig.cluster.primary_ports()[0]);
  }
  SECTION("a primary killed: its replica takes over") {
    rig.cluster.kill(rig.cluster.primary_ports()[0]);
    REQUIRE(eventually([&] { return rig.cluster.primary_ports().size() == 3; }, 30s, 50ms));
  }
  const int sent = stream.stop();
  check_outcomes(rig, sent);
}

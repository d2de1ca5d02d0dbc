// CURVE on the ingress: an allowed client's messages flow, anyone else is refused.
#include <catch2/catch.hpp>

#include <array>

#include "tests/support/ports.h"
#include "tests/support/rig.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

struct Keypair {
  std::string pub, sec;
};

Keypair keypair() {
  std::array<char, 41> pub{}, sec{};
  REQUIRE(zmq_curve_keypair(pub.data(), sec.data()) == 0);
  return {pub.data(), sec.data()};
}

// A campaign engine with CURVE client keys.
zmq::socket_t curve_sender(zmq::context_t& ctx, const std::string& endpoint, const Keypair& client,
                           const std::string& server_public) {
  zmq::socket_t s(ctx, zmq::socket_type::push);
  s.set(zmq::sockopt::linger, 0);
  s.set(zmq::sockopt::curve_serverkey, server_public);
  s.set(zmq::sockopt::curve_publickey, client.pub);
  s.set(zmq::sockopt::curve_secretkey, client.sec);
  s.connect(endpoint);
  return s;
}

void send(zmq::socket_t& s, const std::string& id) {
  const std::string h = pack(header(id, "MAIL", {{"id", "u1"}}, {{"to", "a@x"}}));
  (void)s.send(zmq::buffer(h), zmq::send_flags::sndmore);
  (void)s.send(zmq::str_buffer("payload"), zmq::send_flags::none);
}

}  // namespace

TEST_CASE("curve: an allowed client is served and an unknown key is refused", "[e2e][curve]") {
  const Keypair server = keypair();
  const Keypair allowed = keypair();
  const Keypair stranger = keypair();
  Rig rig;
  TempDir dir;
  const std::string clients = dir.write("clients", "# the campaign engine\n" + allowed.pub + "\n");
  rig.opts.extra_toml = "[curve]\nenabled = true\nsecret_key = \"" + server.sec +
                        "\"\nallowed_clients_file = \"" + clients + "\"\n";
  rig.start();

  auto good = curve_sender(rig.ctx, rig.gk->messages(), allowed, server.pub);
  send(good, "from-allowed");
  auto got = rig.mail->receive(5s);
  REQUIRE(got);
  CHECK(unpack((*got)[0])["id"] == "from-allowed");

  auto bad = curve_sender(rig.ctx, rig.gk->messages(), stranger, server.pub);
  send(bad, "from-stranger");
  REQUIRE(eventually([&] { return rig.metric("gk_curve_clients_refused_total") >= 1; }));
  CHECK(!rig.mail->receive(300ms));
  CHECK(!rig.decisions->receive(10ms));
  CHECK(rig.metric("gk_messages_received_total") == 1);

  SECTION("a plain (NULL mechanism) sender gets nothing through either") {
    zmq::socket_t plain(rig.ctx, zmq::socket_type::push);
    plain.set(zmq::sockopt::linger, 0);
    // The handshake never completes, so a send may find no peer to queue for: do not wait.
    plain.set(zmq::sockopt::sndtimeo, 200);
    plain.connect(rig.gk->messages());
    const std::string h = pack(header("plain", "MAIL", {{"id", "u1"}}, {{"to", "a@x"}}));
    (void)plain.send(zmq::buffer(h), zmq::send_flags::none);
    CHECK(!rig.mail->receive(300ms));
    CHECK(rig.metric("gk_messages_received_total") == 1);
  }
}

TEST_CASE("curve: a bad key in the config is refused at check time", "[e2e][curve]") {
  TempDir dir;
  GatekeeperOptions opts;
  opts.redis_port = 1;
  opts.extra_toml = "[curve]\nenabled = true\nsecret_key = \"short\"\n";
  const std::string path = dir.write("bad.toml", opts.toml());
  Process check({GK_BINARY_PATH, "--check-config", path}, dir.file("out"));
  auto rc = check.wait(10s);
  REQUIRE(rc);
  CHECK(*rc == 2);
  CHECK(check.log().find("curve.secret_key") != std::string::npos);
}

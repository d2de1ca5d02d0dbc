// The C++ sender API's sockets against real ZeroMQ peers on loopback ports: what a campaign
// engine sends arrives as sent, decisions come back with their frames, and a missing
// gatekeeper is reported instead of hiding the messages in a queue.
#include <catch2/catch.hpp>

#include "common/protocol/client.h"
#include "tests/support/ports.h"
#include "tests/support/zmq_peers.h"

using namespace gk::test;
using namespace std::chrono_literals;
using gk::client::DecisionReader;
using gk::client::HeaderBuilder;
using gk::client::MessageSender;

TEST_CASE("client sockets: a sender's frames arrive byte-identical at a bound PULL",
          "[client][integration]") {
  zmq::context_t ctx;
  const std::string endpoint = tcp_endpoint(free_port());
  zmq::socket_t ingress(ctx, zmq::socket_type::pull);
  ingress.set(zmq::sockopt::linger, 0);
  ingress.bind(endpoint);

  MessageSender sender(ctx, endpoint);
  const std::string header = HeaderBuilder().id("m1").channel("MAIL").user_id("u").build();
  REQUIRE(sender.send(header, "payload"));
  REQUIRE(sender.send(header));

  zmq::message_t frame;
  REQUIRE(ingress.recv(frame));
  CHECK(frame.to_string() == header);
  REQUIRE(frame.more());
  REQUIRE(ingress.recv(frame));
  CHECK(frame.to_string() == "payload");
  CHECK_FALSE(frame.more());
  REQUIRE(ingress.recv(frame));
  CHECK(frame.to_string() == header);
  CHECK_FALSE(frame.more());
}

TEST_CASE("client sockets: sending with no gatekeeper times out", "[client][integration]") {
  zmq::context_t ctx;
  gk::client::SenderOptions options;
  options.send_timeout = 100ms;
  options.linger = 0ms;
  MessageSender sender(ctx, tcp_endpoint(free_port()), options);
  CHECK_FALSE(sender.send("header", "payload"));
}

TEST_CASE("client sockets: a decision reader gets the decision and the original frames",
          "[client][integration]") {
  zmq::context_t ctx;
  const std::string endpoint = tcp_endpoint(free_port());
  zmq::socket_t outlet(ctx, zmq::socket_type::push);
  outlet.set(zmq::sockopt::linger, 0);
  outlet.bind(endpoint);
  DecisionReader reader(ctx, endpoint);

  CHECK_FALSE(reader.receive(50ms));
  const std::string decision = pack(
      {{"id", "m1"}, {"verdict", "suppressed"}, {"reason", "blacklisted"}, {"channel", "SMS"}});
  const std::string header = HeaderBuilder().id("m1").channel("SMS").user_id("u").build();
  (void)outlet.send(zmq::buffer(decision), zmq::send_flags::sndmore);
  (void)outlet.send(zmq::buffer(header), zmq::send_flags::sndmore);
  (void)outlet.send(zmq::buffer(std::string("body")), zmq::send_flags::none);
  (void)outlet.send(zmq::buffer(std::string("\xc1")), zmq::send_flags::none);

  auto d = reader.receive(5s);
  REQUIRE(d);
  CHECK(d->id == "m1");
  CHECK(d->reason == "blacklisted");
  CHECK(d->channel == "SMS");
  CHECK(d->frames == std::vector<std::string>{header, "body"});

  // An unreadable decision still comes back, with the error.
  auto bad = reader.receive(5s);
  REQUIRE(bad);
  CHECK_FALSE(bad->error.empty());
  CHECK(bad->frames.empty());
}

TEST_CASE("client sockets: a CURVE sender reaches a CURVE server", "[client][integration]") {
  char server_public[41], server_secret[41], client_public[41], client_secret[41];
  REQUIRE(zmq_curve_keypair(server_public, server_secret) == 0);
  REQUIRE(zmq_curve_keypair(client_public, client_secret) == 0);
  zmq::context_t ctx;
  const std::string endpoint = tcp_endpoint(free_port());
  zmq::socket_t ingress(ctx, zmq::socket_type::pull);
  ingress.set(zmq::sockopt::linger, 0);
  ingress.set(zmq::sockopt::curve_server, 1);
  ingress.set(zmq::sockopt::curve_secretkey, std::string(server_secret));
  ingress.bind(endpoint);

  gk::client::SenderOptions options;
  options.curve_server_key = server_public;
  options.curve_public_key = client_public;
  options.curve_secret_key = client_secret;
  MessageSender sender(ctx, endpoint, options);
  REQUIRE(sender.send("header", "payload"));
  zmq::message_t frame;
  REQUIRE(ingress.recv(frame));
  CHECK(frame.to_string() == "header");

  SECTION("without the keys the handshake fails and nothing is sent") {
    gk::client::SenderOptions plain;
    plain.send_timeout = 300ms;
    plain.linger = 0ms;
    MessageSender intruder(ctx, endpoint, plain);
    CHECK_FALSE(intruder.send("header", "payload"));
  }
}

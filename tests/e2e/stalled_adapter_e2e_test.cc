// An adapter that is absent or stops reading: the other channels flow, nothing is lost.
#include <catch2/catch.hpp>

#include <vector>

#include "tests/support/ports.h"
#include "tests/support/rig.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> ids(Sink& sink, std::size_t count) {
  std::vector<std::string> out;
  while (out.size() < count) {
    auto f = sink.receive(5s);
    if (!f) break;
    out.push_back(unpack((*f)[0])["id"]);
  }
  return out;
}

std::vector<std::string> numbered(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

}  // namespace

TEST_CASE("stalled adapter: other channels keep flowing and the backlog arrives in order",
          "[e2e][backpressure]") {
  Rig rig;
  rig.start(/*connect_mail=*/false);
  for (int i = 0; i < 50; ++i) {
    rig.sender->send(header("mail" + std::to_string(i), "MAIL", {{"id", "u1"}}, {{"to", "a@x"}}),
                     "p");
    rig.sender->send(header("sms" + std::to_string(i), "SMS", {{"id", "u1"}}, {{"to", "+1"}}), "p");
  }
  CHECK(ids(*rig.sms, 50) == numbered("sms", 50));
  REQUIRE(eventually([&] { return rig.metric("gk_messages_backlog") == 50; }));

  rig.connect_mail_adapter();
  CHECK(ids(*rig.mail, 50) == numbered("mail", 50));
  REQUIRE(eventually([&] { return rig.metric("gk_messages_backlog") == 0; }));
  CHECK(rig.metric("gk_messages_forwarded_total") == 100);
}

TEST_CASE("stalled adapter: a full backlog pauses intake and nothing is lost on resume",
          "[e2e][backpressure]") {
  Rig rig;
  rig.opts.channel_backlog = 5;
  rig.opts.batch_size = 1;
  rig.start(/*connect_mail=*/false);
  for (int i = 0; i < 20; ++i) {
    rig.sender->send(header("mail" + std::to_string(i), "MAIL", {{"id", "u1"}}, {{"to", "a@x"}}),
                     "p");
  }
  for (int i = 0; i < 5; ++i) {
    rig.sender->send(header("sms" + std::to_string(i), "SMS", {{"id", "u1"}}, {{"to", "+1"}}), "p");
  }
  REQUIRE(eventually([&] { return rig.metric("gk_intake_pauses_total") >= 1; }));
  // Intake is paused: the SMS messages queued behind the MAIL ones are not taken yet.
  CHECK(!rig.sms->receive(300ms));
  CHECK(rig.metric("gk_messages_received_total") == 5);

  rig.connect_mail_adapter();
  CHECK(ids(*rig.mail, 20) == numbered("mail", 20));
  CHECK(ids(*rig.sms, 5) == numbered("sms", 5));
  CHECK(rig.metric("gk_messages_received_total") == 25);
  CHECK(rig.metric("gk_messages_forwarded_total") == 25);
}

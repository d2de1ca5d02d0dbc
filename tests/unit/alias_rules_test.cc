// A channel named by an alias obeys every rule its canonical name does: the alias is resolved
// to the same registry index, statuses stored under either name land on the same bit, and
// decide() then suppresses on a channel or an ALL opt-out alike (PROTOCOL.md sections 1, 8).
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "common/rules/channels.h"
#include "common/rules/decide.h"
#include "common/rules/optout_record.h"
#include "common/rules/verdict.h"

namespace {

using gk::Action;
using gk::ChannelConfig;
using gk::ChannelRegistry;
using gk::DecisionInput;
using gk::OptOutRecord;
using gk::Reason;

ChannelConfig channel(std::string name, std::vector<std::string> aliases = {}) {
  ChannelConfig c;
  c.name = std::move(name);
  c.aliases = std::move(aliases);
  c.endpoint = "inproc://" + c.name;
  return c;
}

// The way the message loop builds its input: the header's channel name through the registry.
std::optional<gk::Verdict> decide_for(const ChannelRegistry& channels, const std::string& name,
                                      const OptOutRecord& status, bool realtime_transactional) {
  const auto index = channels.find_routable(name);
  if (!index) return std::nullopt;
  DecisionInput in;
  in.channel_known = true;
  in.channel_index = *index;
  in.require_address = true;
  in.has_address = true;
  in.realtime_transactional = realtime_transactional;
  in.status = &status;
  return gk::decide(in);
}

OptOutRecord record(const ChannelRegistry& channels, const std::string& field) {
  OptOutRecord r;
  gk::apply_status_field(r, channels, field, "1");
  return r;
}

}  // namespace

TEST_CASE("alias rules: an ALL opt-out suppresses a message that names MAIL as EMAIL",
          "[rules][alias]") {
  // EMAIL as the platform's implicit alias, and as a configured one.
  const ChannelRegistry implicit({channel("SMS"), channel("MAIL")});
  const ChannelRegistry configured({channel("MAIL", {"EMAIL"}), channel("SMS")});
  for (const ChannelRegistry* channels : {&implicit, &configured}) {
    const OptOutRecord all = record(*channels, "ALL");
    REQUIRE(all.all);
    for (const std::string name : {"EMAIL", "email", "Email", "MAIL"}) {
      INFO("channel " << name << (channels == &implicit ? " (implicit alias)" : ""));
      REQUIRE(channels->find_routable(name) == channels->find_routable("MAIL"));
      const auto v = decide_for(*channels, name, all, false);
      REQUIRE(v);
      CHECK(v->action == Action::kSuppress);
      CHECK(v->reason == Reason::kOptOutAll);
      // Realtime transactional mail is the one exception, by alias as by name.
      const auto rt = decide_for(*channels, name, all, true);
      REQUIRE(rt);
      CHECK(rt->action == Action::kForward);
    }
  }
}

TEST_CASE("alias rules: a channel opt-out stored under either name applies to both names",
          "[rules][alias]") {
  const ChannelRegistry channels({channel("SMS"), channel("MAIL")});
  for (const std::string stored : {"MAIL", "EMAIL", "email"}) {
    const OptOutRecord status = record(channels, stored);
    for (const std::string name : {"EMAIL", "MAIL", "eMail"}) {
      INFO("stored as " << stored << ", sent as " << name);
      const auto v = decide_for(channels, name, status, false);
      REQUIRE(v);
      CHECK(v->reason == Reason::kOptOutChannel);
    }
    // The SMS channel of the same person is untouched.
    const auto sms = decide_for(channels, "SMS", status, false);
    REQUIRE(sms);
    CHECK(sms->action == Action::kForward);
  }
}

TEST_CASE("alias rules: ALL together with a channel opt-out names the channel first",
          "[rules][alias]") {
  const ChannelRegistry channels({channel("MAIL")});
  OptOutRecord both = record(channels, "EMAIL");
  both |= record(channels, "ALL");
  const auto v = decide_for(channels, "EMAIL", both, false);
  REQUIRE(v);
  CHECK(v->reason == Reason::kOptOutChannel);
}

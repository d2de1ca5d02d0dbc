#include "common/rules/decide.h"

#include <catch2/catch.hpp>

#include <array>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "common/protocol/header.h"
#include "common/rules/optout_record.h"
#include "common/rules/verdict.h"

CATCH_REGISTER_ENUM(gk::Action, gk::Action::kForward, gk::Action::kSuppress, gk::Action::kReject)
CATCH_REGISTER_ENUM(gk::Reason, gk::Reason::kNone, gk::Reason::kOptOutChannel,
                    gk::Reason::kOptOutAll, gk::Reason::kBlacklisted, gk::Reason::kNoAddress,
                    gk::Reason::kUnknownChannel, gk::Reason::kMalformed,
                    gk::Reason::kStoreUnavailable)

namespace Catch {
template <>
struct StringMaker<gk::Verdict> {
  static std::string convert(const gk::Verdict& v) {
    return "{" + StringMaker<gk::Action>::convert(v.action) + ", " +
           StringMaker<gk::Reason>::convert(v.reason) + "}";
  }
};
}  // namespace Catch

namespace {

using gk::Action;
using gk::DecisionInput;
using gk::OptOutRecord;
using gk::Reason;
using gk::Verdict;

// The message's channel and some other channel; neither is index 0, so a rule that looked at
// the wrong bit would show.
constexpr std::size_t kHere = 2;
constexpr std::size_t kElsewhere = 5;

const Verdict kForwarded{Action::kForward, Reason::kNone};
const Verdict kOptOutHere{Action::kSuppress, Reason::kOptOutChannel};
const Verdict kOptOutAll{Action::kSuppress, Reason::kOptOutAll};
const Verdict kBlacklisted{Action::kSuppress, Reason::kBlacklisted};
const Verdict kNoAddress{Action::kReject, Reason::kNoAddress};
const Verdict kUnknownChannel{Action::kReject, Reason::kUnknownChannel};
const Verdict kStoreUnavailable{Action::kReject, Reason::kStoreUnavailable};
// Nothing about the person stops the message; only the address check is left.
const std::optional<Verdict> kPasses = std::nullopt;

enum class Person {
  kClean,
  kOptedOutHere,
  kOptedOutElsewhere,
  kOptedOutAll,
  kOptedOutHereAndAll,
  kBlacklisted,
  kBlacklistedAndOptedOut,
  kUnavailable,
};
constexpr std::array kPersons = {Person::kClean,
                                 Person::kOptedOutHere,
                                 Person::kOptedOutElsewhere,
                                 Person::kOptedOutAll,
                                 Person::kOptedOutHereAndAll,
                                 Person::kBlacklisted,
                                 Person::kBlacklistedAndOptedOut,
                                 Person::kUnavailable};

enum class Campaign { kNone, kBatch, kBatchTransactional, kRealtime, kRealtimeTransactional };
constexpr std::array kCampaigns = {Campaign::kNone, Campaign::kBatch, Campaign::kBatchTransactional,
                                   Campaign::kRealtime, Campaign::kRealtimeTransactional};

const char* name(Person p) {
  switch (p) {
    case Person::kClean:
      return "not opted out";
    case Person::kOptedOutHere:
      return "opted out of this channel";
    case Person::kOptedOutElsewhere:
      return "opted out of another channel";
    case Person::kOptedOutAll:
      return "opted out of ALL";
    case Person::kOptedOutHereAndAll:
      return "opted out of this channel and ALL";
    case Person::kBlacklisted:
      return "blacklisted";
    case Person::kBlacklistedAndOptedOut:
      return "blacklisted and opted out";
    case Person::kUnavailable:
      return "status unavailable";
  }
  return "?";
}

const char* name(Campaign c) {
  switch (c) {
    case Campaign::kNone:
      return "no campaign";
    case Campaign::kBatch:
      return "batch";
    case Campaign::kBatchTransactional:
      return "batch transactional";
    case Campaign::kRealtime:
      return "realtime";
    case Campaign::kRealtimeTransactional:
      return "realtime transactional";
  }
  return "?";
}

// One row of the rule matrix of PROTOCOL.md section 1 and decide.h, written out by hand: what
// the person's status alone says, with store-unavailable forwarding refused and allowed.
struct PersonRule {
  Person person;
  Campaign campaign;
  std::optional<Verdict> forward_refused;
  std::optional<Verdict> forward_allowed;
};

// clang-format off
const PersonRule kRules[] = {
    {Person::kClean,                  Campaign::kNone,                  kPasses,           kPasses},
    {Person::kClean,                  Campaign::kBatch,                 kPasses,           kPasses},
    {Person::kClean,                  Campaign::kBatchTransactional,    kPasses,           kPasses},
    {Person::kClean,                  Campaign::kRealtime,              kPasses,           kPasses},
    {Person::kClean,                  Campaign::kRealtimeTransactional, kPasses,           kPasses},

    {Person::kOptedOutHere,           Campaign::kNone,                  kOptOutHere,       kOptOutHere},
    {Person::kOptedOutHere,           Campaign::kBatch,                 kOptOutHere,       kOptOutHere},
    {Person::kOptedOutHere,           Campaign::kBatchTransactional,    kOptOutHere,       kOptOutHere},
    {Person::kOptedOutHere,           Campaign::kRealtime,              kOptOutHere,       kOptOutHere},
    {Person::kOptedOutHere,           Campaign::kRealtimeTransactional, kPasses,           kPasses},

    {Person::kOptedOutElsewhere,      Campaign::kNone,                  kPasses,           kPasses},
    {Person::kOptedOutElsewhere,      Campaign::kBatch,                 kPasses,           kPasses},
    {Person::kOptedOutElsewhere,      Campaign::kBatchTransactional,    kPasses,           kPasses},
    {Person::kOptedOutElsewhere,      Campaign::kRealtime,              kPasses,           kPasses},
    {Person::kOptedOutElsewhere,      Campaign::kRealtimeTransactional, kPasses,           kPasses},

    {Person::kOptedOutAll,            Campaign::kNone,                  kOptOutAll,        kOptOutAll},
    {Person::kOptedOutAll,            Campaign::kBatch,                 kOptOutAll,        kOptOutAll},
    {Person::kOptedOutAll,            Campaign::kBatchTransactional,    kOptOutAll,        kOptOutAll},
    {Person::kOptedOutAll,            Campaign::kRealtime,              kOptOutAll,        kOptOutAll},
    {Person::kOptedOutAll,            Campaign::kRealtimeTransactional, kPasses,           kPasses},

    // The more specific reason is reported, so a sender sees which switch to flip.
    {Person::kOptedOutHereAndAll,     Campaign::kNone,                  kOptOutHere,       kOptOutHere},
    {Person::kOptedOutHereAndAll,     Campaign::kBatch,                 kOptOutHere,       kOptOutHere},
    {Person::kOptedOutHereAndAll,     Campaign::kBatchTransactional,    kOptOutHere,       kOptOutHere},
    {Person::kOptedOutHereAndAll,     Campaign::kRealtime,              kOptOutHere,       kOptOutHere},
    {Person::kOptedOutHereAndAll,     Campaign::kRealtimeTransactional, kPasses,           kPasses},

    {Person::kBlacklisted,            Campaign::kNone,                  kBlacklisted,      kBlacklisted},
    {Person::kBlacklisted,            Campaign::kBatch,                 kBlacklisted,      kBlacklisted},
    {Person::kBlacklisted,            Campaign::kBatchTransactional,    kBlacklisted,      kBlacklisted},
    {Person::kBlacklisted,            Campaign::kRealtime,              kBlacklisted,      kBlacklisted},
    {Person::kBlacklisted,            Campaign::kRealtimeTransactional, kBlacklisted,      kBlacklisted},

    {Person::kBlacklistedAndOptedOut, Campaign::kNone,                  kBlacklisted,      kBlacklisted},
    {Person::kBlacklistedAndOptedOut, Campaign::kBatch,                 kBlacklisted,      kBlacklisted},
    {Person::kBlacklistedAndOptedOut, Campaign::kBatchTransactional,    kBlacklisted,      kBlacklisted},
    {Person::kBlacklistedAndOptedOut, Campaign::kRealtime,              kBlacklisted,      kBlacklisted},
    {Person::kBlacklistedAndOptedOut, Campaign::kRealtimeTransactional, kBlacklisted,      kBlacklisted},

    // Without a status nobody can vouch that the person is not blacklisted; only policy may
    // let a realtime transactional message take that risk.
    {Person::kUnavailable,            Campaign::kNone,                  kStoreUnavailable, kStoreUnavailable},
    {Person::kUnavailable,            Campaign::kBatch,                 kStoreUnavailable, kStoreUnavailable},
    {Person::kUnavailable,            Campaign::kBatchTransactional,    kStoreUnavailable, kStoreUnavailable},
    {Person::kUnavailable,            Campaign::kRealtime,              kStoreUnavailable, kStoreUnavailable},
    {Person::kUnavailable,            Campaign::kRealtimeTransactional, kStoreUnavailable, kPasses},
};
// clang-format on

// What the sender's header says, turned into the flag the rules see the way the pipeline
// does it: through MessageHeader, whose defaults are those of a header without `campaign`.
bool realtime_transactional(Campaign c) {
  gk::MessageHeader h;
  switch (c) {
    case Campaign::kNone:
      break;
    case Campaign::kBatch:
      break;
    case Campaign::kBatchTransactional:
      h.transactional = true;
      break;
    case Campaign::kRealtime:
      h.realtime = true;
      break;
    case Campaign::kRealtimeTransactional:
      h.realtime = true;
      h.transactional = true;
      break;
  }
  return h.realtime_transactional();
}

std::optional<OptOutRecord> record_for(Person p) {
  OptOutRecord r;
  const std::uint64_t here = std::uint64_t{1} << kHere;
  const std::uint64_t elsewhere = std::uint64_t{1} << kElsewhere;
  switch (p) {
    case Person::kClean:
      break;
    case Person::kOptedOutHere:
      r.channels = here;
      break;
    case Person::kOptedOutElsewhere:
      r.channels = elsewhere;
      break;
    case Person::kOptedOutAll:
      r.all = true;
      break;
    case Person::kOptedOutHereAndAll:
      r.channels = here;
      r.all = true;
      break;
    case Person::kBlacklisted:
      r.blacklisted = true;
      break;
    case Person::kBlacklistedAndOptedOut:
      r.channels = here | elsewhere;
      r.all = true;
      r.blacklisted = true;
      break;
    case Person::kUnavailable:
      return std::nullopt;
  }
  return r;
}

struct Message {
  bool channel_known = true;
  bool require_address = true;
  bool has_address = true;
  bool forward_without_status = false;
  Campaign campaign = Campaign::kBatch;
};

// decide() for `person` and `m`; `record` keeps the status alive for the call.
Verdict run(Person person, const Message& m) {
  const std::optional<OptOutRecord> record = record_for(person);
  DecisionInput in;
  in.channel_known = m.channel_known;
  in.channel_index = kHere;
  in.require_address = m.require_address;
  in.has_address = m.has_address;
  in.realtime_transactional = realtime_transactional(m.campaign);
  in.status = record ? &*record : nullptr;
  in.forward_transactional_without_status = m.forward_without_status;
  return gk::decide(in);
}

const PersonRule& rule_for(Person p, Campaign c) {
  for (const PersonRule& r : kRules) {
    if (r.person == p && r.campaign == c) return r;
  }
  FAIL("no rule row for " << name(p) << " / " << name(c));
  return kRules[0];
}

// The unknown-channel check comes first, the person's status next, the address last.
Verdict expected(Person p, const Message& m) {
  if (!m.channel_known) return kUnknownChannel;
  const PersonRule& row = rule_for(p, m.campaign);
  const std::optional<Verdict>& person =
      m.forward_without_status ? row.forward_allowed : row.forward_refused;
  if (person) return *person;
  if (m.require_address && !m.has_address) return kNoAddress;
  return kForwarded;
}

std::string describe(Person p, const Message& m) {
  std::ostringstream s;
  s << std::boolalpha << name(p) << ", " << name(m.campaign) << ", channel "
    << (m.channel_known ? "known" : "unknown") << ", address "
    << (m.has_address ? "present" : "absent") << ", require_address " << m.require_address
    << ", forward_transactional_without_status " << m.forward_without_status;
  return s.str();
}

}  // namespace

TEST_CASE("decide: the rule table has exactly one row per status and campaign", "[rules]") {
  std::set<std::pair<Person, Campaign>> seen;
  for (const PersonRule& r : kRules) {
    INFO(name(r.person) << " / " << name(r.campaign));
    CHECK(seen.insert({r.person, r.campaign}).second);
  }
  CHECK(seen.size() == kPersons.size() * kCampaigns.size());
}

TEST_CASE("decide: every combination of status, campaign, address and policy follows the table",
          "[rules]") {
  std::size_t combinations = 0;
  for (bool channel_known : {true, false}) {
    for (Person person : kPersons) {
      for (Campaign campaign : kCampaigns) {
        for (bool require_address : {true, false}) {
          for (bool has_address : {true, false}) {
            for (bool forward_without_status : {false, true}) {
              const Message m{channel_known, require_address, has_address, forward_without_status,
                              campaign};
              INFO(describe(person, m));
              CHECK(run(person, m) == expected(person, m));
              ++combinations;
            }
          }
        }
      }
    }
  }
  CHECK(combinations == 2 * kPersons.size() * kCampaigns.size() * 2 * 2 * 2);
}

TEST_CASE("decide: realtime transactional message passes an ALL opt-out", "[rules]") {
  Message m;
  m.campaign = Campaign::kRealtimeTransactional;

  SECTION("ALL opt-out") {
    CHECK(run(Person::kOptedOutAll, m) == kForwarded);
  }
  SECTION("opt-out of the message's channel") {
    CHECK(run(Person::kOptedOutHere, m) == kForwarded);
  }
  SECTION("both") {
    CHECK(run(Person::kOptedOutHereAndAll, m) == kForwarded);
  }
  SECTION("the exemption does not waive a required address") {
    m.has_address = false;
    CHECK(run(Person::kOptedOutAll, m) == kNoAddress);
  }
}

TEST_CASE("decide: blacklist beats everything, realtime transactional included", "[rules]") {
  Message m;
  SECTION("every campaign, exempt or not") {}
  SECTION("even the missing address is not reported") {
    m.has_address = false;
  }
  SECTION("even the policy for an unavailable store does not matter") {
    m.forward_without_status = true;
  }
  for (Campaign campaign : kCampaigns) {
    for (Person person : {Person::kBlacklisted, Person::kBlacklistedAndOptedOut}) {
      m.campaign = campaign;
      INFO(describe(person, m));
      CHECK(run(person, m) == kBlacklisted);
    }
  }
}

TEST_CASE("decide: a transactional batch campaign is not exempt", "[rules]") {
  Message m;
  m.campaign = Campaign::kBatchTransactional;

  SECTION("channel opt-out") {
    CHECK(run(Person::kOptedOutHere, m) == kOptOutHere);
  }
  SECTION("ALL opt-out") {
    CHECK(run(Person::kOptedOutAll, m) == kOptOutAll);
  }
  SECTION("store unavailable, forwarding allowed") {
    m.forward_without_status = true;
    CHECK(run(Person::kUnavailable, m) == kStoreUnavailable);
  }
}

TEST_CASE("decide: a realtime campaign that is not transactional is not exempt", "[rules]") {
  Message m;
  m.campaign = Campaign::kRealtime;

  SECTION("channel opt-out") {
    CHECK(run(Person::kOptedOutHere, m) == kOptOutHere);
  }
  SECTION("ALL opt-out") {
    CHECK(run(Person::kOptedOutAll, m) == kOptOutAll);
  }
  SECTION("store unavailable, forwarding allowed") {
    m.forward_without_status = true;
    CHECK(run(Person::kUnavailable, m) == kStoreUnavailable);
  }
}

TEST_CASE("decide: a message without a campaign is decided as batch", "[rules]") {
  CHECK_FALSE(gk::MessageHeader{}.realtime_transactional());
  for (Person person : kPersons) {
    for (bool forward_without_status : {false, true}) {
      Message none;
      none.campaign = Campaign::kNone;
      none.forward_without_status = forward_without_status;
      Message batch = none;
      batch.campaign = Campaign::kBatch;
      INFO(name(person) << ", forward_transactional_without_status " << forward_without_status);
      CHECK(run(person, none) == run(person, batch));
    }
  }
}

TEST_CASE("decide: an unknown channel is rejected before anything else", "[rules]") {
  Message m;
  m.channel_known = false;

  SECTION("a clean person") {
    CHECK(run(Person::kClean, m) == kUnknownChannel);
  }
  SECTION("a blacklisted person") {
    CHECK(run(Person::kBlacklisted, m) == kUnknownChannel);
  }
  SECTION("an opted-out person") {
    CHECK(run(Person::kOptedOutAll, m) == kUnknownChannel);
  }
  SECTION("no status") {
    CHECK(run(Person::kUnavailable, m) == kUnknownChannel);
    m.campaign = Campaign::kRealtimeTransactional;
    m.forward_without_status = true;
    CHECK(run(Person::kUnavailable, m) == kUnknownChannel);
  }
  SECTION("no address") {
    m.has_address = false;
    CHECK(run(Person::kClean, m) == kUnknownChannel);
  }
}

TEST_CASE("decide: a missing address is rejected only where the channel requires one", "[rules]") {
  Message m;
  m.has_address = false;

  SECTION("channel requires an address") {
    m.require_address = true;
    CHECK(run(Person::kClean, m) == kNoAddress);
    CHECK(run(Person::kOptedOutElsewhere, m) == kNoAddress);
  }
  SECTION("channel needs no address") {
    m.require_address = false;
    CHECK(run(Person::kClean, m) == kForwarded);
  }
  SECTION("an address present is enough either way") {
    m.has_address = true;
    m.require_address = true;
    CHECK(run(Person::kClean, m) == kForwarded);
  }
  SECTION("a suppressed message reports the person's choice, not the address") {
    CHECK(run(Person::kOptedOutHere, m) == kOptOutHere);
    CHECK(run(Person::kOptedOutAll, m) == kOptOutAll);
  }
}

TEST_CASE("decide: without a status only an allowed realtime transactional message goes on",
          "[rules]") {
  Message m;

  SECTION("forwarding without status refused") {
    for (Campaign campaign : kCampaigns) {
      m.campaign = campaign;
      INFO(name(campaign));
      CHECK(run(Person::kUnavailable, m) == kStoreUnavailable);
    }
  }
  SECTION("forwarding without status allowed") {
    m.forward_without_status = true;
    for (Campaign campaign : kCampaigns) {
      m.campaign = campaign;
      INFO(name(campaign));
      CHECK(run(Person::kUnavailable, m) ==
            (campaign == Campaign::kRealtimeTransactional ? kForwarded : kStoreUnavailable));
    }
  }
  SECTION("a realtime transactional message let through still needs its address") {
    m.forward_without_status = true;
    m.campaign = Campaign::kRealtimeTransactional;
    m.has_address = false;
    CHECK(run(Person::kUnavailable, m) == kNoAddress);
  }
  SECTION("store_unavailable is a rejection, which a sender may retry") {
    CHECK(run(Person::kUnavailable, m).action == Action::kReject);
  }
}

TEST_CASE("decide: only the message's own channel bit counts", "[rules]") {
  DecisionInput in;
  in.channel_known = true;
  in.has_address = true;
  OptOutRecord record;
  in.status = &record;

  SECTION("the highest channel index") {
    in.channel_index = 63;
    record.channels = std::uint64_t{1} << 63;
    CHECK(gk::decide(in) == kOptOutHere);
    in.channel_index = 62;
    CHECK(gk::decide(in) == kForwarded);
  }
  SECTION("every other channel opted out") {
    in.channel_index = kHere;
    record.channels = ~(std::uint64_t{1} << kHere);
    CHECK(gk::decide(in) == kForwarded);
  }
}

TEST_CASE("verdict: actions and reasons render as the codes of PROTOCOL.md section 4", "[rules]") {
  CHECK(gk::to_string(Action::kForward) == "forwarded");
  CHECK(gk::to_string(Action::kSuppress) == "suppressed");
  CHECK(gk::to_string(Action::kReject) == "rejected");

  // The caller appends ":<CHANNEL>" to "opt_out"; the rest are complete codes.
  CHECK(gk::to_string(Reason::kNone) == "");
  CHECK(gk::to_string(Reason::kOptOutChannel) == "opt_out");
  CHECK(gk::to_string(Reason::kOptOutAll) == "opt_out:ALL");
  CHECK(gk::to_string(Reason::kBlacklisted) == "blacklisted");
  CHECK(gk::to_string(Reason::kNoAddress) == "no_address");
  CHECK(gk::to_string(Reason::kUnknownChannel) == "unknown_channel");
  CHECK(gk::to_string(Reason::kMalformed) == "malformed");
  CHECK(gk::to_string(Reason::kStoreUnavailable) == "store_unavailable");
  CHECK(gk::to_string(Reason::kErased) == "erased");
  CHECK(gk::to_string(Reason::kAddressBounce) == "address:bounce");
  CHECK(gk::to_string(Reason::kAddressComplaint) == "address:complaint");
  CHECK(gk::to_string(Reason::kAddressSmsStop) == "address:sms_stop");
  CHECK(gk::to_string(Reason::kAddressManual) == "address:manual");
  CHECK(static_cast<std::size_t>(Reason::kAddressManual) + 1 == gk::kReasonCount);
}

#include "common/rules/channels.h"

#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using gk::ChannelConfig;
using gk::ChannelRegistry;

ChannelConfig channel(std::string name, std::vector<std::string> aliases = {},
                      bool require_address = true) {
  ChannelConfig c;
  c.name = std::move(name);
  c.aliases = std::move(aliases);
  c.endpoint = "inproc://" + c.name;
  c.require_address = require_address;
  return c;
}

// The deployment of PROTOCOL.md section 8, with SMS first to show that order is the config's.
ChannelRegistry sms_and_mail() {
  return ChannelRegistry(
      {channel("SMS"), channel("MAIL", {"EMAIL"}), channel("WHATSAPP", {}, false)});
}

// An index as a number Catch can print, -1 for "not found".
long at(std::optional<std::size_t> index) {
  return index ? static_cast<long>(*index) : -1;
}

std::vector<std::string> names(const ChannelRegistry& r) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < r.type_count(); ++i) out.push_back(r.name(i));
  return out;
}

}  // namespace

TEST_CASE("channels: configured channels come first, in config order", "[channels]") {
  const ChannelRegistry r = sms_and_mail();

  CHECK(r.routable_count() == 3);
  CHECK(at(r.find_routable("SMS")) == 0);
  CHECK(at(r.find_routable("MAIL")) == 1);
  CHECK(at(r.find_routable("WHATSAPP")) == 2);
  CHECK(r.config(0).endpoint == "inproc://SMS");
  CHECK(r.config(1).aliases == std::vector<std::string>{"EMAIL"});
  CHECK_FALSE(r.config(2).require_address);

  SECTION("platform types without an adapter follow, in the platform's order, once each") {
    CHECK(names(r) == std::vector<std::string>{"SMS", "MAIL", "WHATSAPP", "PUSH_NOTIFICATION",
                                               "BROWSER_NOTIFICATION", "DIRECT_MAIL",
                                               "ONSITE_DISPLAY", "WEBHOOK"});
  }
}

TEST_CASE("channels: a configured platform type is not listed twice", "[channels]") {
  const ChannelRegistry r({channel("WEBHOOK"), channel("MAIL")});

  CHECK(r.routable_count() == 2);
  CHECK(names(r) == std::vector<std::string>{"WEBHOOK", "MAIL", "SMS", "PUSH_NOTIFICATION",
                                             "BROWSER_NOTIFICATION", "DIRECT_MAIL",
                                             "ONSITE_DISPLAY"});
}

TEST_CASE("channels: names and aliases are found case-insensitively", "[channels]") {
  const ChannelRegistry r = sms_and_mail();

  for (std::string_view name : {"MAIL", "mail", "Mail", "mAiL", "EMAIL", "email", "eMail"}) {
    INFO(name);
    CHECK(at(r.find_routable(name)) == 1);
    CHECK(at(r.find_type(name)) == 1);
  }
  CHECK(at(r.find_routable("sms")) == 0);
  CHECK(at(r.find_routable("WhatsApp")) == 2);
}

TEST_CASE("channels: config names and aliases are upper-cased", "[channels]") {
  const ChannelRegistry r({channel("sms", {"text", "Txt"})});

  CHECK(r.name(0) == "SMS");
  CHECK(at(r.find_routable("TEXT")) == 0);
  CHECK(at(r.find_routable("txt")) == 0);
  CHECK(at(r.find_type("SMS")) == 0);
}

TEST_CASE("channels: EMAIL is an alias of MAIL", "[channels]") {
  SECTION("MAIL configured with the alias") {
    const ChannelRegistry r({channel("MAIL", {"EMAIL"})});
    CHECK(at(r.find_routable("EMAIL")) == 0);
  }
  SECTION("MAIL not configured: the alias still names its status") {
    const ChannelRegistry r({channel("SMS")});
    REQUIRE(r.find_type("MAIL").has_value());
    CHECK(at(r.find_type("EMAIL")) == at(r.find_type("MAIL")));
    CHECK(at(r.find_type("email")) == at(r.find_type("MAIL")));
    CHECK_FALSE(r.find_routable("EMAIL").has_value());
  }
}

TEST_CASE("channels: platform types without an adapter carry statuses, not messages",
          "[channels]") {
  const ChannelRegistry r({channel("MAIL", {"EMAIL"})});

  for (std::string_view type : {"SMS", "PUSH_NOTIFICATION", "browser_notification", "DIRECT_MAIL",
                                "ONSITE_DISPLAY", "WEBHOOK"}) {
    INFO(type);
    const std::optional<std::size_t> index = r.find_type(type);
    REQUIRE(index.has_value());
    CHECK(*index >= r.routable_count());
    CHECK(gk::iequals(r.name(*index), type));
    CHECK_FALSE(r.find_routable(type).has_value());
  }
  CHECK(r.type_count() == std::size(gk::kPlatformChannelTypes));
}

TEST_CASE("channels: ALL and BLACKLIST are status fields, not channel types", "[channels]") {
  const ChannelRegistry r = sms_and_mail();

  for (std::string_view name : {"ALL", "all", "BLACKLIST", "Blacklist"}) {
    INFO(name);
    CHECK_FALSE(r.find_type(name).has_value());
    CHECK_FALSE(r.find_routable(name).has_value());
  }
}

TEST_CASE("channels: near misses are unknown", "[channels]") {
  const ChannelRegistry r = sms_and_mail();

  for (std::string_view name :
       {std::string_view(""), std::string_view("MAI"), std::string_view("MAILS"),
        std::string_view("MAIL "), std::string_view(" MAIL"), std::string_view("E-MAIL"),
        std::string_view("SMS\0", 4), std::string_view("MA1L")}) {
    INFO('"' << name << '"');
    CHECK_FALSE(r.find_type(name).has_value());
  }
}

TEST_CASE("channels: the registry never holds more than kMaxChannelTypes types", "[channels]") {
  // Each type owns one bit of an OptOutRecord, so platform types give way to configured ones.
  std::vector<ChannelConfig> configured;
  for (int i = 0; i < 60; ++i) configured.push_back(channel("C" + std::to_string(i)));
  const ChannelRegistry r(configured);

  CHECK(r.routable_count() == 60);
  CHECK(r.type_count() == gk::kMaxChannelTypes);
  CHECK(at(r.find_routable("c59")) == 59);
  CHECK(at(r.find_type("MAIL")) == 60);
  CHECK(at(r.find_type("EMAIL")) == 60);
  CHECK_FALSE(r.find_type("WEBHOOK").has_value());
}

TEST_CASE("channels: iequals folds ASCII letters only", "[channels]") {
  CHECK(gk::iequals("", ""));
  CHECK(gk::iequals("push_notification", "PUSH_NOTIFICATION"));
  CHECK(gk::iequals("Sms2", "sMS2"));
  CHECK_FALSE(gk::iequals("MAIL", "MAILS"));
  CHECK_FALSE(gk::iequals("MAIL", "MAIM"));
  CHECK_FALSE(gk::iequals("MAIL", ""));
  // A bit-mask fold would wrongly pair these: '@'/'`', '['/'{', '_'/DEL.
  CHECK_FALSE(gk::iequals("@", "`"));
  CHECK_FALSE(gk::iequals("[", "{"));
  CHECK_FALSE(gk::iequals("_", "\x7f"));
  // Non-ASCII bytes compare as they are.
  CHECK(gk::iequals("\xc3\xa9", "\xc3\xa9"));
  CHECK_FALSE(gk::iequals("\xc3\xa9", "\xc3\x89"));
}

TEST_CASE("channels: to_upper upper-cases ASCII letters only", "[channels]") {
  CHECK(gk::to_upper("") == "");
  CHECK(gk::to_upper("push_notification") == "PUSH_NOTIFICATION");
  CHECK(gk::to_upper("Mail-2 @x") == "MAIL-2 @X");
  CHECK(gk::to_upper("\xc3\xa9z") == "\xc3\xa9Z");
  CHECK(gk::to_upper(std::string_view("a\0b", 3)) == std::string("A\0B", 3));
}

TEST_CASE("channels: EMAIL is MAIL's alias even when the config does not list it", "[channels]") {
  const gk::ChannelRegistry plain({gk::ChannelConfig{"MAIL", {}, "tcp://127.0.0.1:1", true, 1}});
  CHECK(plain.find_routable("email") == plain.find_routable("MAIL"));
  SECTION("unless another channel took the name on purpose") {
    const gk::ChannelRegistry taken({gk::ChannelConfig{"MAIL", {}, "tcp://127.0.0.1:1", true, 1},
                                     gk::ChannelConfig{"EMAIL", {}, "tcp://127.0.0.1:2", true, 1}});
    CHECK(taken.find_routable("EMAIL") == std::optional<std::size_t>(1));
  }
}

#include "common/store/status_cache.h"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/rules/channels.h"
#include "common/rules/optout_record.h"

namespace {

using gk::CachedStatus;
using gk::ChannelConfig;
using gk::ChannelRegistry;
using gk::OptOutRecord;
using gk::StatusCache;

CachedStatus opted_out_of_all() {
  CachedStatus s;
  s.record.all = true;
  return s;
}

CachedStatus linked_to(std::string user) {
  CachedStatus s;
  s.linked_user = std::move(user);
  return s;
}

ChannelRegistry mail_and_sms() {
  ChannelConfig mail;
  mail.name = "MAIL";
  mail.aliases = {"EMAIL"};
  ChannelConfig sms;
  sms.name = "SMS";
  return ChannelRegistry({mail, sms});
}

std::uint64_t bit(const ChannelRegistry& channels, std::string_view name) {
  const auto index = channels.find_type(name);
  REQUIRE(index.has_value());
  return std::uint64_t{1} << *index;
}

// The record a hash of one field leaves behind.
OptOutRecord from_field(std::string_view field, std::string_view value) {
  OptOutRecord r;
  gk::apply_status_field(r, mail_and_sms(), field, value);
  return r;
}

}  // namespace

TEST_CASE("cache: find, insert, erase and clear", "[cache]") {
  StatusCache cache(10);

  CHECK(cache.find("gk:u::u-1") == nullptr);

  cache.insert("gk:u::u-1", opted_out_of_all());
  cache.insert("gk:id::a@b.c", linked_to("u-1"));
  REQUIRE(cache.find("gk:u::u-1") != nullptr);
  CHECK(cache.find("gk:u::u-1")->record.all);
  REQUIRE(cache.find("gk:id::a@b.c") != nullptr);
  CHECK(cache.find("gk:id::a@b.c")->linked_user == "u-1");
  CHECK(cache.size() == 2);

  SECTION("lookups by a view into a larger buffer") {
    const std::string buffer = "gk:u::u-1 and more";
    CHECK(cache.find(std::string_view(buffer).substr(0, 9)) != nullptr);
    CHECK(cache.find(std::string_view(buffer).substr(0, 8)) == nullptr);
  }
  SECTION("erase removes one key") {
    cache.erase("gk:u::u-1");
    CHECK(cache.find("gk:u::u-1") == nullptr);
    CHECK(cache.find("gk:id::a@b.c") != nullptr);
    CHECK(cache.size() == 1);
  }
  SECTION("erasing a key that is not there changes nothing") {
    cache.erase("gk:u::nobody");
    CHECK(cache.size() == 2);
  }
  SECTION("clear removes every key and is not an eviction") {
    cache.clear();
    CHECK(cache.size() == 0);
    CHECK(cache.find("gk:u::u-1") == nullptr);
    CHECK(cache.evictions() == 0);
  }
}

TEST_CASE("cache: an absent key is cached as an empty entry", "[cache]") {
  // Most people never opt out; remembering "no such key" is what saves the round trip.
  StatusCache cache(10);
  cache.insert("gk:u::u-1", CachedStatus{});

  const CachedStatus* hit = cache.find("gk:u::u-1");
  REQUIRE(hit != nullptr);
  CHECK(hit->record == OptOutRecord{});
  CHECK(hit->linked_user.empty());
}

TEST_CASE("cache: inserting an existing key overwrites it without evicting", "[cache]") {
  StatusCache cache(2);
  cache.insert("a", opted_out_of_all());
  cache.insert("b", CachedStatus{});

  cache.insert("a", linked_to("u-9"));

  CHECK(cache.size() == 2);
  CHECK(cache.evictions() == 0);
  REQUIRE(cache.find("a") != nullptr);
  CHECK_FALSE(cache.find("a")->record.all);
  CHECK(cache.find("a")->linked_user == "u-9");
  CHECK(cache.find("b") != nullptr);
}

TEST_CASE("cache: never holds more than max_entries and counts each eviction", "[cache]") {
  StatusCache cache(3);
  CHECK(cache.max_entries() == 3);

  for (int i = 0; i < 100; ++i) {
    const std::string key = "gk:u::u-" + std::to_string(i);
    cache.insert(key, CachedStatus{});
    INFO("after inserting " << key);
    CHECK(cache.size() <= 3);
    // The newest entry is never the victim: it is what the caller is about to use.
    CHECK(cache.find(key) != nullptr);
  }
  CHECK(cache.size() == 3);
  CHECK(cache.evictions() == 97);
}

TEST_CASE("cache: max_entries 0 caches nothing", "[cache]") {
  StatusCache cache(0);
  cache.insert("gk:u::u-1", opted_out_of_all());
  cache.insert("gk:u::u-2", opted_out_of_all());

  CHECK(cache.size() == 0);
  CHECK(cache.find("gk:u::u-1") == nullptr);
  CHECK(cache.evictions() == 0);
}

TEST_CASE("optout record: stored values other than 0, false and empty fail closed", "[cache]") {
  for (std::string_view value :
       {"1", "true", "TRUE", "True", "2", "yes", "garbage", " 0", "0 ", "00", "-1", "falsey"}) {
    INFO('"' << value << '"');
    CHECK(gk::status_value_true(value));
    CHECK(from_field("ALL", value).all);
  }
  for (std::string_view value : {"0", "false", "FALSE", "False", ""}) {
    INFO('"' << value << '"');
    CHECK_FALSE(gk::status_value_true(value));
    CHECK_FALSE(from_field("ALL", value).all);
  }
}

TEST_CASE("optout record: each hash field sets its own part of the record", "[cache]") {
  const ChannelRegistry channels = mail_and_sms();

  SECTION("a channel field sets and clears that channel's bit only") {
    OptOutRecord r;
    gk::apply_status_field(r, channels, "MAIL", "1");
    CHECK(r == OptOutRecord{bit(channels, "MAIL"), false, false});
    gk::apply_status_field(r, channels, "SMS", "1");
    CHECK(r.channels == (bit(channels, "MAIL") | bit(channels, "SMS")));
    gk::apply_status_field(r, channels, "MAIL", "0");
    CHECK(r == OptOutRecord{bit(channels, "SMS"), false, false});
  }
  SECTION("ALL") {
    CHECK(from_field("ALL", "1") == OptOutRecord{0, true, false});
  }
  SECTION("BLACKLIST") {
    CHECK(from_field("BLACKLIST", "1") == OptOutRecord{0, false, true});
    OptOutRecord r = from_field("BLACKLIST", "1");
    gk::apply_status_field(r, channels, "BLACKLIST", "0");
    CHECK_FALSE(r.blacklisted);
  }
  SECTION("a platform type without an adapter keeps its status") {
    CHECK(from_field("PUSH_NOTIFICATION", "1").channels == bit(channels, "PUSH_NOTIFICATION"));
  }
  SECTION("field names are matched case-insensitively") {
    CHECK(from_field("mail", "1").channels == bit(channels, "MAIL"));
    CHECK(from_field("All", "1").all);
    CHECK(from_field("blacklist", "1").blacklisted);
  }
}

TEST_CASE("optout record: fields other writers add are ignored", "[cache]") {
  for (std::string_view field : {"MAIL:ts", "ALL:ts", "BLACKLIST:ts", "SMS:ts", "mail:TS", ":",
                                 "WHATSAPP", "", "ALLX", "MAIL ", "note"}) {
    INFO('"' << field << '"');
    CHECK(from_field(field, "1") == OptOutRecord{});
    CHECK(from_field(field, "1700000000000") == OptOutRecord{});
  }
}

TEST_CASE("optout record: merging records keeps every opt-out of either", "[cache]") {
  const OptOutRecord user{0b0101, false, false};
  const OptOutRecord lead{0b0011, true, false};
  const OptOutRecord banned{0, false, true};

  OptOutRecord merged = user;
  merged |= lead;
  CHECK(merged == OptOutRecord{0b0111, true, false});
  merged |= banned;
  CHECK(merged == OptOutRecord{0b0111, true, true});

  SECTION("a clean record takes nothing away") {
    merged |= OptOutRecord{};
    CHECK(merged == OptOutRecord{0b0111, true, true});
  }
  SECTION("order does not matter") {
    OptOutRecord other = banned;
    other |= lead;
    other |= user;
    CHECK(other == merged);
  }
}

TEST_CASE("optout record: opted_out reads one channel's bit", "[cache]") {
  const OptOutRecord r{(std::uint64_t{1} << 63) | 1U, false, false};
  CHECK(r.opted_out(0));
  CHECK_FALSE(r.opted_out(1));
  CHECK_FALSE(r.opted_out(62));
  CHECK(r.opted_out(63));
}

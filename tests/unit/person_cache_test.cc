#include "common/store/person_cache.h"

#include <catch2/catch.hpp>

#include <algorithm>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/rules/channels.h"
#include "common/rules/optout_record.h"

namespace {

using gk::ChannelConfig;
using gk::ChannelRegistry;
using gk::EmailEntry;
using gk::OptOutRecord;
using gk::PersonCache;

OptOutRecord opted_out_of_all() {
  OptOutRecord r;
  r.all = true;
  return r;
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

TEST_CASE("cache: users and emails are found by their parts", "[cache]") {
  PersonCache cache(10);
  CHECK(cache.find_user({"", "u-1"}) == nullptr);

  cache.put_user({"", "u-1"}, opted_out_of_all());
  cache.put_link({"", "a@b.c"}, "u-1");
  REQUIRE(cache.find_user({"", "u-1"}) != nullptr);
  CHECK(cache.find_user({"", "u-1"})->all);
  const EmailEntry* email = cache.find_email({"", "a@b.c"});
  REQUIRE(email != nullptr);
  CHECK(email->link_known);
  CHECK(email->linked_user == "u-1");
  CHECK_FALSE(email->lead_known);
  CHECK(cache.size() == 2);

  SECTION("the business unit is part of the key") {
    CHECK(cache.find_user({"eu", "u-1"}) == nullptr);
    CHECK(cache.find_email({"eu", "a@b.c"}) == nullptr);
  }
  SECTION("a user and an email with the same text are different records") {
    CHECK(cache.find_user({"", "a@b.c"}) == nullptr);
    CHECK(cache.find_email({"", "u-1"}) == nullptr);
  }
  SECTION("parts are not confused across the separator") {
    cache.put_user({"a", "b"}, OptOutRecord{});
    CHECK(cache.find_user({"", "ab"}) == nullptr);
    CHECK(cache.find_user({"ab", ""}) == nullptr);
    CHECK(cache.find_user({"a", "b"}) != nullptr);
  }
  SECTION("lookups by views into larger buffers") {
    const std::string buffer = "u-1 and more";
    CHECK(cache.find_user({"", std::string_view(buffer).substr(0, 3)}) != nullptr);
    CHECK(cache.find_user({"", std::string_view(buffer).substr(0, 2)}) == nullptr);
  }
  SECTION("erasing one part of an email keeps the other") {
    cache.put_lead({"", "a@b.c"}, opted_out_of_all());
    CHECK(cache.size() == 3);
    cache.erase_link({"", "a@b.c"});
    REQUIRE(cache.find_email({"", "a@b.c"}) != nullptr);
    CHECK_FALSE(cache.find_email({"", "a@b.c"})->link_known);
    CHECK(cache.find_email({"", "a@b.c"})->lead_known);
    CHECK(cache.size() == 2);
    cache.erase_lead({"", "a@b.c"});
    CHECK(cache.find_email({"", "a@b.c"}) == nullptr);
    CHECK(cache.size() == 1);
  }
  SECTION("erase removes one record") {
    cache.erase_user({"", "u-1"});
    CHECK(cache.find_user({"", "u-1"}) == nullptr);
    CHECK(cache.find_email({"", "a@b.c"}) != nullptr);
    CHECK(cache.size() == 1);
  }
  SECTION("erasing what is not there changes nothing") {
    cache.erase_user({"", "nobody"});
    cache.erase_lead({"", "a@b.c"});
    cache.erase_link({"", "x@y.z"});
    CHECK(cache.size() == 2);
  }
  SECTION("clear removes everything and is not an eviction") {
    cache.clear();
    CHECK(cache.size() == 0);
    CHECK(cache.find_user({"", "u-1"}) == nullptr);
    CHECK(cache.evictions() == 0);
  }
}

TEST_CASE("cache: a key that brings its hash finds what its parts find", "[cache]") {
  // The message loop hashes each name once and hands the hash to every probe of that message.
  PersonCache cache(10);
  cache.put_user({"eu", "u-1"}, opted_out_of_all());
  cache.put_lead({"eu", "a@b.c"}, opted_out_of_all());
  const gk::PersonKey user{"eu", "u-1", gk::person_key_hash("eu", "u-1")};
  const gk::PersonKey email{"eu", "a@b.c", gk::person_key_hash("eu", "a@b.c")};
  REQUIRE(cache.find_user(user) != nullptr);
  CHECK(cache.find_user(user) == cache.find_user({"eu", "u-1"}));
  REQUIRE(cache.find_email(email) != nullptr);
  CHECK(cache.find_email(email) == cache.find_email({"eu", "a@b.c"}));
  // The hash is trusted, not checked: a wrong one finds nothing (so the caller reads Redis
  // again), never another person's entry.
  const gk::PersonKey wrong{"eu", "u-1", gk::person_key_hash("eu", "u-2")};
  CHECK(cache.find_user(wrong) == nullptr);
  cache.put_user({"eu", "u-2"}, OptOutRecord{});
  const gk::PersonKey u2{"eu", "u-2", gk::person_key_hash("eu", "u-2")};
  REQUIRE(cache.find_user(u2) != nullptr);
  CHECK_FALSE(cache.find_user(u2)->all);
}

TEST_CASE("cache: an absent record is cached as an empty entry", "[cache]") {
  // Most people never opt out; remembering "no such key" is what saves the round trip.
  PersonCache cache(10);
  cache.put_user({"", "u-1"}, OptOutRecord{});
  cache.put_link({"", "a@b.c"}, "");

  REQUIRE(cache.find_user({"", "u-1"}) != nullptr);
  CHECK(*cache.find_user({"", "u-1"}) == OptOutRecord{});
  REQUIRE(cache.find_email({"", "a@b.c"}) != nullptr);
  CHECK(cache.find_email({"", "a@b.c"})->link_known);
  CHECK(cache.find_email({"", "a@b.c"})->linked_user.empty());
}

TEST_CASE("cache: writing a known record overwrites it without evicting", "[cache]") {
  PersonCache cache(2);
  cache.put_user({"", "a"}, opted_out_of_all());
  cache.put_link({"", "b@c.d"}, "x");

  cache.put_user({"", "a"}, OptOutRecord{});
  cache.put_link({"", "b@c.d"}, "u-9");

  CHECK(cache.size() == 2);
  CHECK(cache.evictions() == 0);
  REQUIRE(cache.find_user({"", "a"}) != nullptr);
  CHECK_FALSE(cache.find_user({"", "a"})->all);
  CHECK(cache.find_email({"", "b@c.d"})->linked_user == "u-9");
}

TEST_CASE("cache: never holds more than max_entries keys and counts each eviction", "[cache]") {
  PersonCache cache(3);
  CHECK(cache.max_entries() == 3);

  for (int i = 0; i < 100; ++i) {
    const std::string id = "u-" + std::to_string(i);
    const std::string email = id + "@x.y";
    cache.put_user({"", id}, OptOutRecord{});
    cache.put_lead({"", email}, OptOutRecord{});
    cache.put_link({"", email}, id);
    INFO("after writing " << id);
    CHECK(cache.size() <= 3);
    // The entry being written is never the victim: it is what the caller is about to use.
    const EmailEntry* e = cache.find_email({"", email});
    REQUIRE(e != nullptr);
    CHECK(e->lead_known);
    CHECK(e->link_known);
  }
  CHECK(cache.size() == 3);
  CHECK(cache.evictions() == 297);

  SECTION("a smaller bound evicts down to it at once") {
    cache.set_max_entries(1);
    CHECK(cache.size() == 1);
    CHECK(cache.evictions() == 299);
  }
}

TEST_CASE("cache: a large cache evicts in bulk and stays within its bound", "[cache]") {
  PersonCache cache(1000);
  for (int i = 0; i < 20000; ++i) {
    cache.put_user({"bu", "u-" + std::to_string(i)}, OptOutRecord{});
    REQUIRE(cache.size() <= 1000);
  }
  CHECK(cache.size() + cache.evictions() == 20000);
  CHECK(cache.find_user({"bu", "u-19999"}) != nullptr);
}

TEST_CASE("cache: the memory bound stops a table doubling, and new people take evicted slots",
          "[cache]") {
  constexpr std::size_t kBound = 4u << 20;  // 4 MiB
  PersonCache cache(100'000'000, kBound);
  CHECK(cache.max_bytes() == kBound);
  std::size_t peak = 0;
  constexpr int kPeople = 200'000;  // far more than 4 MiB of slots hold
  for (int i = 0; i < kPeople; ++i) {
    const std::string id = "u-" + std::to_string(i);
    const std::string email = id + "@example.com";
    cache.put_user({"bu", id}, OptOutRecord{});
    cache.put_lead({"bu", email}, OptOutRecord{});
    cache.put_link({"bu", email}, "");
    peak = std::max(peak, cache.bytes());
    // What was just written is there: the caller is about to use it.
    REQUIRE(cache.find_user({"bu", id}) != nullptr);
    REQUIRE(cache.find_email({"bu", email}) != nullptr);
  }
  INFO("peak " << peak << " bytes, " << cache.size() << " keys held");
  CHECK(peak <= kBound);
  // It kept filling what it had: at least half the bound's worth of slots in use, and every
  // person not held was counted as evicted.
  CHECK(cache.bytes() > kBound / 2);
  CHECK(cache.size() + cache.evictions() == 3u * kPeople);
  CHECK(cache.evictions() > 0);

  SECTION("unbounded, the same people take more than the bound") {
    PersonCache unbounded(100'000'000, 0);
    for (int i = 0; i < kPeople; ++i) unbounded.put_user({"bu", "u-" + std::to_string(i)}, {});
    CHECK(unbounded.evictions() == 0);
    CHECK(unbounded.bytes() > kBound);
  }
}

TEST_CASE("cache: max_entries 0 caches nothing", "[cache]") {
  PersonCache cache(0);
  cache.put_user({"", "u-1"}, opted_out_of_all());
  cache.put_lead({"", "a@b.c"}, opted_out_of_all());
  cache.put_link({"", "a@b.c"}, "u-1");

  CHECK(cache.size() == 0);
  CHECK(cache.find_user({"", "u-1"}) == nullptr);
  CHECK(cache.find_email({"", "a@b.c"}) == nullptr);
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

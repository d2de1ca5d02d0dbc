// The bulk CSV (PROTOCOL.md 12): splitting and quoting, and each row checked and put in its
// stored form before it reaches the store, with a reason when it is bad.
#include <catch2/catch.hpp>

#include "common/rules/channels.h"
#include "common/rules/topics.h"
#include "common/util/csv.h"
#include "gatekeeper/management/bulk_rows.h"

using gk::BulkKind;
using gk::BulkRow;

namespace {

const gk::ChannelRegistry& registry() {
  static const gk::ChannelRegistry channels(
      {}, {gk::TopicConfig{"Newsletter", gk::TopicDefault::kSubscribed, {}}});
  return channels;
}

// The row, or its error with "ERROR: " in front.
std::string parse(std::string_view line, BulkRow& row) {
  std::vector<std::string> scratch;
  const std::string error = gk::parse_bulk_row(line, registry(), row, scratch);
  return error.empty() ? "" : "ERROR: " + error;
}

}  // namespace

TEST_CASE("csv: quoted fields, doubled quotes and a trailing CR", "[bulk]") {
  std::vector<std::string> f;
  REQUIRE(gk::split_csv("user,,\"a,b\",\"say \"\"hi\"\"\",1\r", f));
  CHECK(f == std::vector<std::string>{"user", "", "a,b", "say \"hi\"", "1"});
  CHECK_FALSE(gk::split_csv("user,\"open", f));
  std::string out;
  gk::append_csv(out, "plain");
  out.push_back(',');
  gk::append_csv(out, "has,comma \"q\"");
  CHECK(out == "plain,\"has,comma \"\"q\"\"\"");
  REQUIRE(gk::split_csv(out, f));
  CHECK(f == std::vector<std::string>{"plain", "has,comma \"q\""});
}

TEST_CASE("bulk rows: users, leads and addresses in their stored form", "[bulk]") {
  BulkRow row;
  REQUIRE(parse("user,eu,User-1,email,1,1700000000000,", row).empty());
  CHECK(row.kind == BulkKind::kUser);
  CHECK(row.bu == "eu");
  CHECK(row.who == "User-1");
  CHECK(row.field == "MAIL");  // the alias, any case, becomes the channel
  CHECK(row.value);
  CHECK(row.ts == 1700000000000);

  REQUIRE(parse("lead,, Ann@Example.COM ,all,0,0,", row).empty());
  CHECK(row.kind == BulkKind::kLead);
  CHECK(row.who == "ann@example.com");
  CHECK(row.field == "ALL");
  CHECK_FALSE(row.value);

  REQUIRE(parse("user,,u,topic:NEWSLETTER,1,5,", row).empty());
  CHECK(row.field == "topic:Newsletter");  // a configured topic as configured
  REQUIRE(parse("user,,u,topic:retired,1,5,", row).empty());
  CHECK(row.field == "topic:retired");  // another one as written: exports import back
  REQUIRE(parse("user,,u,blacklist,1,5,", row).empty());
  CHECK(row.field == "BLACKLIST");

  REQUIRE(parse("address,,+49 [151] 123-45.67,sms,1,5,sms_stop", row).empty());
  CHECK(row.kind == BulkKind::kAddress);
  CHECK(row.who == "+491511234567");
  CHECK(row.field == "SMS");
  CHECK(row.reason == "sms_stop");
  REQUIRE(parse("address,,Bounced@Example.com,EMAIL,1,5,", row).empty());
  CHECK(row.who == "bounced@example.com");
  CHECK(row.reason == "manual");  // a suppression needs a reason
  REQUIRE(parse("address,,Bounced@Example.com,MAIL,0,5,", row).empty());
  CHECK(row.reason.empty());  // lifting one keeps the stored reason
  REQUIRE(parse("address,, device-token-1 ,PUSH_NOTIFICATION,1,5,manual", row).empty());
  CHECK(row.who == "device-token-1");  // another channel's address is only trimmed
}

TEST_CASE("bulk rows: every bad row gets a reason naming what is wrong", "[bulk]") {
  BulkRow row;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"user,,u,MAIL,1", "expected 7 columns"},
      {"user,,\"u,MAIL,1,1,", "a quoted field is not closed"},
      {"person,,u,MAIL,1,1,", "unknown kind 'person'"},
      {"user,,u,FAX,1,1,", "unknown field 'FAX'"},
      {"user,,u,topic:,1,1,", "unknown field 'topic:'"},
      {"user,,u,MAIL,true,1,", "value must be 1 or 0, got 'true'"},
      {"user,,u,MAIL,1,-5,", "timestamp must be ms since the epoch, got '-5'"},
      {"user,,u,MAIL,1,1.5,", "timestamp must be ms since the epoch"},
      {"user,,u,MAIL,1,99999999999999999999,", "timestamp must be ms since the epoch"},
      {"user,a:b,u,MAIL,1,1,", "businessUnit must not contain ':'"},
      {"user,,,MAIL,1,1,", "key (external id)"},
      {"user,,u,MAIL,1,1,bounce", "reason is for address rows only"},
      {"lead,,nobody,MAIL,1,1,", "key (email) must contain exactly one '@'"},
      {"address,eu,a@b.c,MAIL,1,1,", "businessUnit must be empty for an address"},
      {"address,,a@b.c,FAX,1,1,", "unknown channel 'FAX'"},
      {"address,,a@b.c,MAIL,1,1,spam", "unknown reason 'spam'"},
      {"address,,not mail,MAIL,1,1,", "the address is not an e-mail address"},
      {"address,,nobody,MAIL,1,1,", "the address is not an e-mail address"},
      {"address,,call me,SMS,1,1,", "the address is not a phone number"},
      {"address,,+,SMS,1,1,", "the address is not a phone number"},
      {"address,,   ,PUSH_NOTIFICATION,1,1,", "the address is empty"},
  };
  for (const auto& [line, expected] : cases) {
    INFO(line);
    const std::string got = parse(line, row);
    CHECK(got.find(expected) != std::string::npos);
    CHECK(got.starts_with("ERROR: "));
  }
  // A huge bad value is cut in the report.
  const std::string huge(10000, 'x');
  CHECK(parse("user,,u," + huge + ",1,1,", row).size() < 300);
}

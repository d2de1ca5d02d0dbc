#include <catch2/catch.hpp>

#include "common/config/config.h"
#include "common/config/config_summary.h"
#include "common/rules/address.h"
#include "common/rules/decide.h"
#include "common/store/erasure_hash.h"

using namespace gk;

TEST_CASE("addresses: e-mails are trimmed and lower-cased", "[address]") {
  std::string out;
  CHECK(normalize_address("MAIL", "  Jane.Doe@Example.COM\t", out));
  CHECK(out == "jane.doe@example.com");
  CHECK_FALSE(normalize_address("MAIL", "no-at-sign", out));
  CHECK_FALSE(normalize_address("MAIL", "a b@c.d", out));
  CHECK_FALSE(normalize_address("MAIL", "   ", out));
  CHECK(address_problem("MAIL", "x").find("not an e-mail address") != std::string::npos);
  CHECK(address_problem("MAIL", "x@y").empty());
}

TEST_CASE("addresses: phone numbers keep + and digits", "[address]") {
  std::string out;
  CHECK(normalize_address("SMS", "+44 (20) 7946-0018", out));
  CHECK(out == "+442079460018");
  CHECK(normalize_address("SMS", "555.010.0000", out));
  CHECK(out == "5550100000");
  CHECK(normalize_address("SMS", " [0049] 30 123 ", out));
  CHECK(out == "004930123");
  CHECK_FALSE(normalize_address("SMS", "call me", out));
  CHECK_FALSE(normalize_address("SMS", "12+34", out));
  CHECK_FALSE(normalize_address("SMS", "+", out));
  CHECK(address_problem("SMS", "abc").find("not a phone number") != std::string::npos);
}

TEST_CASE("addresses: other channels are only trimmed", "[address]") {
  std::string out;
  CHECK(normalize_address("PUSH_NOTIFICATION", " Token-ABC ", out));
  CHECK(out == "Token-ABC");
}

TEST_CASE("addresses: an SMS keyword is exactly one word (trimmed and in any case)", "[address]") {
  const SmsKeywordsConfig k;
  auto match = [&](std::string_view body) { return match_sms_keyword(body, k.opt_out, k.opt_in); };
  CHECK(match("STOP") == SmsKeyword::kOptOut);
  CHECK(match("  stop \r\n") == SmsKeyword::kOptOut);
  CHECK(match("StopAll") == SmsKeyword::kOptOut);
  CHECK(match("unsubscribe") == SmsKeyword::kOptOut);
  CHECK(match("cancel") == SmsKeyword::kOptOut);
  CHECK(match("End") == SmsKeyword::kOptOut);
  CHECK(match("quit") == SmsKeyword::kOptOut);
  CHECK(match("start") == SmsKeyword::kOptIn);
  CHECK(match("Yes") == SmsKeyword::kOptIn);
  CHECK(match("UNSTOP") == SmsKeyword::kOptIn);
  CHECK(match("HELP") == SmsKeyword::kNone);
  CHECK(match("STOP please") == SmsKeyword::kNone);
  CHECK(match("STOP STOP") == SmsKeyword::kNone);
  CHECK(match("") == SmsKeyword::kNone);
  CHECK(match_sms_keyword("arret", {"ARRET"}, {"ALLEZ"}) == SmsKeyword::kOptOut);
  CHECK(match_sms_keyword("allez", {"ARRET"}, {"ALLEZ"}) == SmsKeyword::kOptIn);
  CHECK(match_sms_keyword("STOP", {"ARRET"}, {"ALLEZ"}) == SmsKeyword::kNone);
}

TEST_CASE("addresses: reasons round-trip", "[address]") {
  for (auto r : {AddressReason::kBounce, AddressReason::kComplaint, AddressReason::kSmsStop,
                 AddressReason::kManual}) {
    CHECK(parse_address_reason(to_string(r)) == r);
  }
  CHECK_FALSE(parse_address_reason("soft"));
  CHECK(address_reason(AddressReason::kBounce) == Reason::kAddressBounce);
  CHECK(address_reason(AddressReason::kComplaint) == Reason::kAddressComplaint);
  CHECK(address_reason(AddressReason::kSmsStop) == Reason::kAddressSmsStop);
  CHECK(address_reason(AddressReason::kManual) == Reason::kAddressManual);
}

TEST_CASE(
    "decide: erased before blacklist before address before the channel rules and the "
    "exemption covers neither erased nor address",
    "[address][decide]") {
  OptOutRecord clean;
  DecisionInput in;
  in.channel_known = true;
  in.has_address = true;
  in.realtime_transactional = true;
  in.status = &clean;
  in.address = AddressReason::kSmsStop;
  CHECK(decide(in) == Verdict{Action::kSuppress, Reason::kAddressSmsStop});
  in.erased = true;
  CHECK(decide(in) == Verdict{Action::kSuppress, Reason::kErased});
  in.erased = false;
  OptOutRecord blacklisted;
  blacklisted.blacklisted = true;
  in.status = &blacklisted;
  CHECK(decide(in) == Verdict{Action::kSuppress, Reason::kBlacklisted});
  in.erased = true;
  CHECK(decide(in) == Verdict{Action::kSuppress, Reason::kErased});
  in.erased = false;
  // An opt-out on ALL comes after the address.
  OptOutRecord all;
  all.all = true;
  in.realtime_transactional = false;
  in.status = &all;
  CHECK(decide(in) == Verdict{Action::kSuppress, Reason::kAddressSmsStop});
  // With the store down and the exemption on, a suppressed address still stops it.
  in.realtime_transactional = true;
  in.status = nullptr;
  in.forward_transactional_without_status = true;
  CHECK(decide(in) == Verdict{Action::kSuppress, Reason::kAddressSmsStop});
  in.address = AddressReason::kNone;
  CHECK(decide(in) == Verdict{Action::kForward, Reason::kNone});
  // Erased needs no `to`: an erased person without an address is still `erased`.
  in.has_address = false;
  in.erased = true;
  CHECK(decide(in) == Verdict{Action::kSuppress, Reason::kErased});
  CHECK(is_suppression(Reason::kErased));
  CHECK(is_suppression(Reason::kAddressBounce));
}

TEST_CASE("erasure hashes: salted and per kind with no identifier inside", "[address][erasure]") {
  const std::string salt(40, 's');
  const std::string a = tombstone_of_user(salt, "", "alice");
  CHECK(a.size() == 32);
  CHECK(TombstoneHasher::hex(*TombstoneHasher::parse(a)) == a);
  CHECK_FALSE(TombstoneHasher::parse("xyz"));
  CHECK_FALSE(TombstoneHasher::parse(std::string(32, 'G')));
  CHECK(a.find("alice") == std::string::npos);
  CHECK(a == tombstone_of_user(salt, "", "alice"));
  CHECK(a != tombstone_of_user(std::string(40, 't'), "", "alice"));
  CHECK(a != tombstone_of_user(salt, "bu", "alice"));
  // No separator games: ("a", "b:c") and ("a:b", "c") differ.
  CHECK(tombstone_of_user(salt, "a", "b:c") != tombstone_of_user(salt, "a:b", "c"));
  CHECK(tombstone_of_address(salt, "MAIL", "a@b.c") != tombstone_of_address(salt, "SMS", "a@b.c"));
}

TEST_CASE("erasure hashes: SipHash-2-4 matches the reference vector", "[address][erasure]") {
  // Aumasson & Bernstein, SipHash, appendix A: key 00..0f, message 00..0e.
  std::string message;
  for (char c = 0; c < 15; ++c) message.push_back(c);
  CHECK(siphash24(0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL, message) == 0xa129ca6149be45e5ULL);
}

TEST_CASE("config: suppression, sms_keywords and erasure keys", "[address][config]") {
  const auto ok = parse_config(R"(
[channels.MAIL]
endpoint = "tcp://127.0.0.1:5601"
[suppression]
soft_bounce_limit = 5
soft_bounce_window_days = 30
[sms_keywords]
opt_out = ["ARRET"]
opt_in = ["ALLEZ"]
[erasure]
salt = "0123456789abcdef0123456789abcdef"
)");
  REQUIRE(ok.config);
  CHECK(ok.config->suppression.soft_bounce_limit == 5);
  CHECK(ok.config->suppression.soft_bounce_window_days == 30);
  CHECK(ok.config->sms_keywords.opt_out == std::vector<std::string>{"ARRET"});
  CHECK(ok.config->sms_keywords.opt_in == std::vector<std::string>{"ALLEZ"});
  CHECK(ok.config->erasure.salt.size() == 32);
  CHECK(ok.config->erasure.enabled());
  const std::string summary = summarize_config(*ok.config).dump();
  CHECK(summary.find("0123456789abcdef") == std::string::npos);

  const auto bad = parse_config(R"(
[channels.MAIL]
endpoint = "tcp://127.0.0.1:5601"
[erasure]
salt = "short"
[sms_keywords]
opt_out = ["STOP NOW", "QUIT"]
opt_in = ["quit"]
[suppression]
soft_bounce_limit = 0
)");
  REQUIRE_FALSE(bad.config);
  std::string all;
  for (const auto& e : bad.errors) all += e.to_string() + "\n";
  INFO(all);
  CHECK(all.find("erasure.salt") != std::string::npos);
  CHECK(all.find("sms_keywords.opt_out[0]") != std::string::npos);
  CHECK(all.find("both an opt-out and an opt-in keyword") != std::string::npos);
  CHECK(all.find("suppression.soft_bounce_limit") != std::string::npos);
}

// The identity rules (common/identity.h) and the key builder that enforces them last.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "common/protocol/client.h"
#include "common/rules/identity.h"
#include "common/store/key_schema.h"

using namespace gk;

TEST_CASE("identity: business units", "[identity]") {
  for (const std::string& bu :
       std::vector<std::string>{"", "T", "eu-west_1", "de.shop", std::string(64, 'b'),
                                std::string("\xc3\xa9t\xc3\xa9")}) {
    INFO(bu);
    CHECK(business_unit_problem(bu).empty());
  }
  CHECK(business_unit_problem("T:b") == "must not contain ':'");
  CHECK(business_unit_problem(":") == "must not contain ':'");
  CHECK(business_unit_problem("T ") == "must not contain whitespace");
  CHECK(business_unit_problem("T\tb") == "must not contain whitespace");
  CHECK(business_unit_problem("T\nb") == "must not contain whitespace");
  CHECK(business_unit_problem("T\rb") == "must not contain whitespace");
  CHECK(business_unit_problem(std::string("T\0b", 3)) == "must not contain control characters");
  CHECK(business_unit_problem("T\x7f") == "must not contain control characters");
  CHECK(business_unit_problem(std::string(65, 'b')) == "must be at most 64 bytes");
  CHECK(business_unit_error("businessUnit", "T:b") == "businessUnit must not contain ':'");
  CHECK(business_unit_error("businessUnit", "T").empty());
}

TEST_CASE("identity: external ids", "[identity]") {
  // ':' is allowed: the business unit in front of it cannot hold one.
  for (const std::string& id : std::vector<std::string>{"u1", "b:X", "a/b c", std::string(256, 'x'),
                                                        std::string("\xe2\x82\xac")}) {
    INFO(id);
    CHECK(external_id_problem(id).empty());
  }
  CHECK(external_id_problem("") == "must not be empty");
  CHECK(external_id_problem(std::string(257, 'x')) == "must be at most 256 bytes");
  CHECK(external_id_problem("u\n1") == "must not contain control characters");
  CHECK(external_id_problem(std::string("u\0", 2)) == "must not contain control characters");
  CHECK(external_id_error("id", "u\t") == "id must not contain control characters");
}

TEST_CASE("identity: emails are trimmed and lower-cased, then checked", "[identity]") {
  CHECK(trim_email("  Pat@Example.com\n") == "Pat@Example.com");
  CHECK(trim_email("\t\r\n a@b \v\f") == "a@b");
  CHECK(normalize_email("  Pat@Example.com\n") == "pat@example.com");
  CHECK(normalize_email("\xc3\x89LODIE@X.FR") == "\xc3\x89lodie@x.fr");  // ASCII only
  CHECK(normalize_email(" Ann@Example.COM ") == "ann@example.com");

  for (const std::string& email : std::vector<std::string>{
           "a@x", "pat@example.com", "  Pat@Example.com\n", "first.last+tag@sub.example.co.uk",
           std::string(250, 'a') + "@x.y"}) {
    INFO(email);
    CHECK(email_problem(email).empty());
  }
  CHECK(email_problem("") == "must not be empty");
  CHECK(email_problem(" \n\t ") == "must not be empty");
  CHECK(email_problem("@x") == "must be at least 3 bytes");
  CHECK(email_problem(std::string(251, 'a') + "@x.y") == "must be at most 254 bytes");
  CHECK(email_problem("pat example.com") == "must not contain whitespace");
  CHECK(email_problem("pat@exa mple.com") == "must not contain whitespace");
  CHECK(email_problem("pat@exa\nmple.com") == "must not contain whitespace");
  CHECK(email_problem(std::string("pat@ex\0.com", 11)) == "must not contain control characters");
  CHECK(email_problem("pat.example.com") == "must contain exactly one '@'");
  CHECK(email_problem("a@b@example.com") == "must contain exactly one '@'");
  CHECK(email_problem("@example.com") == "must have text on both sides of '@'");
  CHECK(email_problem("pat@") == "must have text on both sides of '@'");
  CHECK(email_error("email", "nope") == "email must contain exactly one '@'");
}

TEST_CASE("identity: no error text quotes the value", "[identity]") {
  const std::string secret = "pat@example.com";
  for (const std::string& e :
       {business_unit_error("businessUnit", secret + ": x"), external_id_error("id", secret + "\n"),
        email_error("email", secret + " " + secret)}) {
    INFO(e);
    CHECK_FALSE(e.empty());
    CHECK(e.find(secret) == std::string::npos);
  }
}

TEST_CASE("keys: a clean and a padded email build the same keys", "[identity][keys]") {
  const KeySchema keys("gk:");
  std::string clean;
  std::string padded;
  keys.lead(clean, "T", "pat@example.com");
  keys.lead(padded, "T", "  Pat@Example.com\n");
  CHECK(clean == "gk:l:T:pat@example.com");
  CHECK(padded == clean);
  keys.link(clean, "T", "pat@example.com");
  keys.link(padded, "T", "\tPAT@example.COM ");
  CHECK(clean == "gk:id:T:pat@example.com");
  CHECK(padded == clean);
  CHECK(keys.history(true, "T", " Pat@Example.com") == "gk:h:l:T:pat@example.com");
}

TEST_CASE("keys: an ambiguous business unit is refused, never built", "[identity][keys]") {
  // ("T:b", "X") and ("T", "b:X") would both be gk:u:T:b:X.
  const KeySchema keys("gk:");
  const KeySchema cluster("gk:", true);
  std::string key;
  keys.user(key, "T", "b:X");
  CHECK(key == "gk:u:T:b:X");
  CHECK_THROWS_AS(keys.user(key, "T:b", "X"), std::invalid_argument);
  CHECK_THROWS_WITH(keys.user(key, "T:b", "X"), Catch::Contains("must not contain ':'"));
  CHECK_THROWS_AS(keys.lead(key, "T:b", "x@y.z"), std::invalid_argument);
  CHECK_THROWS_AS(keys.link(key, "T:b", "x@y.z"), std::invalid_argument);
  CHECK_THROWS_AS(keys.linked_emails("T:b", "X"), std::invalid_argument);
  CHECK_THROWS_AS(cluster.history(false, "T:b", "X"), std::invalid_argument);
  CHECK_THROWS_AS(keys.user(key, "T\n", "X"), std::invalid_argument);
  CHECK_THROWS_AS(keys.user(key, std::string(65, 'b'), "X"), std::invalid_argument);
  // The single-server status script builds its keys in Lua; it asks the same question first.
  CHECK_NOTHROW(require_key_business_unit(""));
  CHECK_NOTHROW(require_key_business_unit("T"));
  CHECK_THROWS_AS(require_key_business_unit("T:b"), std::invalid_argument);
  // The refusal does not leave a half-built key behind.
  CHECK(key.empty());
}

TEST_CASE("client: a header breaking the identity rules is refused before it is sent",
          "[identity][client]") {
  auto base = [] { return client::HeaderBuilder().id("m-1").channel("MAIL"); };
  CHECK(base().user_id("b:X").bu("T").problem().empty());
  CHECK(base().email(" Pat@Example.com ").problem().empty());
  CHECK(base().user_id("X").bu("T:b").problem() == "user bu must not contain ':'");
  CHECK(base().user_id(std::string(257, 'x')).problem() == "user id must be at most 256 bytes");
  CHECK(base().email("nobody").problem() == "user email must contain exactly one '@'");
  CHECK_THROWS_AS(base().user_id("X").bu("T\n").build(), std::invalid_argument);
}

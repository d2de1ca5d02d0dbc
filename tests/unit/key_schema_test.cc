// The key layout of PROTOCOL.md section 3 (and our additions) is owned by KeySchema: the C++
// builds keys with it, the Lua scripts take its prefixes as arguments, the reader tracks its
// prefixes. These tests hold the schema to the documented layout and check that nothing else
// spells a key kind.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/redis/cluster_slots.h"
#include "common/store/import_script.h"
#include "common/store/key_schema.h"
#include "common/store/status_script.h"

namespace {

using gk::KeySchema;

// The kinds as a script or a C++ file would spell them if it built keys itself.
const std::vector<std::string> kKindLiterals = {"u:", "l:", "id:", "ue:", "h:", "a:", "t:"};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("keys: the schema spells the documented layout for a sample person", "[keys]") {
  const KeySchema keys("gk:");
  std::string key = "left over from the previous key";
  keys.user(key, "eu", "User-1");
  CHECK(key == "gk:u:eu:User-1");  // the external id as written
  keys.lead(key, "eu", " Ann.Lee@Example.COM ");
  CHECK(key == "gk:l:eu:ann.lee@example.com");  // the email trimmed and lower-cased
  keys.link(key, "eu", "Ann.Lee@Example.COM");
  CHECK(key == "gk:id:eu:ann.lee@example.com");
  CHECK(keys.linked_emails("eu", "User-1") == "gk:ue:eu:User-1");
  CHECK(keys.history(false, "eu", "User-1") == "gk:h:u:eu:User-1");
  CHECK(keys.history(true, "eu", "Ann.Lee@Example.COM") == "gk:h:l:eu:ann.lee@example.com");
  CHECK(keys.events() == "gk:events");
  keys.address(key, "SMS", "+4915112345678");
  CHECK(key == "gk:a:SMS:+4915112345678");
  keys.tombstone(key, "0f1e2d");
  CHECK(key == "gk:t:0f1e2d");
  CHECK(keys.address_prefix() == "gk:a:");
  CHECK(keys.tombstone_prefix() == "gk:t:");
  CHECK(keys.tracking_prefixes() == std::vector<std::string>{"gk:u:", "gk:l:", "gk:id:"});
  // The prefixes the scripts build from are the keys' own beginnings.
  CHECK(keys.user_prefix() == "gk:u:");
  CHECK(keys.lead_prefix() == "gk:l:");
  CHECK(keys.link_prefix() == "gk:id:");
  CHECK(keys.linked_emails_prefix() == "gk:ue:");
  CHECK(keys.user_history_prefix() == "gk:h:u:");
  CHECK(keys.lead_history_prefix() == "gk:h:l:");

  SECTION("an absent business unit is empty") {
    keys.user(key, "", "u-1");
    CHECK(key == "gk:u::u-1");
    keys.lead(key, "", "a@b.c");
    CHECK(key == "gk:l::a@b.c");
    keys.link(key, "", "a@b.c");
    CHECK(key == "gk:id::a@b.c");
  }
  SECTION("the business unit is kept as written") {
    keys.lead(key, "EU-West", "a@b.c");
    CHECK(key == "gk:l:EU-West:a@b.c");
  }
}

TEST_CASE("keys: the prefix and cluster mode come from the configuration", "[keys]") {
  gk::RedisConfig config;
  config.key_prefix = "tenant7:";
  const KeySchema single(config);
  std::string key;
  single.user(key, "eu", "u-1");
  CHECK(key == "tenant7:u:eu:u-1");
  CHECK(single.events() == "tenant7:events");
  CHECK_FALSE(single.cluster());
  CHECK(single.history(false, "eu", "u-1") == "tenant7:h:u:eu:u-1");

  config.cluster = {"127.0.0.1:7000"};
  const KeySchema cluster(config);
  CHECK(cluster.cluster());
  cluster.user(key, "eu", "u-1");
  const std::string history = cluster.history(false, "eu", "u-1");
  // The tagged form: the tag puts the history in the status hash's slot.
  CHECK(history.starts_with("tenant7:h:{"));
  CHECK(history.ends_with("}:u:eu:u-1"));
  CHECK(gk::key_slot(history) == gk::key_slot(key));

  const KeySchema bare("");
  bare.link(key, "eu", "A@B.C");
  CHECK(key == "id:eu:a@b.c");
}

TEST_CASE("keys: a SCAN pattern for a prefix escapes the glob characters in it", "[keys]") {
  CHECK(gk::key_prefix_pattern("gk:") == "gk:*");
  CHECK(gk::key_prefix_pattern("a*b?c[d]e\\f:") == "a\\*b\\?c\\[d\\]e\\\\f:*");
  CHECK(gk::key_prefix_pattern("") == "*");
}

TEST_CASE("keys: the status scripts spell no key kind, they take the schema's prefixes", "[keys]") {
  auto scripts = gk::status_script_sources();
  REQUIRE(scripts.size() >= 2);
  for (std::string& s : gk::import_script_sources()) scripts.push_back(std::move(s));
  for (const std::string& script : scripts) {
    for (const std::string& kind : kKindLiterals) {
      for (const char quote : {'\'', '"'}) {
        const std::string literal = quote + kind;
        INFO("a script spells " << literal << ":\n" << script);
        CHECK(script.find(literal) == std::string::npos);
      }
      // Also not in the middle of a longer literal ('h:u:', 'x:' .. 'u:').
      INFO("a script spells ..." << kind);
      CHECK(script.find(":" + kind) == std::string::npos);
    }
  }
}

TEST_CASE("keys: no product source but the schema spells a key kind", "[keys]") {
  const std::filesystem::path root = GK_SOURCE_DIR;
  std::size_t files = 0;
  for (const char* dir : {"common", "gatekeeper"}) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root / dir)) {
      const auto ext = entry.path().extension();
      if (!entry.is_regular_file() || (ext != ".cc" && ext != ".h")) continue;
      if (entry.path().filename().string().starts_with("key_schema.")) continue;
      ++files;
      const std::string text = read_file(entry.path());
      for (const std::string& kind : kKindLiterals) {
        for (const char quote : {'\'', '"'}) {
          INFO(entry.path().string() << " spells " << quote << kind);
          CHECK(text.find(quote + kind) == std::string::npos);
        }
      }
    }
  }
  CHECK(files > 50);  // the walk found the sources
}

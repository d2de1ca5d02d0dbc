// The bulk import's batch script (common/store/import_script.h) against a real redis-server
// and a real 3-primary cluster: each row stored as a status write of the same change would
// store it (last writer wins, equal times apply, a stored time past the bound loses), one
// history entry per changed row, address suppressions, rows of linked people handed back,
// dry runs that write nothing, and a store that forgot the script.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "common/store/import_script.h"
#include "common/store/key_schema.h"
#include "common/store/status_script.h"
#include "tests/support/store_backends.h"

using namespace gk;
using namespace gk::test;

namespace {

constexpr EpochMs kNow = 1795688100123;

template <typename Store>
struct ImportRig {
  Store store;
  RedisConfig config = store.config();
  RedisRouter::Ptr conn = connect();
  KeySchema keys{config.key_prefix, Store::kCluster};

  RedisRouter::Ptr connect() {
    auto c = RedisRouter::connect(config);
    INFO(c.error());
    REQUIRE(c);
    return std::move(c).value();
  }

  std::vector<ImportOutcome> import(const std::vector<ImportWrite>& rows, bool dry = false) {
    ImportBatchOptions o;
    o.dry_run = dry;
    o.horizon = kNow + 300000;
    o.received = kNow;
    auto r = run_import_batch(*conn, config, rows, o);
    INFO(r.error());
    REQUIRE(r);
    return *r;
  }

  StatusWriteResult write(const std::string& id, const std::string& email, const std::string& field,
                          bool value, EpochMs ts) {
    StatusWrite w;
    w.external_id = id;
    w.email = email;
    w.field = field;
    w.value = value;
    w.ts = ts;
    w.received = kNow;
    w.source = "api";
    StatusLimits limits;
    limits.now = kNow;
    auto r = run_status_script(*conn, config, w, limits);
    INFO(r.error());
    REQUIRE(r);
    return *r;
  }

  std::string hget(const std::string& key, const std::string& field) {
    auto r = store.command({"HGET", key, field});
    return r->type == REDIS_REPLY_STRING ? std::string(r->str, r->len) : std::string("(nil)");
  }
  std::vector<std::string> history(bool lead, const std::string& who) {
    const std::string key = keys.history(lead, "", who);
    auto r = store.command({"LRANGE", key, "0", "-1"});
    std::vector<std::string> out;
    for (std::size_t i = 0; i < r->elements; ++i) out.emplace_back(r->element[i]->str);
    return out;
  }
};

ImportWrite user(const std::string& id, const std::string& field, bool value, EpochMs ts) {
  ImportWrite w;
  w.kind = ImportWrite::Kind::kUser;
  w.who = id;
  w.field = field;
  w.value = value;
  w.ts = ts;
  w.extra = value ? "Opt Out" : "Opt In";
  return w;
}

ImportWrite lead(const std::string& email, const std::string& field, bool value, EpochMs ts) {
  ImportWrite w = user(email, field, value, ts);
  w.kind = ImportWrite::Kind::kLead;
  return w;
}

ImportWrite address(const std::string& channel, const std::string& a, bool value, EpochMs ts,
                    const std::string& reason) {
  ImportWrite w = user(a, channel, value, ts);
  w.kind = ImportWrite::Kind::kAddress;
  w.extra = reason;
  return w;
}

using O = ImportOutcome;

}  // namespace

TEMPLATE_TEST_CASE("import script: last writer wins per row, one history entry per change",
                   "[import]", OneServer, Cluster) {
  ImportRig<TestType> rig;
  const auto out = rig.import({user("u1", "MAIL", true, 1000), user("u1", "MAIL", true, 2000),
                               user("u1", "MAIL", false, 500), user("u1", "MAIL", true, 2000),
                               lead("ann@example.com", "topic:news", true, 7),
                               user("u2", "BLACKLIST", false, 9)});
  CHECK(out == std::vector<O>{O::kChanged, O::kSame, O::kOlder, O::kSame, O::kChanged, O::kSame});
  CHECK(rig.hget("gk:u::u1", "MAIL") == "1");
  CHECK(rig.hget("gk:u::u1", "MAIL:ts") == "2000");
  CHECK(rig.hget("gk:l::ann@example.com", "topic:news") == "1");
  CHECK(rig.hget("gk:u::u2", "BLACKLIST") == "0");  // stored, with its time, unchanged
  CHECK(rig.hget("gk:u::u2", "BLACKLIST:ts") == "9");
  const auto history = rig.history(false, "u1");
  REQUIRE(history.size() == 1);
  const auto entry = nlohmann::json::parse(history[0]);
  CHECK(entry["source"] == "import");
  CHECK(entry["event"] == "Opt Out");
  CHECK(entry["field"] == "MAIL");
  CHECK(entry["old"] == false);
  CHECK(entry["new"] == true);
  CHECK(entry["applied"] == true);
  CHECK(entry["ts"] == 1000);
  CHECK(entry["timestamp"] == "1970-01-01T00:00:01.000Z");
  CHECK(rig.history(true, "ann@example.com").size() == 1);
  CHECK(rig.history(false, "u2").empty());
}

TEMPLATE_TEST_CASE("import script: a row stores what a status write of that change stores",
                   "[import]", OneServer, Cluster) {
  ImportRig<TestType> rig;
  // The same sequence on person "w" through the status script and on "i" through import,
  // from a stored time past the bound (which loses to any real change).
  for (const char* who : {"w", "i"}) {
    const std::string key = std::string("gk:u::") + who;
    rig.store.command({"HSET", key, "SMS", "1", "SMS:ts", std::to_string(kMaxEpochMs)});
  }
  const std::vector<std::tuple<std::string, bool, EpochMs>> steps = {
      {"SMS", false, 100}, {"SMS", true, 50}, {"SMS", true, 100}, {"ALL", true, 3},
      {"ALL", false, 4},   {"ALL", false, 4}, {"MAIL", false, 1}};
  for (const auto& [field, value, ts] : steps) {
    const StatusWriteResult w = rig.write("w", "", field, value, ts);
    const auto i = rig.import({user("i", field, value, ts)});
    INFO(field << " " << value << " @" << ts);
    CHECK(i[0] == (!w.applied ? O::kOlder : w.changed ? O::kChanged : O::kSame));
  }
  for (const char* f : {"SMS", "SMS:ts", "ALL", "ALL:ts", "MAIL", "MAIL:ts"}) {
    INFO(f);
    CHECK(rig.hget("gk:u::i", f) == rig.hget("gk:u::w", f));
  }
}

TEMPLATE_TEST_CASE("import script: address suppressions by the time of suppressed:ts", "[import]",
                   OneServer, Cluster) {
  ImportRig<TestType> rig;
  auto out = rig.import({address("MAIL", "a@example.com", true, 10, "bounce"),
                         address("MAIL", "a@example.com", true, 5, "complaint"),
                         address("SMS", "+15551234", false, 3, "")});
  CHECK(out == std::vector<O>{O::kChanged, O::kOlder, O::kSame});
  CHECK(rig.hget("gk:a:MAIL:a@example.com", "suppressed") == "1");
  CHECK(rig.hget("gk:a:MAIL:a@example.com", "reason") == "bounce");
  CHECK(rig.hget("gk:a:MAIL:a@example.com", "suppressed:ts") == "10");
  CHECK(rig.hget("gk:a:SMS:+15551234", "reason") == "(nil)");
  // A newer row with another reason is a change; lifting it keeps the reason.
  out = rig.import({address("MAIL", "a@example.com", true, 11, "complaint")});
  CHECK(out[0] == O::kChanged);
  out = rig.import({address("MAIL", "a@example.com", false, 12, "")});
  CHECK(out[0] == O::kChanged);
  CHECK(rig.hget("gk:a:MAIL:a@example.com", "suppressed") == "0");
  CHECK(rig.hget("gk:a:MAIL:a@example.com", "reason") == "complaint");
}

TEMPLATE_TEST_CASE("import script: rows of linked people go back to the full write", "[import]",
                   OneServer, Cluster) {
  ImportRig<TestType> rig;
  rig.write("u9", "l@example.com", "", false, 0);  // links the email to u9
  rig.write("u9", "", "MAIL", false, 5);
  const std::vector<ImportWrite> rows = {lead("l@example.com", "MAIL", true, 10),
                                         user("u9", "SMS", true, 10),
                                         lead("other@example.com", "MAIL", true, 10)};
  SECTION("applied: the linked ones are left alone") {
    const auto out = rig.import(rows);
    CHECK(out == std::vector<O>{O::kLinked, O::kLinked, O::kChanged});
    CHECK(rig.hget("gk:u::u9", "MAIL") == "0");
    CHECK(rig.hget("gk:l::l@example.com", "MAIL") == "(nil)");
  }
  SECTION("a dry run compares a linked email with its user and writes nothing") {
    const auto out = rig.import(rows, true);
    CHECK(out == std::vector<O>{O::kChanged, O::kChanged, O::kChanged});
    CHECK(rig.hget("gk:u::u9", "MAIL") == "0");
    CHECK(rig.hget("gk:u::u9", "SMS") == "(nil)");
    CHECK(rig.hget("gk:l::other@example.com", "MAIL") == "(nil)");
    CHECK(rig.import({lead("l@example.com", "MAIL", true, 1)}, true)[0] == O::kOlder);
  }
}

TEMPLATE_TEST_CASE("import script: a store that forgot the script learns it again", "[import]",
                   OneServer, Cluster) {
  ImportRig<TestType> rig;
  std::vector<ImportWrite> rows;
  for (int i = 0; i < 1000; ++i) rows.push_back(user("p" + std::to_string(i), "MAIL", true, 1));
  CHECK(rig.import(rows)[999] == O::kChanged);
  rig.store.flush_scripts();
  for (auto& r : rows) r.ts = 2;
  const auto out = rig.import(rows);
  CHECK(std::count(out.begin(), out.end(), O::kSame) == 1000);
  CHECK(rig.hget("gk:u::p999", "MAIL:ts") == "2");
}

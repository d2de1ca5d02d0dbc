#include "common/protocol/header.h"
#include "common/rules/identity.h"

#include <catch2/catch.hpp>
#include <msgpack.hpp>
#include <nlohmann/json.hpp>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cstdint>
#include <iomanip>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

CATCH_REGISTER_ENUM(gk::HeaderStatus, gk::HeaderStatus::kOk, gk::HeaderStatus::kTooLarge,
                    gk::HeaderStatus::kNotMsgpack, gk::HeaderStatus::kNotMap,
                    gk::HeaderStatus::kMissingId, gk::HeaderStatus::kBadId,
                    gk::HeaderStatus::kMissingChannel, gk::HeaderStatus::kBadChannel,
                    gk::HeaderStatus::kMissingUser, gk::HeaderStatus::kBadUser,
                    gk::HeaderStatus::kNoIdentity, gk::HeaderStatus::kBadTo,
                    gk::HeaderStatus::kBadCampaign, gk::HeaderStatus::kDuplicateKey,
                    gk::HeaderStatus::kBadIdentity)

namespace {

using gk::HeaderDecoder;
using gk::HeaderStatus;
using gk::MessageHeader;
using Json = nlohmann::json;
using Bytes = std::vector<std::uint8_t>;

// The default of ingress.max_header_bytes.
constexpr std::size_t kMaxHeader = 8192;

Json full_header() {
  return {
      {"id", "m-1"},
      {"channel", "MAIL"},
      {"user", {{"id", "u-1"}, {"email", "Ann@Example.com"}, {"bu", "eu"}}},
      {"campaign", {{"id", "c-1"}, {"type", "realtime"}, {"transactional", true}}},
      {"to", "ann@example.com"},
  };
}

// The least a header needs: id, channel and one identity.
Json minimal_header() {
  return {{"id", "m-1"}, {"channel", "MAIL"}, {"user", {{"id", "u-1"}}}};
}

Bytes pack(const Json& j) {
  return Json::to_msgpack(j);
}

Bytes pack(const msgpack::sbuffer& buffer) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(buffer.data());
  return Bytes(p, p + buffer.size());
}

// `base` with `key` set to `value` (a null value packs as msgpack nil).
Bytes with(Json base, const std::string& key, Json value) {
  base[key] = std::move(value);
  return pack(base);
}

Bytes without(Json base, const std::string& key) {
  base.erase(key);
  return pack(base);
}

Bytes with_user(Json user) {
  return with(minimal_header(), "user", std::move(user));
}

Bytes with_campaign(Json campaign) {
  return with(minimal_header(), "campaign", std::move(campaign));
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A map of id, channel and user followed by a key "x" whose value is `raw`, spliced in as is,
// so hostile bytes sit behind fields that are all valid.
Bytes valid_fields_then(const Bytes& raw) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> p(buffer);
  p.pack_map(4);
  p.pack(std::string("id"));
  p.pack(std::string("m-1"));
  p.pack(std::string("channel"));
  p.pack(std::string("MAIL"));
  p.pack(std::string("user"));
  p.pack_map(1);
  p.pack(std::string("id"));
  p.pack(std::string("u-1"));
  p.pack(std::string("x"));
  return concat(pack(buffer), raw);
}

// `depth` arrays nested inside each other around a nil; built by hand because serializing a
// deep nlohmann::json recurses.
Bytes nested_arrays(std::size_t depth) {
  Bytes b(depth, 0x91);  // fixarray of one element
  b.push_back(0xc0);
  return b;
}

bool points_into(std::string_view v, const Bytes& frame) {
  const auto* begin = reinterpret_cast<const char*>(frame.data());
  return v.empty() || (v.data() >= begin && v.data() + v.size() <= begin + frame.size());
}

std::string hex(const Bytes& b) {
  std::ostringstream s;
  for (std::uint8_t c : b) s << std::hex << std::setw(2) << std::setfill('0') << int{c};
  return s.str();
}

// One decoder and its output, kept alive together as the pipeline keeps them.
struct Decoding {
  explicit Decoding(std::size_t max_bytes = kMaxHeader) : decoder(max_bytes) {}
  HeaderStatus operator()(const Bytes& frame) {
    return decoder.decode(frame.data(), frame.size(), out);
  }
  HeaderDecoder decoder;
  MessageHeader out;
};

const msgpack::object* value_of(const msgpack::object& map, std::string_view key) {
  const msgpack::object* found = nullptr;
  for (std::uint32_t i = 0; i < map.via.map.size; ++i) {
    const msgpack::object_kv& kv = map.via.map.ptr[i];
    if (kv.key.type == msgpack::type::STR &&
        std::string_view(kv.key.via.str.ptr, kv.key.via.str.size) == key) {
      found = &kv.val;
    }
  }
  return found;
}

bool is_string(const msgpack::object* o, std::string_view expected) {
  return o != nullptr && o->type == msgpack::type::STR &&
         std::string_view(o->via.str.ptr, o->via.str.size) == expected;
}

// Judges a frame the decoder accepted without using the decoder: msgpack-c's own unpacker
// and the rules of PROTOCOL.md section 4. Only called on frames the decoder parsed within its
// limits, so the unbounded unpack here cannot be made to allocate much.
bool is_valid_header(const Bytes& frame, const MessageHeader& h) {
  for (std::string_view v : {h.id, h.channel, h.user_id, h.email, h.bu, h.to}) {
    if (!points_into(v, frame)) return false;
  }
  try {
    std::size_t offset = 0;
    msgpack::object_handle handle =
        msgpack::unpack(reinterpret_cast<const char*>(frame.data()), frame.size(), offset);
    if (offset != frame.size()) return false;
    const msgpack::object& root = handle.get();
    if (root.type != msgpack::type::MAP) return false;
    if (!is_string(value_of(root, "id"), h.id)) return false;
    if (h.channel.empty() || !is_string(value_of(root, "channel"), h.channel)) return false;
    const msgpack::object* user = value_of(root, "user");
    if (user == nullptr || user->type != msgpack::type::MAP) return false;
    if (!gk::business_unit_problem(h.bu).empty()) return false;
    if (!h.user_id.empty() && !gk::external_id_problem(h.user_id).empty()) return false;
    if (!h.email.empty() && !gk::email_problem(h.email).empty()) return false;
    const msgpack::object* email = value_of(*user, "email");
    const bool email_ok = !h.email.empty() && email != nullptr &&
                          email->type == msgpack::type::STR &&
                          gk::trim_email({email->via.str.ptr, email->via.str.size}) == h.email;
    return (!h.user_id.empty() && is_string(value_of(*user, "id"), h.user_id)) || email_ok;
  } catch (const std::exception&) {
    return false;
  }
}

// A map packed by hand, so keys may repeat: each value a string or a map of strings.
using Pairs = std::vector<std::pair<std::string, std::string>>;
struct Entry {
  Entry(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
  Entry(std::string k, Pairs m) : key(std::move(k)), map(std::move(m)), is_map(true) {}
  std::string key;
  std::string value;
  Pairs map;
  bool is_map = false;
};
using Entries = std::vector<Entry>;

Entry nested(std::string key, Pairs pairs) {
  return Entry(std::move(key), std::move(pairs));
}

Bytes pack_entries(const Entries& entries) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> p(buffer);
  p.pack_map(static_cast<std::uint32_t>(entries.size()));
  for (const Entry& e : entries) {
    p.pack(e.key);
    if (!e.is_map) {
      p.pack(e.value);
      continue;
    }
    p.pack_map(static_cast<std::uint32_t>(e.map.size()));
    for (const auto& [k, v] : e.map) {
      p.pack(k);
      p.pack(v);
    }
  }
  return pack(buffer);
}

// Heap held right now, small blocks and mmapped ones; 0 where glibc is not underneath.
std::size_t heap_in_use() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
#else
  return 0;
#endif
}

}  // namespace

TEST_CASE("header: a complete header is read field by field", "[header]") {
  const Bytes frame = pack(full_header());
  Decoding decode;

  REQUIRE(decode(frame) == HeaderStatus::kOk);
  const MessageHeader& h = decode.out;
  CHECK(h.id == "m-1");
  CHECK(h.channel == "MAIL");
  CHECK(h.user_id == "u-1");
  CHECK(h.email == "Ann@Example.com");  // lower-casing is the key builder's business
  CHECK(h.bu == "eu");
  CHECK(h.to == "ann@example.com");
  CHECK(h.has_address());
  CHECK(h.realtime);
  CHECK(h.transactional);
  CHECK(h.realtime_transactional());

  SECTION("every view points into the frame: nothing is copied") {
    for (std::string_view v : {h.id, h.channel, h.user_id, h.email, h.bu, h.to}) {
      CHECK(points_into(v, frame));
    }
  }
}

TEST_CASE("header: the user may be named by id, by email or both", "[header]") {
  Decoding decode;

  SECTION("id only") {
    const Bytes frame = with_user({{"id", "u-1"}});
    REQUIRE(decode(frame) == HeaderStatus::kOk);
    CHECK(decode.out.user_id == "u-1");
    CHECK(decode.out.email.empty());
    CHECK(decode.out.bu.empty());
  }
  SECTION("email only, with a business unit") {
    const Bytes frame = with_user({{"email", "a@b.c"}, {"bu", "eu"}});
    REQUIRE(decode(frame) == HeaderStatus::kOk);
    CHECK(decode.out.user_id.empty());
    CHECK(decode.out.email == "a@b.c");
    CHECK(decode.out.bu == "eu");
  }
  SECTION("nil fields count as absent") {
    const Bytes frame = with_user({{"id", nullptr}, {"email", "a@b.c"}, {"bu", nullptr}});
    REQUIRE(decode(frame) == HeaderStatus::kOk);
    CHECK(decode.out.user_id.empty());
    CHECK(decode.out.email == "a@b.c");
  }
}

TEST_CASE("header: keys the gatekeeper does not read are ignored", "[header]") {
  Decoding decode;

  SECTION("extra keys of every kind at the top level") {
    Json j = full_header();
    j["priority"] = 7;
    j["tags"] = Json::array({"a", 1, nullptr, Json::object({{"k", "v"}})});
    j["meta"] = {{"nested", {{"deeper", {1, 2, 3}}}}};
    j["blob"] = Json::binary({0x00, 0xff, 0x10});
    j["ratio"] = 0.5;
    j["flag"] = false;
    j["none"] = nullptr;
    const Bytes frame = pack(j);
    REQUIRE(decode(frame) == HeaderStatus::kOk);
    CHECK(decode.out.id == "m-1");
    CHECK(decode.out.to == "ann@example.com");
    CHECK(decode.out.realtime_transactional());
  }
  SECTION("extra keys inside user and campaign") {
    Json j = full_header();
    j["user"]["name"] = "Ann";
    j["user"]["age"] = 41;
    j["campaign"]["step"] = {{"n", 2}};
    const Bytes frame = pack(j);
    REQUIRE(decode(frame) == HeaderStatus::kOk);
    CHECK(decode.out.user_id == "u-1");
    CHECK(decode.out.realtime_transactional());
  }
  SECTION("keys that are not strings") {
    msgpack::sbuffer buffer;
    msgpack::packer<msgpack::sbuffer> p(buffer);
    p.pack_map(5);
    p.pack(1);
    p.pack(std::string("id-by-number"));
    p.pack(std::string("id"));
    p.pack(std::string("m-1"));
    p.pack_nil();
    p.pack(std::string("channel-under-nil"));
    p.pack(std::string("channel"));
    p.pack(std::string("SMS"));
    p.pack(std::string("user"));
    p.pack_map(1);
    p.pack(std::string("email"));
    p.pack(std::string("a@b.c"));
    const Bytes frame = pack(buffer);
    REQUIRE(decode(frame) == HeaderStatus::kOk);
    CHECK(decode.out.id == "m-1");
    CHECK(decode.out.channel == "SMS");
  }
  SECTION("containers nested as deep as the limit allows") {
    // The root map counts as the first of 16 levels.
    Json deep = 1;
    for (int i = 0; i < 15; ++i) deep = Json::array({deep});
    const Bytes frame = with(minimal_header(), "deep", deep);
    CHECK(decode(frame) == HeaderStatus::kOk);
  }
}

TEST_CASE("header: campaign defaults to batch and not transactional", "[header]") {
  Decoding decode;
  Bytes frame;

  SECTION("no campaign") {
    frame = pack(minimal_header());
  }
  SECTION("campaign nil") {
    frame = with_campaign(nullptr);
  }
  SECTION("campaign empty") {
    frame = with_campaign(Json::object());
  }
  SECTION("campaign with only an id") {
    frame = with_campaign({{"id", "c-1"}});
  }

  REQUIRE(decode(frame) == HeaderStatus::kOk);
  CHECK_FALSE(decode.out.realtime);
  CHECK_FALSE(decode.out.transactional);
  CHECK_FALSE(decode.out.realtime_transactional());
}

TEST_CASE("header: only type \"realtime\" makes a campaign realtime", "[header]") {
  Decoding decode;

  SECTION("realtime") {
    const Bytes frame = with_campaign({{"type", "realtime"}, {"transactional", true}});
    REQUIRE(decode(frame) == HeaderStatus::kOk);
    CHECK(decode.out.realtime_transactional());
  }
  // The exemption is never granted by doubt, so anything else is batch.
  for (const Json& type :
       {Json("batch"), Json("Realtime"), Json("REALTIME"), Json("realtime "), Json(""), Json(1),
        Json(true), Json(nullptr), Json::array({"realtime"})}) {
    const Bytes frame = with_campaign({{"type", type}, {"transactional", true}});
    INFO("type " << type.dump());
    REQUIRE(decode(frame) == HeaderStatus::kOk);
    CHECK_FALSE(decode.out.realtime);
    CHECK(decode.out.transactional);
    CHECK_FALSE(decode.out.realtime_transactional());
  }
}

TEST_CASE("header: only a boolean true makes a campaign transactional", "[header]") {
  Decoding decode;

  SECTION("true") {
    const Bytes frame = with_campaign({{"type", "realtime"}, {"transactional", true}});
    REQUIRE(decode(frame) == HeaderStatus::kOk);
    CHECK(decode.out.transactional);
  }
  for (const Json& flag :
       {Json(false), Json("true"), Json(1), Json(nullptr), Json::array({true})}) {
    const Bytes frame = with_campaign({{"type", "realtime"}, {"transactional", flag}});
    INFO("transactional " << flag.dump());
    REQUIRE(decode(frame) == HeaderStatus::kOk);
    CHECK(decode.out.realtime);
    CHECK_FALSE(decode.out.transactional);
    CHECK_FALSE(decode.out.realtime_transactional());
  }
}

TEST_CASE("header: a nil or empty `to` means no address", "[header]") {
  Decoding decode;
  Bytes frame;

  SECTION("absent") {
    frame = pack(minimal_header());
  }
  SECTION("nil") {
    frame = with(minimal_header(), "to", nullptr);
  }
  SECTION("empty") {
    frame = with(minimal_header(), "to", "");
  }

  REQUIRE(decode(frame) == HeaderStatus::kOk);
  CHECK(decode.out.to.empty());
  CHECK_FALSE(decode.out.has_address());
}

TEST_CASE("header: each malformed frame gets its own status", "[header]") {
  struct Case {
    const char* what;
    Bytes frame;
    HeaderStatus status;
    std::string_view id;  // what `id` holds afterwards: filled whenever it could be read
  };
  const Bytes valid = pack(full_header());
  const Case cases[] = {
      {"empty frame", {}, HeaderStatus::kNotMsgpack, ""},
      {"a byte msgpack never uses", {0xc1}, HeaderStatus::kNotMsgpack, ""},
      {"random bytes", {0xde, 0xad, 0xbe, 0xef, 0x00, 0x17}, HeaderStatus::kNotMsgpack, ""},
      {"truncated map", Bytes(valid.begin(), valid.end() - 3), HeaderStatus::kNotMsgpack, ""},
      {"map declaring more pairs than it has",
       {0x82, 0xa2, 'i', 'd', 0xa1, 'x'},
       HeaderStatus::kNotMsgpack,
       ""},
      {"trailing byte after a valid map", concat(valid, {0xc0}), HeaderStatus::kNotMsgpack, ""},
      {"two maps in one frame", concat(valid, valid), HeaderStatus::kNotMsgpack, ""},
      {"array root", pack(Json::array({"m-1", "MAIL"})), HeaderStatus::kNotMap, ""},
      {"string root", pack(Json("m-1")), HeaderStatus::kNotMap, ""},
      {"integer root", pack(Json(42)), HeaderStatus::kNotMap, ""},
      {"nil root", {0xc0}, HeaderStatus::kNotMap, ""},
      {"empty map", pack(Json::object()), HeaderStatus::kMissingId, ""},
      {"missing id", without(full_header(), "id"), HeaderStatus::kMissingId, ""},
      {"id an integer", with(full_header(), "id", 17), HeaderStatus::kBadId, ""},
      {"id nil", with(full_header(), "id", nullptr), HeaderStatus::kBadId, ""},
      {"id binary", with(full_header(), "id", Json::binary({'m'})), HeaderStatus::kBadId, ""},
      {"missing channel", without(full_header(), "channel"), HeaderStatus::kMissingChannel, "m-1"},
      {"empty channel", with(full_header(), "channel", ""), HeaderStatus::kBadChannel, "m-1"},
      {"channel an integer", with(full_header(), "channel", 3), HeaderStatus::kBadChannel, "m-1"},
      {"channel nil", with(full_header(), "channel", nullptr), HeaderStatus::kBadChannel, "m-1"},
      {"missing user", without(full_header(), "user"), HeaderStatus::kMissingUser, "m-1"},
      {"user a string", with(full_header(), "user", "u-1"), HeaderStatus::kBadUser, "m-1"},
      {"user an array", with(full_header(), "user", Json::array({"u-1"})), HeaderStatus::kBadUser,
       "m-1"},
      {"user nil", with(full_header(), "user", nullptr), HeaderStatus::kBadUser, "m-1"},
      {"user without id or email", with_user({{"bu", "eu"}}), HeaderStatus::kNoIdentity, "m-1"},
      {"user empty", with_user(Json::object()), HeaderStatus::kNoIdentity, "m-1"},
      {"user id and email empty", with_user({{"id", ""}, {"email", ""}}), HeaderStatus::kNoIdentity,
       "m-1"},
      {"user id an integer", with_user({{"id", 42}}), HeaderStatus::kBadUser, "m-1"},
      {"user id an integer beside a good email", with_user({{"id", 42}, {"email", "a@b.c"}}),
       HeaderStatus::kBadUser, "m-1"},
      {"user email a map", with_user({{"email", {{"a", "b"}}}}), HeaderStatus::kBadUser, "m-1"},
      {"user bu an integer", with_user({{"id", "u-1"}, {"bu", 1}}), HeaderStatus::kBadUser, "m-1"},
      {"to an integer", with(full_header(), "to", 5551234), HeaderStatus::kBadTo, "m-1"},
      {"to an array", with(full_header(), "to", Json::array({"a@b.c"})), HeaderStatus::kBadTo,
       "m-1"},
      {"campaign a string", with(full_header(), "campaign", "realtime"), HeaderStatus::kBadCampaign,
       "m-1"},
      {"campaign an array", with(full_header(), "campaign", Json::array({"realtime", true})),
       HeaderStatus::kBadCampaign, "m-1"},
  };

  Decoding decode;
  for (const Case& c : cases) {
    INFO(c.what << ": " << hex(c.frame));
    CHECK(decode(c.frame) == c.status);
    CHECK(decode.out.id == c.id);
    CHECK(gk::describe(c.status) != gk::describe(HeaderStatus::kOk));
  }
}

TEST_CASE("header: every truncation of a valid frame is rejected", "[header]") {
  const Bytes valid = pack(full_header());
  Decoding decode;
  for (std::size_t n = 0; n < valid.size(); ++n) {
    const Bytes prefix(valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(n));
    INFO("first " << n << " of " << valid.size() << " bytes");
    CHECK(decode(prefix) == HeaderStatus::kNotMsgpack);
  }
  CHECK(decode(valid) == HeaderStatus::kOk);
}

TEST_CASE("header: a frame over the size limit is refused before it is parsed", "[header]") {
  Json j = full_header();
  j["padding"] = std::string(100, 'p');
  const Bytes frame = pack(j);

  SECTION("exactly the limit is accepted") {
    Decoding decode(frame.size());
    CHECK(decode(frame) == HeaderStatus::kOk);
  }
  SECTION("one byte over is refused, with no id read") {
    Decoding decode(frame.size() - 1);
    CHECK(decode(frame) == HeaderStatus::kTooLarge);
    CHECK(decode.out.id.empty());
  }
  SECTION("the default limit") {
    j["padding"] = std::string(kMaxHeader, 'p');
    const Bytes big = pack(j);
    Decoding decode;
    CHECK(decode(big) == HeaderStatus::kTooLarge);
  }
}

TEST_CASE("header: deep nesting is refused without exhausting the stack", "[header]") {
  Decoding decode(1 << 20);

  SECTION("one level past the limit") {
    Json deep = 1;
    for (int i = 0; i < 16; ++i) deep = Json::array({deep});
    CHECK(decode(with(minimal_header(), "deep", deep)) == HeaderStatus::kNotMsgpack);
  }
  SECTION("a hundred thousand levels at the root") {
    CHECK(decode(nested_arrays(100000)) == HeaderStatus::kNotMsgpack);
  }
  SECTION("a hundred thousand levels behind valid fields") {
    const Bytes frame = valid_fields_then(nested_arrays(100000));
    CHECK(decode(frame) == HeaderStatus::kNotMsgpack);
    CHECK(decode.out.id.empty());
  }
}

TEST_CASE("header: huge declared sizes are refused before storage is reserved", "[header]") {
  const std::vector<std::pair<const char*, Bytes>> claims = {
      {"array32 of 2^31 elements", {0xdd, 0x80, 0x00, 0x00, 0x00}},
      {"array32 of 2^32-1 elements", {0xdd, 0xff, 0xff, 0xff, 0xff}},
      {"map32 of 2^31 pairs", {0xdf, 0x80, 0x00, 0x00, 0x00}},
      // Small enough that an unchecked allocation would succeed and stay visible in the heap.
      {"array32 of 2^24 elements", {0xdd, 0x01, 0x00, 0x00, 0x00}},
      {"map32 of 2^24 pairs", {0xdf, 0x01, 0x00, 0x00, 0x00}},
      {"array16 of 65535 elements", {0xdc, 0xff, 0xff}},
      {"map16 of 65535 pairs", {0xde, 0xff, 0xff}},
      {"str32 of 2^31 bytes", {0xdb, 0x80, 0x00, 0x00, 0x00}},
      {"bin32 of 2^32-1 bytes", {0xc6, 0xff, 0xff, 0xff, 0xff}},
      {"ext32 of 2^32-1 bytes", {0xc9, 0xff, 0xff, 0xff, 0xff, 0x01}},
  };
  Decoding decode;
  REQUIRE(decode(pack(full_header())) == HeaderStatus::kOk);  // the zone's first chunk
  const std::size_t heap_before = heap_in_use();

  for (const auto& [what, claim] : claims) {
    INFO(what);
    CHECK(decode(claim) == HeaderStatus::kNotMsgpack);
    CHECK(decode(valid_fields_then(claim)) == HeaderStatus::kNotMsgpack);
    // An allocation that succeeded lazily (overcommit) would still be held by the zone here.
    CHECK(heap_in_use() < heap_before + (1 << 20));
  }
  CHECK(decode(pack(full_header())) == HeaderStatus::kOk);
}

TEST_CASE("header: one decoder decodes frame after frame", "[header]") {
  Decoding decode;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = "m-" + std::to_string(i);
    const std::string user = "user-" + std::to_string(i * 7);
    Json j = {{"id", id}, {"channel", i % 2 == 0 ? "MAIL" : "sms"}};
    if (i % 3 == 0) {
      j["user"] = {{"email", user + "@example.com"}, {"bu", "bu" + std::to_string(i % 5)}};
    } else {
      j["user"] = {{"id", user}};
    }
    if (i % 4 == 0) j["to"] = user + "@example.com";
    if (i % 5 == 0) j["campaign"] = {{"type", "realtime"}, {"transactional", true}};
    // Frames of changing size make the zone grow and shrink between decodes.
    j["padding"] = std::string(static_cast<std::size_t>((i * 37) % 4000), 'x');
    const bool broken = i % 11 == 0;
    if (broken) j["to"] = 12345;
    const Bytes frame = pack(j);

    INFO("frame " << i);
    const HeaderStatus status = decode(frame);
    const MessageHeader& h = decode.out;
    CHECK(h.id == id);
    CHECK(points_into(h.id, frame));
    if (broken) {
      CHECK(status == HeaderStatus::kBadTo);
      continue;
    }
    REQUIRE(status == HeaderStatus::kOk);
    CHECK(h.channel == (i % 2 == 0 ? "MAIL" : "sms"));
    // Fields of the previous frame never leak into this one.
    CHECK(h.user_id == (i % 3 == 0 ? "" : user));
    CHECK(h.email == (i % 3 == 0 ? user + "@example.com" : ""));
    CHECK(h.bu == (i % 3 == 0 ? "bu" + std::to_string(i % 5) : ""));
    CHECK(h.has_address() == (i % 4 == 0));
    CHECK(h.realtime_transactional() == (i % 5 == 0));
    CHECK(is_valid_header(frame, h));
  }
}

TEST_CASE("header: random bytes never crash and never pass as a header", "[header]") {
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<std::size_t> length(0, 64);
  Decoding decode;
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    Bytes frame(length(rng));
    for (auto& b : frame) b = static_cast<std::uint8_t>(byte(rng));
    if (decode(frame) != HeaderStatus::kOk) continue;
    ++accepted;
    INFO(hex(frame));
    CHECK(is_valid_header(frame, decode.out));
  }
  // Random bytes are practically never a complete, valid header.
  CHECK(accepted == 0);
}

TEST_CASE("header: mutated valid frames never crash and pass only when still valid", "[header]") {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> kind(0, 3);
  std::uniform_int_distribution<int> count(1, 3);
  const Bytes valid = pack(full_header());
  Decoding decode;
  std::set<HeaderStatus> seen;
  for (int i = 0; i < 20000; ++i) {
    Bytes frame = valid;
    for (int m = count(rng); m > 0 && !frame.empty(); --m) {
      std::uniform_int_distribution<std::size_t> at(0, frame.size() - 1);
      const auto pos = static_cast<std::ptrdiff_t>(at(rng));
      switch (kind(rng)) {
        case 0:
          frame[static_cast<std::size_t>(pos)] = static_cast<std::uint8_t>(byte(rng));
          break;
        case 1:
          frame.resize(static_cast<std::size_t>(pos));
          break;
        case 2:
          frame.insert(frame.begin() + pos, static_cast<std::uint8_t>(byte(rng)));
          break;
        default:
          frame.erase(frame.begin() + pos);
          break;
      }
    }
    const HeaderStatus status = decode(frame);
    seen.insert(status);
    if (status != HeaderStatus::kOk) continue;
    INFO(hex(frame));
    CHECK(is_valid_header(frame, decode.out));
  }
  // The mutations reach past the parser into the field checks, not just the first byte.
  CHECK(seen.count(HeaderStatus::kOk) == 1);
  CHECK(seen.count(HeaderStatus::kNotMsgpack) == 1);
  CHECK(seen.size() >= 5);
}

TEST_CASE("header: a key the gatekeeper reads may appear only once", "[header][identity]") {
  struct Case {
    const char* what;
    Entries entries;
    std::string_view detail;
    std::string_view id;
  };
  const Entry id{"id", "m-1"};
  const Entry mail{"channel", "MAIL"};
  const Entry user = nested("user", {{"id", "u-1"}});
  const Case cases[] = {
      {"two users",
       {id, mail, nested("user", {{"id", "victim"}}), user},
       "header has two `user` keys",
       "m-1"},
      {"two ids inside user",
       {id, mail, nested("user", {{"id", "victim"}, {"id", "u-1"}})},
       "header `user` has two `id` keys",
       "m-1"},
      {"two emails inside user",
       {id, mail, nested("user", {{"email", "a@b.c"}, {"email", "x@y.z"}})},
       "header `user` has two `email` keys",
       "m-1"},
      {"two bus inside user",
       {id, mail, nested("user", {{"id", "u-1"}, {"bu", "T"}, {"bu", "U"}})},
       "header `user` has two `bu` keys",
       "m-1"},
      // Which message is it? Neither id is trusted for the decision.
      {"two ids", {id, mail, user, {"id", "m-2"}}, "header has two `id` keys", ""},
      {"two ids after two channels",
       {id, mail, user, {"channel", "SMS"}, {"id", "m-2"}},
       "header has two `id` keys",
       ""},
      {"two channels",
       {id, mail, user, {"channel", "SMS"}},
       "header has two `channel` keys",
       "m-1"},
      {"two tos",
       {id, mail, user, {"to", "a@b.c"}, {"to", "x@y.z"}},
       "header has two `to` keys",
       "m-1"},
      {"two campaigns",
       {id, mail, user, nested("campaign", {{"type", "batch"}}),
        nested("campaign", {{"type", "realtime"}})},
       "header has two `campaign` keys",
       "m-1"},
      {"two types inside campaign",
       {id, mail, user, nested("campaign", {{"type", "batch"}, {"type", "realtime"}})},
       "header `campaign` has two `type` keys",
       "m-1"},
      {"two topics inside campaign",
       {id, mail, user, nested("campaign", {{"topic", "news"}, {"topic", "offers"}})},
       "header `campaign` has two `topic` keys",
       "m-1"},
      {"two campaign ids",
       {id, mail, user, nested("campaign", {{"id", "c-1"}, {"id", "c-2"}})},
       "header `campaign` has two `id` keys",
       "m-1"},
  };
  Decoding decode;
  for (const Case& c : cases) {
    INFO(c.what);
    const Bytes frame = pack_entries(c.entries);
    REQUIRE(decode(frame) == HeaderStatus::kDuplicateKey);
    CHECK(decode.decoder.detail(HeaderStatus::kDuplicateKey) == c.detail);
    CHECK(decode.out.id == c.id);
  }

  SECTION("a repeated key the gatekeeper does not read is carried along") {
    const Bytes frame = pack_entries({id, mail, user, {"x", "1"}, {"x", "2"}});
    CHECK(decode(frame) == HeaderStatus::kOk);
    const Bytes inner =
        pack_entries({id, mail, nested("user", {{"id", "u-1"}, {"name", "A"}, {"name", "B"}})});
    CHECK(decode(inner) == HeaderStatus::kOk);
  }
}

TEST_CASE("header: user fields follow the identity rules", "[header][identity]") {
  Decoding decode;
  struct Case {
    const char* what;
    Json user;
    std::string_view detail;
  };
  const Case cases[] = {
      {"':' in bu (another tenant's key)",
       {{"id", "X"}, {"bu", "T:b"}},
       "header `user.bu` must not contain ':'"},
      {"':' in bu of a lead",
       {{"email", "a@b.c"}, {"bu", "T:b"}},
       "header `user.bu` must not contain ':'"},
      {"newline in bu",
       {{"id", "X"}, {"bu", "T\n"}},
       "header `user.bu` must not contain whitespace"},
      {"tab in bu", {{"id", "X"}, {"bu", "T\tb"}}, "header `user.bu` must not contain whitespace"},
      {"space in bu", {{"id", "X"}, {"bu", "T b"}}, "header `user.bu` must not contain whitespace"},
      {"bu too long",
       {{"id", "X"}, {"bu", std::string(65, 'b')}},
       "header `user.bu` must be at most 64 bytes"},
      {"id too long",
       {{"id", std::string(257, 'x')}},
       "header `user.id` must be at most 256 bytes"},
      {"control character in id",
       {{"id", "u\x01"}},
       "header `user.id` must not contain control characters"},
      {"email without @",
       {{"email", "pat.example.com"}},
       "header `user.email` must contain exactly one '@'"},
      {"email with a space inside",
       {{"email", "pat @example.com"}},
       "header `user.email` must not contain whitespace"},
      {"email of whitespace alone", {{"email", "  \n"}}, "header `user.email` must not be empty"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    const Bytes frame = with_user(c.user);
    REQUIRE(decode(frame) == HeaderStatus::kBadIdentity);
    const std::string_view detail = decode.decoder.detail(HeaderStatus::kBadIdentity);
    CHECK(detail == c.detail);
    CHECK(decode.out.id == "m-1");
  }

  SECTION("':' in an external id is allowed: the bu before it cannot hold one") {
    // The views point into the frame: it must outlive the checks.
    const Bytes frame = with_user({{"id", "b:X"}, {"bu", "T"}});
    REQUIRE(decode(frame) == HeaderStatus::kOk);
    CHECK(decode.out.user_id == "b:X");
  }
  SECTION("whitespace around an email is trimmed, in place") {
    const Bytes frame = with_user({{"email", "  Pat@Example.com\n"}, {"bu", "T"}});
    REQUIRE(decode(frame) == HeaderStatus::kOk);
    CHECK(decode.out.email == "Pat@Example.com");
    CHECK(points_into(decode.out.email, frame));
  }
}

TEST_CASE("header: duplicate and identity checks allocate nothing", "[header][identity]") {
  const Bytes dup = pack_entries(
      {{"id", "m-1"}, {"channel", "MAIL"}, nested("user", {{"id", "a"}, {"id", "b"}})});
  const Bytes bad = with_user({{"id", "X"}, {"bu", "T:b"}});
  const Bytes padded = with_user({{"email", " a@b.c "}});
  Decoding decode;
  // Grow the zone once, then measure.
  for (const Bytes* f : {&dup, &bad, &padded}) (void)decode(*f);
  const std::size_t before = heap_in_use();
  for (int i = 0; i < 1000; ++i) {
    CHECK(decode(dup) == HeaderStatus::kDuplicateKey);
    CHECK(decode(bad) == HeaderStatus::kBadIdentity);
    CHECK(decode(padded) == HeaderStatus::kOk);
  }
  CHECK(heap_in_use() == before);
}

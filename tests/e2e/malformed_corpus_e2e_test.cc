// "Bad input, again" (issue 5): a deterministic corpus of generated hostile input goes
// through the running gatekeeper binary — 10,000 message frames on the ingress socket, event
// bodies on the events socket and over POST /events, bad bodies and queries on the status
// API. Every message ends in exactly one place with the outcome the contract gives it, every
// HTTP call gets its 4xx with a JSON error, the process stays up, and a good message sent
// afterwards is forwarded.
#include <httplib.h>
#include <catch2/catch.hpp>
#include <msgpack.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/protocol/events.h"
#include "common/protocol/header.h"
#include "common/rules/channels.h"
#include "tests/support/ports.h"
#include "tests/support/rig.h"
#include "tests/support/zmq_peers.h"

using namespace gk::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr std::size_t kMessages = 10000;
constexpr std::size_t kSocketBodies = 1500;
constexpr std::size_t kHttpBodies = 600;
constexpr std::size_t kHttpStatusCalls = 300;
constexpr std::size_t kMaxHeaderBytes = 8192;  // GatekeeperOptions default
constexpr std::size_t kMaxBodyBytes = 4096;    // set below through http_extra
constexpr std::size_t kMaxEvents = 50;         // http.max_events_per_body default

// splitmix64: the same corpus on every machine and standard library.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
  std::size_t between(std::size_t lo, std::size_t hi) { return lo + below(hi - lo + 1); }
  bool percent(std::size_t p) { return below(100) < p; }
  char byte() { return static_cast<char>(next() & 0xFF); }
  std::string bytes(std::size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = byte();
    return s;
  }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[below(v.size())];
  }

 private:
  std::uint64_t s_;
};

using Packer = msgpack::packer<msgpack::sbuffer>;

void pack_str(Packer& pk, const std::string& s) {
  pk.pack_str(static_cast<std::uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

// A value of some type other than a string: what a confused or hostile sender puts where a
// string or a map belongs.
void pack_wrong(Packer& pk, Rng& rng) {
  switch (rng.below(9)) {
    case 0:
      pk.pack(static_cast<std::int64_t>(rng.next()));
      break;
    case 1:
      pk.pack(rng.percent(50));
      break;
    case 2:
      pk.pack_nil();
      break;
    case 3:
      pk.pack(1.5);
      break;
    case 4:
      pk.pack_array(2);
      pk.pack(1);
      pack_str(pk, "a");
      break;
    case 5:
      pk.pack_map(1);
      pack_str(pk, "k");
      pk.pack(2);
      break;
    case 6:
      pk.pack_bin(3);
      pk.pack_bin_body("bin", 3);
      break;
    case 7:
      pk.pack_ext(2, 7);
      pk.pack_ext_body("xy", 2);
      break;
    default:
      pk.pack(static_cast<std::uint64_t>(rng.next()));
      break;
  }
}

// Which key of a header gets a value of the wrong type (or goes missing).
enum class Spoil { kNone, kId, kChannel, kUser, kUserField, kNoIdentity, kCampaign, kTo, kMissing };

struct HeaderSpec {
  std::string id;
  Spoil spoil = Spoil::kNone;
  std::size_t pad = 0;         // bytes of an extra key, for oversized headers
  std::size_t nesting = 0;     // depth of an extra nested value
  bool empty_strings = false;  // id, channel and user.id all ""
};

HeaderSpec spec_for(std::size_t n, Spoil spoil = Spoil::kNone) {
  HeaderSpec spec;
  spec.id = "m-" + std::to_string(n);
  spec.spoil = spoil;
  return spec;
}

// A header built key by key, so each can be given a wrong type.
std::string build_header(Rng& rng, const HeaderSpec& spec) {
  static const std::vector<std::string> channels = {
      "MAIL", "SMS", "PUSH_NOTIFICATION", "email", "sms", "Push_Notification", "FAX", "mail"};
  const bool has_campaign = rng.percent(50) || spec.spoil == Spoil::kCampaign;
  const bool has_to = rng.percent(80) || spec.spoil == Spoil::kTo;
  const bool has_extra = spec.pad > 0 || spec.nesting > 0;
  std::uint32_t keys = 3 + (has_campaign ? 1 : 0) + (has_to ? 1 : 0) + (has_extra ? 1 : 0);
  const std::size_t missing = spec.spoil == Spoil::kMissing ? rng.below(3) : 3;
  if (missing < 3) --keys;

  msgpack::sbuffer buffer;
  Packer pk(buffer);
  pk.pack_map(keys);
  if (missing != 0) {
    pack_str(pk, "id");
    if (spec.spoil == Spoil::kId) {
      pack_wrong(pk, rng);
    } else {
      pack_str(pk, spec.empty_strings ? "" : spec.id);
    }
  }
  if (missing != 1) {
    pack_str(pk, "channel");
    if (spec.spoil == Spoil::kChannel) {
      if (rng.percent(30)) {
        pack_str(pk, "");
      } else {
        pack_wrong(pk, rng);
      }
    } else {
      pack_str(pk, spec.empty_strings ? "" : rng.pick(channels));
    }
  }
  if (missing != 2) {
    pack_str(pk, "user");
    if (spec.spoil == Spoil::kUser) {
      pack_wrong(pk, rng);
    } else if (spec.spoil == Spoil::kNoIdentity) {
      pk.pack_map(1);
      pack_str(pk, "bu");
      pack_str(pk, "eu");
    } else {
      pk.pack_map(2);
      const bool by_email = rng.percent(50);
      pack_str(pk, by_email ? "email" : "id");
      if (spec.spoil == Spoil::kUserField) {
        pack_wrong(pk, rng);
      } else {
        // A valid email (common/identity.h), so these headers reach the lookup.
        pack_str(pk, spec.empty_strings ? ""
                                        : "u-" + std::to_string(rng.below(1000)) +
                                              (by_email ? "@example.com" : ""));
      }
      pack_str(pk, "bu");
      pack_str(pk, "eu");
    }
  }
  if (has_campaign) {
    pack_str(pk, "campaign");
    if (spec.spoil == Spoil::kCampaign) {
      pack_wrong(pk, rng);
    } else {
      pk.pack_map(2);
      pack_str(pk, "type");
      pack_str(pk, rng.percent(50) ? "realtime" : "batch");
      pack_str(pk, "transactional");
      pk.pack(rng.percent(50));
    }
  }
  if (has_to) {
    pack_str(pk, "to");
    if (spec.spoil == Spoil::kTo) {
      pack_wrong(pk, rng);
    } else {
      pack_str(pk, "a@example.com");
    }
  }
  if (has_extra) {
    pack_str(pk, "x");
    if (spec.pad > 0) {
      pack_str(pk, std::string(spec.pad, 'p'));
    } else {
      for (std::size_t i = 0; i < spec.nesting; ++i) {
        if (i % 2 == 0) {
          pk.pack_array(1);
        } else {
          pk.pack_map(1);
          pack_str(pk, "k");
        }
      }
      pk.pack_nil();
    }
  }
  return std::string(buffer.data(), buffer.size());
}

// One generated message, with the one outcome the contract gives it.
struct Message {
  Frames frames;       // frame 1 is always the tag "seq:<n>": it survives into every outcome
  std::string kind;    // which family of bad input, for the report
  std::string expect;  // "MAIL" / "SMS" / "PUSH_NOTIFICATION" or "<verdict>/<reason>"
  std::string detail;  // for malformed: what the decision's `detail` says
  std::string id;      // the `id` the decision must carry ("" when unreadable)
};

std::string valid_header(Rng& rng, std::size_t n) {
  return build_header(rng, spec_for(n));
}

// Frame 0 of message `n` and any frames after the tag, by family.
Frames generate_frames(Rng& rng, std::size_t n, std::string& kind) {
  const std::string tag = "seq:" + std::to_string(n);
  const std::size_t family = n % 20;
  if (family < 3) {  // random bytes, the empty frame included
    kind = "random_bytes";
    return {rng.bytes(rng.below(97)), tag};
  }
  if (family < 6) {  // a valid header cut short
    kind = "truncated";
    const std::string h = valid_header(rng, n);
    return {h.substr(0, rng.below(h.size())), tag};
  }
  if (family < 12) {  // a valid header with 1..4 bytes changed: some stay valid
    kind = "mutated";
    std::string h = valid_header(rng, n);
    for (std::size_t i = rng.between(1, 4); i > 0; --i) {
      h[rng.below(h.size())] ^= static_cast<char>(rng.between(1, 255));
    }
    return {h, tag};
  }
  if (family < 15) {  // a key of the wrong type, or missing
    kind = "wrong_type";
    static const std::vector<Spoil> spoils = {
        Spoil::kId,         Spoil::kChannel,  Spoil::kUser, Spoil::kUserField,
        Spoil::kNoIdentity, Spoil::kCampaign, Spoil::kTo,   Spoil::kMissing};
    return {build_header(rng, spec_for(n, rng.pick(spoils))), tag};
  }
  if (family == 15) {  // beyond ingress.max_header_bytes
    kind = "oversized";
    HeaderSpec spec = spec_for(n);
    spec.pad = rng.between(kMaxHeaderBytes, 2 * kMaxHeaderBytes);
    return {build_header(rng, spec), tag};
  }
  if (family < 18) {  // more frames than ingress.max_frames, some of them empty
    kind = "extra_frames";
    Frames f{valid_header(rng, n), tag};
    for (std::size_t i = rng.between(1, 4); i > 0; --i) f.push_back(rng.bytes(rng.below(3)));
    return f;
  }
  if (family == 18) {  // empty frames and empty strings
    kind = "empty";
    switch (rng.below(3)) {
      case 0:
        return {"", tag};
      case 1:
        return {valid_header(rng, n), tag, ""};
      default: {
        HeaderSpec spec = spec_for(n);
        spec.empty_strings = true;
        return {build_header(rng, spec), tag};
      }
    }
  }
  // Deep nesting of arrays and maps (msgpack-c stops it by its depth limit), and containers
  // that claim far more elements or bytes than the frame holds.
  kind = "nesting_and_lengths";
  if (rng.percent(60)) {
    HeaderSpec spec = spec_for(n);
    spec.nesting = rng.between(8, 3000);
    return {build_header(rng, spec), tag};
  }
  static const std::vector<std::string> forged = {
      "\xdf\xff\xff\xff\xff", "\xdd\xff\xff\xff\xff",     "\xdb\xff\xff\xff\xff",
      "\xc6\xff\xff\xff\xff", "\xc9\xff\xff\xff\xff\x01", "\xde\xff\xff"};
  std::string h = valid_header(rng, n);
  h.resize(rng.below(h.size()));
  return {h + rng.pick(forged) + rng.bytes(rng.below(8)), tag};
}

// What the contract says becomes of these frames: the decoder run here is the library the
// binary links, the channels are the rig's, and Redis holds no status for anyone.
void expect_outcome(Message& m, gk::HeaderDecoder& decoder, const gk::ChannelRegistry& channels) {
  gk::MessageHeader h;
  const std::string& head = m.frames[0];
  const gk::HeaderStatus status = decoder.decode(head.data(), head.size(), h);
  m.id = std::string(h.id);
  if (status != gk::HeaderStatus::kOk) {
    m.expect = "rejected/malformed";
    m.detail = std::string(decoder.detail(status));
    return;
  }
  if (m.frames.size() > gk::IngressConfig{}.max_frames) {
    m.expect = "rejected/malformed";
    m.detail = "message has more frames than ingress.max_frames";
    return;
  }
  const auto index = channels.find_routable(h.channel);
  if (!index) {
    m.expect = "rejected/unknown_channel";
  } else if (channels.config(*index).require_address && !h.has_address()) {
    m.expect = "rejected/no_address";
  } else {
    m.expect = channels.name(*index);
  }
}

// The channels of GatekeeperOptions::toml().
gk::ChannelRegistry rig_channels() {
  auto channel = [](const char* name, bool require_address) {
    gk::ChannelConfig c;
    c.name = name;
    c.require_address = require_address;
    if (c.name == "MAIL") c.aliases = {"EMAIL"};
    return c;
  };
  return gk::ChannelRegistry(
      {channel("MAIL", true), channel("SMS", true), channel("PUSH_NOTIFICATION", false)});
}

std::vector<Message> message_corpus() {
  Rng rng(0x6b65657065723035ULL);
  gk::HeaderDecoder decoder(kMaxHeaderBytes);
  const gk::ChannelRegistry channels = rig_channels();
  std::vector<Message> out(kMessages);
  for (std::size_t n = 0; n < kMessages; ++n) {
    out[n].frames = generate_frames(rng, n, out[n].kind);
    expect_outcome(out[n], decoder, channels);
  }
  return out;
}

// ---- event bodies ----

// JSON text nested `depth` levels inside `properties`.
std::string deep_json(std::size_t depth) {
  std::string s = R"({"id":"u","events":[{"event":"x","properties":)";
  for (std::size_t i = 0; i < depth; ++i) s += (i % 2 == 0) ? R"({"a":)" : "[";
  s += "1";
  for (std::size_t i = depth; i > 0; --i) s += ((i - 1) % 2 == 0) ? "}" : "]";
  return s + "}]}";
}

// The same in msgpack: nested arrays and maps (one byte a level) inside `properties`.
std::string deep_msgpack(std::size_t depth) {
  msgpack::sbuffer buffer;
  Packer pk(buffer);
  pk.pack_map(2);
  pack_str(pk, "id");
  pack_str(pk, "u");
  pack_str(pk, "events");
  pk.pack_array(1);
  pk.pack_map(2);
  pack_str(pk, "event");
  pack_str(pk, "x");
  pack_str(pk, "properties");
  for (std::size_t i = 0; i < depth; ++i) {
    if (i % 2 == 0) {
      pk.pack_map(1);
      pack_str(pk, "a");
    } else {
      pk.pack_array(1);
    }
  }
  pk.pack_nil();
  return std::string(buffer.data(), buffer.size());
}

std::string to_msgpack(const json& j) {
  return pack(j);
}

// A body that the event parser must refuse as a whole, or whose every event it must reject.
std::string bad_body(Rng& rng) {
  const json good_event = {{"event", "Opt Out"}, {"channel.type", "MAIL"}};
  const bool as_msgpack = rng.percent(30);
  auto encode = [&](const json& j) { return as_msgpack ? to_msgpack(j) : j.dump(); };
  auto body = [](json identity, json events) {
    identity["events"] = std::move(events);
    return identity;
  };
  const json user = {{"id", "u"}};
  switch (rng.below(14)) {
    case 0:  // not JSON, probably not msgpack either
      return rng.bytes(rng.below(64));
    case 1: {  // JSON cut short
      const std::string s = body(user, json::array({good_event})).dump();
      return s.substr(0, rng.between(1, s.size() - 1));
    }
    case 2:  // not an object
      return encode(json::array({1, 2, 3}));
    case 3:  // no events
      return encode(user);
    case 4:  // events not a list
      return encode(body(user, good_event));
    case 5:  // empty list
      return encode(body(user, json::array()));
    case 6: {  // more than http.max_events_per_body
      json events = json::array();
      for (std::size_t i = rng.between(kMaxEvents + 1, kMaxEvents + 20); i > 0; --i) {
        events.push_back(good_event);
      }
      return encode(body(user, events));
    }
    case 7:  // nobody named
      return encode(body({{"businessUnit", "eu"}}, json::array({good_event})));
    case 8:  // identity of the wrong type
      return encode(body({{"id", 42}, {"email", json::array()}}, json::array({good_event})));
    case 9:  // nested deeper than the parser allows, as JSON or as msgpack
      return as_msgpack ? deep_msgpack(rng.between(40, 4000)) : deep_json(rng.between(40, 400));
    case 10: {  // larger than http.max_body_bytes
      json event = {{"event", "x"}};
      event["properties"]["pad"] = std::string(rng.between(kMaxBodyBytes, 3 * kMaxBodyBytes), 'p');
      return body(user, json::array({event})).dump();
    }
    case 11: {  // every event rejected: unknown channel, bad time, bad properties, no name
      json events = json::array();
      events.push_back({{"event", "Opt Out"}, {"channel.type", "FAX"}});
      events.push_back({{"event", "Opt In"}, {"channel.type", "MAIL"}, {"timestamp", "yesterday"}});
      events.push_back({{"event", "Page View"}, {"properties", "not an object"}});
      events.push_back({{"channel.type", "SMS"}});
      events.push_back({{"event", ""}});
      return encode(body({{"id", "u-" + std::to_string(rng.below(100))}}, events));
    }
    case 12: {  // a body with bytes changed (kept only if still refused)
      json event = {{"event", "Opt Out"}, {"channel.type", "XX"}};
      std::string s = body(user, json::array({event})).dump();
      for (std::size_t i = rng.between(1, 3); i > 0; --i) s[rng.below(s.size())] = rng.byte();
      return s;
    }
    default:  // msgpack claiming more than it holds
      return std::string(
                 "\x82\xa2id\xa1u\xa6"
                 "events\xdd\xff\xff\xff\xff") +
             rng.bytes(rng.below(6));
  }
}

// What the API does with a body: 413 when too large, 400 when refused or every event is
// rejected, nullopt when some event would be accepted (such bodies are not sent).
std::optional<int> expected_status(const std::string& body, const gk::ChannelRegistry& channels,
                                   std::size_t* rejected_events) {
  if (body.size() > kMaxBodyBytes) return 413;
  const gk::EventBodyResult parsed = gk::parse_event_body(body, channels, kMaxEvents);
  if (!parsed.ok()) return 400;
  for (const auto& e : parsed.body.events) {
    if (e.accepted()) return std::nullopt;
  }
  *rejected_events += parsed.body.events.size();
  return 400;
}

// The sum of a counter family's samples whose labels include all of `labels`.
double metric_sum(const std::string& text, const std::string& name,
                  const std::vector<std::string>& labels) {
  double sum = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind(name + "{", 0) != 0 && line.rfind(name + " ", 0) != 0) continue;
    bool all = true;
    for (const auto& l : labels) all = all && line.find(l) != std::string::npos;
    if (all) sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

// Sends one multipart message; false when the gatekeeper stopped taking input (sndtimeo).
bool send_frames(zmq::socket_t& socket, const Frames& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const auto flags = i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
    if (!socket.send(zmq::buffer(frames[i]), flags)) return false;
  }
  return true;
}

// A PUSH socket that gives up on a send after 5 s instead of blocking the test for good.
zmq::socket_t pusher(zmq::context_t& ctx, const std::string& endpoint) {
  zmq::socket_t socket(ctx, zmq::socket_type::push);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::sndtimeo, 5000);
  socket.connect(endpoint);
  return socket;
}

// The end of the gatekeeper's log, for a failure message.
std::string log_tail(GatekeeperProcess& gk) {
  const std::string log = gk.log();
  return log.size() > 4000 ? log.substr(log.size() - 4000) : log;
}

// The tag "seq:<n>" of an outcome's original frames.
std::optional<std::size_t> tag_of(const Frames& original) {
  if (original.size() < 2 || original[1].rfind("seq:", 0) != 0) return std::nullopt;
  return static_cast<std::size_t>(std::stoul(original[1].substr(4)));
}

}  // namespace

TEST_CASE("e2e: 10,000 malformed frames and bodies each get their outcome and the process stays up",
          "[e2e][malformed]") {
  const auto started = std::chrono::steady_clock::now();
  Rig rig;
  rig.opts.log_level = "info";  // one debug line per malformed message is noise here
  rig.opts.http_extra = "max_body_bytes = " + std::to_string(kMaxBodyBytes);
  rig.start();
  const int http_port = rig.gk->options().http_port;

  // ---- message frames over the ingress socket ----
  const std::vector<Message> corpus = message_corpus();
  std::vector<std::string> got(corpus.size());  // the outcome of each tag
  std::size_t outcomes = 0, duplicates = 0, untagged = 0;
  std::vector<std::string> wrong;  // described mismatches
  std::map<std::string, std::size_t> by_outcome;

  Sink* const sources[] = {rig.mail.get(), rig.sms.get(), rig.push.get(), rig.decisions.get()};
  const char* const names[] = {"MAIL", "SMS", "PUSH_NOTIFICATION", nullptr};
  // Takes whatever has arrived, waiting at most `wait` for the first.
  auto drain = [&](std::chrono::milliseconds wait) {
    std::vector<zmq::pollitem_t> items;
    for (Sink* s : sources) items.push_back({s->socket().handle(), 0, ZMQ_POLLIN, 0});
    zmq::poll(items.data(), items.size(), wait);
    bool any = false;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      while (auto frames = sources[i]->receive(0ms)) {
        any = true;
        ++outcomes;
        std::string where;
        Frames original = *frames;
        json decision;
        if (names[i] != nullptr) {
          where = names[i];
        } else {
          decision = unpack(frames->front());
          where = decision.value("verdict", "") + "/" + decision.value("reason", "");
          original.erase(original.begin());
        }
        const auto tag = tag_of(original);
        if (!tag || *tag >= corpus.size()) {
          ++untagged;
          continue;
        }
        const Message& m = corpus[*tag];
        if (!got[*tag].empty()) {
          ++duplicates;
          continue;
        }
        got[*tag] = where;
        ++by_outcome[m.kind + " -> " + where];
        std::string problem;
        if (where != m.expect) problem = "outcome " + where + ", expected " + m.expect;
        if (original != m.frames) problem += " frames changed;";
        if (names[i] == nullptr) {
          if (decision.value("id", "?") != m.id) problem += " decision id differs;";
          if (!m.detail.empty() && decision.value("detail", "") != m.detail) {
            problem +=
                " detail '" + decision.value("detail", "") + "', expected '" + m.detail + "';";
          }
        }
        if (!problem.empty() && wrong.size() < 20) {
          wrong.push_back("seq " + std::to_string(*tag) + " (" + m.kind + "): " + problem);
        }
      }
    }
    return any;
  };

  zmq::socket_t sender = pusher(rig.ctx, rig.gk->messages());
  for (std::size_t n = 0; n < corpus.size(); ++n) {
    if (!send_frames(sender, corpus[n].frames)) {
      FAIL("the gatekeeper stopped taking messages at "
           << n << " (running: " << rig.gk->process().running() << ")\n"
           << log_tail(*rig.gk));
    }
    // Keep at most a thousand in flight, far below every high-water mark on the way.
    while (outcomes + 1000 < n + 1) {
      if (!drain(5s)) break;
    }
  }
  // Everything sent must come out; stop waiting only when nothing has arrived for 5 s.
  while (outcomes < corpus.size() && drain(5s)) {
  }

  INFO("outcomes by family:\n"
       << [&] {
            std::string s;
            for (const auto& [k, v] : by_outcome) s += "  " + k + ": " + std::to_string(v) + "\n";
            return s;
          }());
  CHECK(outcomes == corpus.size());
  CHECK(duplicates == 0);
  CHECK(untagged == 0);
  {
    std::string list;
    for (const auto& w : wrong) list += w + "\n";
    INFO("first mismatches:\n" << list);
    CHECK(wrong.empty());
  }
  std::size_t malformed = 0;
  for (const auto& m : corpus) malformed += m.expect == "rejected/malformed" ? 1 : 0;
  CHECK(malformed >= kMessages * 7 / 10);  // the corpus really is mostly broken
  REQUIRE(rig.gk->process().running());

  // ---- event bodies over the events socket (no answer: counted as invalid) ----
  const gk::ChannelRegistry channels = rig_channels();
  Rng rng(0x6576656e74733035ULL);
  std::size_t invalid_bodies = 0, rejected_events = 0, socket_bodies = 0;
  zmq::socket_t events = pusher(rig.ctx, rig.gk->events());
  for (std::size_t n = 0; n < kSocketBodies; ++n) {
    if (n % 10 == 9) {  // an event body is one frame: two or three are refused
      Frames frames(rng.between(2, 3));
      for (auto& f : frames) f = bad_body(rng);
      REQUIRE(send_frames(events, frames));
      ++invalid_bodies;
      ++socket_bodies;
      continue;
    }
    const std::string body = bad_body(rng);
    std::size_t rejected = 0;
    const auto status = expected_status(body, channels, &rejected);
    if (!status) continue;  // a mutation made it acceptable; not part of this corpus
    if (*status == 413 || rejected == 0) {
      ++invalid_bodies;  // refused as a whole
    } else {
      rejected_events += rejected;  // the body is fine, each of its events is rejected
    }
    REQUIRE(send_frames(events, Frames{body}));
    ++socket_bodies;
  }

  // ---- event bodies over POST /events, and bad calls on the status API ----
  httplib::Client client("127.0.0.1", http_port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  client.set_read_timeout(5, 0);
  const httplib::Headers auth = {{"X-XNG-AuthToken", "test-token"}};
  std::size_t http_calls = 0;
  std::vector<std::string> http_wrong;
  auto check_answer = [&](const char* what, const httplib::Result& res, int expect) {
    ++http_calls;
    std::string problem;
    if (!res) {
      problem = "no answer";
    } else if (res->status != expect) {
      problem = "status " + std::to_string(res->status) + ", expected " + std::to_string(expect);
    } else {
      const json body = json::parse(res->body, nullptr, false);
      if (!body.is_object() || !body.contains("error")) problem = "no JSON error: " + res->body;
    }
    if (!problem.empty() && http_wrong.size() < 20) {
      http_wrong.push_back(std::string(what) + ": " + problem);
    }
  };
  std::size_t http_rejected_events = 0;
  for (std::size_t n = 0; n < kHttpBodies; ++n) {
    const std::string body = bad_body(rng);
    const auto status = expected_status(body, channels, &http_rejected_events);
    if (!status) continue;
    check_answer("POST /events", client.Post("/events", auth, body, "application/json"), *status);
  }
  static const std::vector<std::string> bad_status_bodies = {"",
                                                             "not json",
                                                             "{",
                                                             "[]",
                                                             "null",
                                                             R"({"optOut":"yes"})",
                                                             R"({"optOut":1})",
                                                             R"({"blacklisted":"true"})",
                                                             R"({"optout":true})",
                                                             "{\"optOut\":tru",
                                                             "\xff\xfe"};
  for (std::size_t n = 0; n < kHttpStatusCalls; ++n) {
    const std::string user = "/users/u-" + std::to_string(n);
    switch (n % 4) {
      case 0:
        check_answer("PUT optout-status",
                     client.Put((user + "/optout-status").c_str(), auth,
                                rng.pick(bad_status_bodies), "application/json"),
                     400);
        break;
      case 1:
        check_answer("PUT blacklist-status",
                     client.Put((user + "/blacklist-status").c_str(), auth,
                                rng.pick(bad_status_bodies), "application/json"),
                     400);
        break;
      case 2:
        check_answer(
            "GET unknown channelType",
            client.Get((user + "/optout-status?channelType=FAX" + std::to_string(n)).c_str(), auth),
            400);
        break;
      default:
        check_answer(
            "PUT without token",
            client.Put((user + "/optout-status").c_str(), R"({"optOut":true})", "application/json"),
            401);
        break;
    }
  }
  {
    std::string list;
    for (const auto& w : http_wrong) list += w + "\n";
    INFO("first wrong HTTP answers:\n" << list);
    CHECK(http_wrong.empty());
  }

  // Every socket body was taken and judged: the counters say so.
  std::string metrics;
  const bool counted = eventually(
      [&] {
        metrics = http_get(http_port, "/metrics").body;
        return metric_sum(metrics, "gk_event_bodies_total",
                          {"transport=\"socket\"", "result=\"invalid\""}) ==
                   static_cast<double>(invalid_bodies) &&
               metric_sum(metrics, "gk_events_total", {"result=\"rejected\""}) ==
                   static_cast<double>(rejected_events + http_rejected_events);
      },
      10s);
  INFO("socket bodies refused: " << invalid_bodies << ", events rejected: socket "
                                 << rejected_events << " + http " << http_rejected_events);
  CHECK(counted);
  CHECK(metric_sum(metrics, "gk_events_total", {"result=\"accepted\""}) == 0);
  CHECK(metric_sum(metrics, "gk_messages_received_total", {}) == static_cast<double>(kMessages));

  // ---- still up, and still doing its job ----
  CHECK(http_get(http_port, "/healthz").status == 200);
  CHECK(http_get(http_port, "/readyz").status == 200);
  const std::string good = pack(header("good", "MAIL", {{"id", "u-good"}}, {{"to", "a@x"}}));
  REQUIRE(send_frames(sender, Frames{good, "payload"}));
  const auto forwarded = rig.mail->receive(5s);
  REQUIRE(forwarded);
  CHECK(*forwarded == Frames{good, "payload"});
  REQUIRE(rig.gk->process().running());

  const auto total = kMessages + socket_bodies + http_calls;
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started);
  WARN("malformed corpus: " << total << " inputs (" << kMessages << " frames, " << socket_bodies
                            << " socket bodies, " << http_calls << " HTTP calls) in "
                            << seconds.count() << " s");
  CHECK(total >= 10000);
}

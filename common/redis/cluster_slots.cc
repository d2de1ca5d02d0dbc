#include "common/redis/cluster_slots.h"

#include <charconv>

namespace gk {

namespace {

// CRC16-CCITT (XMODEM): polynomial 0x1021, initial value 0, no reflection, the variant the
// Redis Cluster specification names.
constexpr std::array<std::uint16_t, 256> make_crc_table() {
  std::array<std::uint16_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t crc = i << 8;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1;
    table[i] = static_cast<std::uint16_t>(crc);
  }
  return table;
}
constexpr auto kCrcTable = make_crc_table();

// Tags are drawn from these characters, shortest first, so the table is the same in every
// process and every version: a key written by one sidecar is found by all the others.
constexpr std::string_view kTagAlphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

struct TagTable {
  std::array<std::string, kClusterSlots> tags;
  TagTable() {
    std::size_t missing = kClusterSlots;
    std::string candidate;
    // Three characters (238,328 strings) cover every slot; four is a safety net that the
    // loop never reaches in practice.
    for (std::size_t len = 1; len <= 4 && missing > 0; ++len) {
      candidate.assign(len, kTagAlphabet[0]);
      std::vector<std::size_t> digit(len, 0);
      while (missing > 0) {
        for (std::size_t i = 0; i < len; ++i) candidate[i] = kTagAlphabet[digit[i]];
        std::string& slot = tags[crc16(candidate) % kClusterSlots];
        if (slot.empty()) {
          slot = candidate;
          --missing;
        }
        std::size_t i = len;
        while (i > 0 && ++digit[i - 1] == kTagAlphabet.size()) digit[--i] = 0;
        if (i == 0) break;
      }
    }
  }
};

std::uint16_t to_u16(long long v) {
  return static_cast<std::uint16_t>(v);
}

// An empty or "?" endpoint means the node does not know its own address: it is the host the
// question went to.
std::string node_name(const redisReply* node, std::string_view asked_host) {
  std::string_view host(node->element[0]->str, node->element[0]->len);
  if (host.empty() || host == "?") host = asked_host;
  return std::string(host) + ":" + std::to_string(node->element[1]->integer);
}

}  // namespace

std::uint16_t crc16(std::string_view data) noexcept {
  std::uint16_t crc = 0;
  for (unsigned char c : data) {
    crc = static_cast<std::uint16_t>((crc << 8) ^ kCrcTable[((crc >> 8) ^ c) & 0xff]);
  }
  return crc;
}

std::uint16_t key_slot(std::string_view key) noexcept {
  const auto open = key.find('{');
  if (open != std::string_view::npos) {
    const auto close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1) {
      return crc16(key.substr(open + 1, close - open - 1)) % kClusterSlots;
    }
  }
  return crc16(key) % kClusterSlots;
}

std::string_view slot_tag(std::uint16_t slot) {
  static const TagTable table;
  return table.tags[slot % kClusterSlots];
}

Result<SlotMap> SlotMap::parse(const redisReply* reply, std::string_view asked_host) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) {
    return fail("CLUSTER SLOTS: expected an array");
  }
  SlotMap map;
  for (std::size_t i = 0; i < reply->elements; ++i) {
    const redisReply* range = reply->element[i];
    if (range->type != REDIS_REPLY_ARRAY || range->elements < 3 ||
        range->element[0]->type != REDIS_REPLY_INTEGER ||
        range->element[1]->type != REDIS_REPLY_INTEGER) {
      return fail("CLUSTER SLOTS: range " + std::to_string(i) +
                  " is not [start, end, primary, ...]");
    }
    const long long first = range->element[0]->integer;
    const long long last = range->element[1]->integer;
    const redisReply* primary = range->element[2];
    if (first < 0 || last < first || last >= static_cast<long long>(kClusterSlots) ||
        primary->type != REDIS_REPLY_ARRAY || primary->elements < 2 ||
        primary->element[0]->type != REDIS_REPLY_STRING ||
        primary->element[1]->type != REDIS_REPLY_INTEGER) {
      return fail("CLUSTER SLOTS: range " + std::to_string(i) + " has bad bounds or primary");
    }
    const std::uint16_t index = map.index_of(node_name(primary, asked_host));
    for (long long s = first; s <= last; ++s) map.owner_[to_u16(s)] = index;
  }
  return map;
}

std::vector<std::string> parse_cluster_nodes(std::string_view text, std::string_view asked_host) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    // <id> <ip:port@cport[,hostname]> <flags> ...
    const auto first = line.find(' ');
    if (first == std::string_view::npos) continue;
    const auto second = line.find(' ', first + 1);
    if (second == std::string_view::npos) continue;
    const auto third = line.find(' ', second + 1);
    std::string_view address = line.substr(first + 1, second - first - 1);
    const std::string_view flags = line.substr(second + 1, third - second - 1);
    address = address.substr(0, address.find_first_of("@,"));
    bool usable = true;
    for (std::string_view bad : {"fail", "handshake", "noaddr"}) {
      std::string_view rest = flags;
      while (!rest.empty()) {
        const auto comma = rest.find(',');
        if (rest.substr(0, comma) == bad) usable = false;
        rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
      }
    }
    const auto colon = address.rfind(':');
    if (!usable || colon == std::string_view::npos) continue;
    std::string node(address.substr(0, colon) == "" ? asked_host : address.substr(0, colon));
    node.append(address.substr(colon));
    if (parse_node_address(node)) out.push_back(std::move(node));
  }
  return out;
}

std::size_t SlotMap::covered() const noexcept {
  std::size_t n = 0;
  for (std::uint16_t owner : owner_) n += owner != kNoNode ? 1 : 0;
  return n;
}

void SlotMap::assign(std::uint16_t slot, const std::string& node) {
  owner_[slot % kClusterSlots] = index_of(node);
}

std::uint16_t SlotMap::index_of(const std::string& node) {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i] == node) return to_u16(static_cast<long long>(i));
  }
  nodes_.push_back(node);
  return to_u16(static_cast<long long>(nodes_.size() - 1));
}

bool SlotMap::operator==(const SlotMap& other) const {
  for (std::size_t s = 0; s < kClusterSlots; ++s) {
    const bool mine = owner_[s] != kNoNode, theirs = other.owner_[s] != kNoNode;
    if (mine != theirs) return false;
    if (mine && nodes_[owner_[s]] != other.nodes_[other.owner_[s]]) return false;
  }
  return true;
}

std::optional<Redirect> parse_redirect(const redisReply* reply) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ERROR) return std::nullopt;
  std::string_view text(reply->str, reply->len);
  Redirect r;
  if (text.starts_with("MOVED ")) {
    text.remove_prefix(6);
  } else if (text.starts_with("ASK ")) {
    r.ask = true;
    text.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  const auto space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  unsigned slot = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + space, slot);
  if (ec != std::errc() || end != text.data() + space || slot >= kClusterSlots) return std::nullopt;
  r.slot = static_cast<std::uint16_t>(slot);
  r.node.assign(text.substr(space + 1));
  if (!parse_node_address(r.node)) return std::nullopt;
  return r;
}

std::optional<NodeAddress> parse_node_address(std::string_view node) {
  const auto colon = node.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= node.size()) return std::nullopt;
  NodeAddress hp;
  const auto port_text = node.substr(colon + 1);
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), hp.port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || hp.port <= 0 ||
      hp.port > 65535) {
    return std::nullopt;
  }
  hp.host.assign(node.substr(0, colon));
  // "[::1]:7000", the way the config writes IPv6 seeds.
  if (hp.host.size() > 2 && hp.host.front() == '[' && hp.host.back() == ']') {
    hp.host = hp.host.substr(1, hp.host.size() - 2);
  }
  return hp;
}

}  // namespace gk

#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <hiredis/hiredis.h>

#include "common/util/result.h"

namespace gk {

// Redis Cluster's key space: 16384 hash slots, a key's slot is CRC16 (XMODEM) of the key, or
// of its hash tag (the text between the first '{' and the next '}' when not empty), mod 16384.
inline constexpr std::size_t kClusterSlots = 16384;

std::uint16_t crc16(std::string_view data) noexcept;
std::uint16_t key_slot(std::string_view key) noexcept;

// A short string whose own slot is `slot`: wrapped in braces it puts another key in that
// slot, so a key of ours can live beside a key whose name the protocol fixes.
std::string_view slot_tag(std::uint16_t slot);

// Which primary serves each slot, as CLUSTER SLOTS reports it. Nodes are "host:port".
class SlotMap {
 public:
  static constexpr std::uint16_t kNoNode = 0xffff;

  SlotMap() { owner_.fill(kNoNode); }

  // From a CLUSTER SLOTS reply asked of a node on `asked_host`; an error for a reply of
  // another shape.
  static Result<SlotMap> parse(const redisReply* reply, std::string_view asked_host);

  // kNoNode when no primary serves the slot (the cluster is then incomplete).
  std::uint16_t node_of(std::uint16_t slot) const noexcept { return owner_[slot]; }
  const std::string& node(std::uint16_t index) const noexcept { return nodes_[index]; }
  // Primaries serving at least one slot.
  const std::vector<std::string>& nodes() const noexcept { return nodes_; }
  std::size_t covered() const noexcept;
  // Points one slot at a node (a MOVED redirect), adding the node when it is new.
  void assign(std::uint16_t slot, const std::string& node);

  bool operator==(const SlotMap& other) const;

 private:
  std::uint16_t index_of(const std::string& node);

  std::vector<std::string> nodes_;
  std::array<std::uint16_t, kClusterSlots> owner_;
};

// Every usable node of a CLUSTER NODES reply ("host:port"): primaries with or without slots
// and replicas, not those flagged fail, handshake or noaddr. CLUSTER SLOTS is no substitute:
// it leaves out replicas that have not replicated anything yet.
std::vector<std::string> parse_cluster_nodes(std::string_view text, std::string_view asked_host);

// A MOVED or ASK error reply: "MOVED <slot> <host>:<port>".
struct Redirect {
  bool ask = false;
  std::uint16_t slot = 0;
  std::string node;
};
std::optional<Redirect> parse_redirect(const redisReply* reply);

// "host:port" split; nullopt when the port is missing or not a number.
struct NodeAddress {
  std::string host;
  int port = 0;
};
std::optional<NodeAddress> parse_node_address(std::string_view node);

}  // namespace gk

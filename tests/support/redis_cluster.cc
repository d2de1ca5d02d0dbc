#include "tests/support/redis_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "tests/support/ports.h"

namespace gk::test {

namespace {

constexpr int kSlots = 16384;
constexpr int kBusOffset = 10000;
// Node ports; their bus ports are 14000-19999. See the class comment.
constexpr int kLowPort = 4000;
constexpr int kHighPort = 10000;
constexpr int kMaxRedirects = 5;
constexpr auto kStep = std::chrono::milliseconds(20);

// `count` consecutive ports, each free along with its bus port. Like free_port(), each process
// walks its own stretch of the range, so parallel test processes rarely meet.
std::vector<int> free_port_block(int count) {
  constexpr int kSpan = kHighPort - kLowPort;
  static std::atomic<int> next{kLowPort + static_cast<int>((::getpid() * 7919L) % kSpan)};
  for (int tries = 0; tries < kSpan; ++tries) {
    const int base = kLowPort + (next.fetch_add(count) - kLowPort) % kSpan;
    if (base + count > kHighPort) continue;
    std::vector<int> ports;
    for (int p = base; p < base + count; ++p) {
      if (!can_bind(p) || !can_bind(p + kBusOffset)) break;
      ports.push_back(p);
    }
    if (static_cast<int>(ports.size()) == count) return ports;
  }
  throw std::runtime_error("cannot find " + std::to_string(count) +
                           " free consecutive ports with free cluster bus ports");
}

std::string endpoint(int port) {
  return "127.0.0.1:" + std::to_string(port);
}

bool is_text(const redisReply* r) {
  return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

std::string text(const redisReply* r) {
  return is_text(r) ? std::string(r->str, r->len) : std::string();
}

// The value of `field` in an INFO-style "field:value\r\n" text, empty when absent.
std::string info_field(const std::string& info, const std::string& field) {
  const std::string key = field + ":";
  std::size_t at = 0;
  while (at < info.size()) {
    const std::size_t eol = info.find_first_of("\r\n", at);
    const std::size_t end = eol == std::string::npos ? info.size() : eol;
    if (info.compare(at, key.size(), key) == 0) {
      return info.substr(at + key.size(), end - at - key.size());
    }
    at = end + 1;
  }
  return {};
}

// redis-cli colours its output even into a file; error messages read better without.
std::string without_colours(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b' && i + 1 < s.size() && s[i + 1] == '[') {
      const std::size_t m = s.find('m', i);
      if (m != std::string::npos) {
        i = m;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

struct SlotRange {
  int first = 0;
  int last = 0;
  int primary = 0;
  std::vector<int> replicas;  // ascending
};

// A CLUSTER SLOTS reply, ranges in slot order; nullopt for a reply of another shape.
std::optional<std::vector<SlotRange>> parse_cluster_slots(const redisReply* r) {
  if (!r || r->type != REDIS_REPLY_ARRAY) return std::nullopt;
  std::vector<SlotRange> ranges;
  for (std::size_t i = 0; i < r->elements; ++i) {
    const redisReply* e = r->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 3) return std::nullopt;
    if (e->element[0]->type != REDIS_REPLY_INTEGER || e->element[1]->type != REDIS_REPLY_INTEGER) {
      return std::nullopt;
    }
    SlotRange range;
    range.first = static_cast<int>(e->element[0]->integer);
    range.last = static_cast<int>(e->element[1]->integer);
    for (std::size_t n = 2; n < e->elements; ++n) {
      const redisReply* node = e->element[n];
      if (node->type != REDIS_REPLY_ARRAY || node->elements < 2 ||
          node->element[1]->type != REDIS_REPLY_INTEGER) {
        return std::nullopt;
      }
      const int port = static_cast<int>(node->element[1]->integer);
      if (n == 2) {
        range.primary = port;
      } else {
        range.replicas.push_back(port);
      }
    }
    std::sort(range.replicas.begin(), range.replicas.end());
    ranges.push_back(std::move(range));
  }
  std::sort(ranges.begin(), ranges.end(),
            [](const SlotRange& a, const SlotRange& b) { return a.first < b.first; });
  return ranges;
}

// "0-5460:7001 5461-10922:7002 ...": equal for two nodes that agree on the slot map. Replicas
// are left out: CLUSTER SLOTS omits a replica whose replication offset the node has not yet
// heard to be past 0, which says nothing about the topology (see describe_topology()).
std::string describe(const std::vector<SlotRange>& ranges) {
  std::string out;
  for (const auto& r : ranges) {
    if (!out.empty()) out += ' ';
    out += std::to_string(r.first) + "-" + std::to_string(r.last) + ":" + std::to_string(r.primary);
  }
  return out;
}

int covered(const std::vector<SlotRange>& ranges) {
  int n = 0;
  for (const auto& r : ranges) n += r.last - r.first + 1;
  return n;
}

// One line of CLUSTER NODES.
struct NodeLine {
  std::string id;
  int port = 0;
  std::string flags;
  std::string primary_id;  // "-" for a primary
  std::string link;
  std::vector<std::string> slots;
};

std::vector<NodeLine> parse_cluster_nodes(const std::string& s) {
  std::vector<NodeLine> lines;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    if (f.size() < 8) continue;
    NodeLine n;
    const std::string& address = f[1];  // ip:port@cport[,hostname]
    const std::size_t at = address.find('@');
    const std::size_t colon = address.rfind(':', at);
    if (at != std::string::npos && colon != std::string::npos && colon < at) {
      n.port = std::atoi(address.substr(colon + 1, at - colon - 1).c_str());
    }
    n.id = f[0];
    n.flags = f[2];
    n.primary_id = f[3];
    n.link = f[7];
    n.slots.assign(f.begin() + 8, f.end());
    lines.push_back(std::move(n));
  }
  return lines;
}

// Every node as one CLUSTER NODES output sees it: "7001 0-5460; 7004<7001; ...", a replica with
// its primary's port, a primary with its slots, ordered by port. Equal for two nodes that agree
// on who replicates whom and who serves what.
std::string describe_topology(const std::vector<NodeLine>& lines) {
  std::map<std::string, int> port_of;
  for (const auto& n : lines) port_of[n.id] = n.port;
  std::map<int, std::string> by_port;
  for (const auto& n : lines) {
    std::string d = std::to_string(n.port);
    if (n.primary_id != "-") {
      d += "<" + std::to_string(port_of.count(n.primary_id) ? port_of[n.primary_id] : 0);
    } else if (n.flags.find("slave") != std::string::npos) {
      d += "<?";
    }
    for (const auto& slots : n.slots) d += " " + slots;
    by_port[n.port] = d;
  }
  std::string out;
  for (const auto& [port, d] : by_port) out += (out.empty() ? "" : "; ") + d;
  return out;
}

struct Redirect {
  bool ask = false;
  int slot = -1;
  int port = 0;
};

// "MOVED 3999 127.0.0.1:6381" or "ASK 3999 127.0.0.1:6381".
std::optional<Redirect> parse_redirect(const redisReply* r) {
  if (!r || r->type != REDIS_REPLY_ERROR) return std::nullopt;
  std::istringstream in(std::string(r->str, r->len));
  std::string kind, slot, address;
  if (!(in >> kind >> slot >> address)) return std::nullopt;
  if (kind != "MOVED" && kind != "ASK") return std::nullopt;
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  Redirect d;
  d.ask = kind == "ASK";
  d.slot = std::atoi(slot.c_str());
  d.port = std::atoi(address.c_str() + colon + 1);
  if (d.slot < 0 || d.slot >= kSlots || d.port <= 0) return std::nullopt;
  return d;
}

struct Role {
  std::string name;  // "master" or "slave"
  int primary_port = 0;
  std::string link;  // a replica's link to its primary: "connected" when up
};

std::optional<Role> parse_role(const redisReply* r) {
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1 || !is_text(r->element[0])) {
    return std::nullopt;
  }
  Role role;
  role.name = text(r->element[0]);
  if (role.name == "slave") {
    if (r->elements < 4 || r->element[2]->type != REDIS_REPLY_INTEGER) return std::nullopt;
    role.primary_port = static_cast<int>(r->element[2]->integer);
    role.link = text(r->element[3]);
  }
  return role;
}

}  // namespace

RedisCluster::RedisCluster(int primaries, int replicas_per_primary, int node_timeout_ms)
    : node_timeout_ms_(node_timeout_ms),
      replicas_per_primary_(replicas_per_primary),
      slot_owner_(kSlots, 0) {
  if (primaries < 3) throw std::invalid_argument("Redis Cluster needs at least 3 primaries");
  if (replicas_per_primary < 0) throw std::invalid_argument("negative replicas_per_primary");
  for (int port : free_port_block(primaries * (1 + replicas_per_primary))) {
    nodes_.push_back(std::make_unique<Node>(port));
  }
  for (auto& n : nodes_) start_node(*n);
  wait_answering(ports());

  std::vector<std::string> argv{"redis-cli", "--cluster", "create"};
  for (const auto& s : seeds()) argv.push_back(s);
  argv.insert(argv.end(),
              {"--cluster-replicas", std::to_string(replicas_per_primary), "--cluster-yes"});
  Process cli(argv, dir_.file("create.log"));
  const auto rc = cli.wait(std::chrono::seconds(30));
  if (rc != 0) {
    throw std::runtime_error(std::string("redis-cli --cluster create ") +
                             (rc ? "failed" : "did not finish in 30 s") + ":\n" +
                             without_colours(cli.log()));
  }
  std::string reason;
  const bool formed = eventually(
      [&] {
        reason = missing_replicas();
        if (reason.empty()) reason = instability();
        return reason.empty();
      },
      std::chrono::seconds(30), kStep);
  if (!formed) {
    throw std::runtime_error("Redis Cluster did not form in 30 s: " + reason +
                             "\nredis-cli --cluster create said:\n" + without_colours(cli.log()));
  }
  for (int port : ports()) node_id(port);
}

RedisCluster::~RedisCluster() {
  connections_.clear();
  nodes_.clear();  // each Process SIGKILLs its redis-server
}

std::vector<int> RedisCluster::ports() const {
  std::vector<int> out;
  for (const auto& n : nodes_) out.push_back(n->port);
  return out;
}

std::vector<std::string> RedisCluster::seeds() const {
  std::vector<std::string> out;
  for (const auto& n : nodes_) out.push_back(endpoint(n->port));
  return out;
}

bool RedisCluster::running(int port) const {
  return node(port).process != nullptr;
}

RedisCluster::Node& RedisCluster::node(int port) {
  for (auto& n : nodes_) {
    if (n->port == port) return *n;
  }
  throw std::invalid_argument("no cluster node on port " + std::to_string(port));
}

const RedisCluster::Node& RedisCluster::node(int port) const {
  for (const auto& n : nodes_) {
    if (n->port == port) return *n;
  }
  throw std::invalid_argument("no cluster node on port " + std::to_string(port));
}

std::vector<int> RedisCluster::running_ports() const {
  std::vector<int> out;
  for (const auto& n : nodes_) {
    if (n->process) out.push_back(n->port);
  }
  return out;
}

void RedisCluster::start_node(Node& n) {
  if (n.process) return;
  const std::vector<std::string> argv{
      "redis-server", "--port", std::to_string(n.port), "--bind", "127.0.0.1", "--dir",
      n.dir.path(), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
      "--cluster-node-timeout", std::to_string(node_timeout_ms_), "--appendonly", "no", "--save",
      "",
      // A replica's first sync starts at once rather than waiting 5 s for more replicas.
      "--repl-diskless-sync-delay", "0"};
  n.process = std::make_unique<Process>(argv, n.dir.file("redis.log"));
}

void RedisCluster::wait_answering(const std::vector<int>& ports) {
  for (int port : ports) {
    Node& n = node(port);
    const bool up = eventually(
        [&] {
          if (!n.process->running()) return false;
          auto r = try_command(port, {"PING"});
          return r && r->type == REDIS_REPLY_STATUS;
        },
        std::chrono::milliseconds(10000));
    if (!up) {
      throw std::runtime_error("cluster node " + std::to_string(port) +
                               " did not start: " + n.process->log());
    }
  }
}

RedisReplyPtr RedisCluster::try_command(int port, const std::vector<std::string>& args) {
  auto& conn = connections_[port];
  if (!conn || !conn->ok()) {
    RedisConfig config;
    config.host = "127.0.0.1";
    config.port = port;
    config.url = "redis://" + endpoint(port) + "/0";
    // MIGRATE during a reshard and a manual failover's client pause hold replies up a while.
    config.command_timeout_ms = 5000;
    auto connected = RedisConnection::connect(config);
    if (!connected) {
      conn.reset();
      return nullptr;
    }
    conn = std::move(connected).value();
  }
  std::vector<std::string_view> views(args.begin(), args.end());
  auto reply = conn->command(views);
  if (!reply) conn.reset();
  return reply;
}

RedisReplyPtr RedisCluster::command(int port, const std::vector<std::string>& args) {
  node(port);  // a port of this cluster
  auto reply = try_command(port, args);
  if (!reply) {
    throw std::runtime_error("cluster node " + std::to_string(port) + " does not answer " +
                             (args.empty() ? std::string() : args[0]));
  }
  return reply;
}

RedisReplyPtr RedisCluster::first_answer(const std::vector<std::string>& args, int* port) {
  for (int p : running_ports()) {
    auto reply = try_command(p, args);
    if (reply && reply->type != REDIS_REPLY_ERROR) {
      if (port) *port = p;
      return reply;
    }
  }
  throw std::runtime_error("no running cluster node answers " + args[0] + " " +
                           (args.size() > 1 ? args[1] : std::string()));
}

int RedisCluster::key_slot(const std::string& key) {
  auto reply = first_answer({"CLUSTER", "KEYSLOT", key});
  if (reply->type != REDIS_REPLY_INTEGER) {
    throw std::runtime_error("CLUSTER KEYSLOT: " + describe_reply(reply.get()));
  }
  return static_cast<int>(reply->integer);
}

int RedisCluster::primary_port_for_slot(int slot) {
  int asked = 0;
  auto reply = first_answer({"CLUSTER", "SLOTS"}, &asked);
  const auto ranges = parse_cluster_slots(reply.get());
  if (!ranges) throw std::runtime_error("unexpected CLUSTER SLOTS reply");
  for (const auto& r : *ranges) {
    if (r.first <= slot && slot <= r.last) return r.primary;
  }
  throw std::runtime_error("node " + std::to_string(asked) + " knows no primary for slot " +
                           std::to_string(slot));
}

std::vector<int> RedisCluster::ports_with_role(const std::string& role_name) {
  std::vector<int> out;
  for (int port : running_ports()) {
    auto role = parse_role(try_command(port, {"ROLE"}).get());
    if (role && role->name == role_name) out.push_back(port);
  }
  return out;
}

std::vector<int> RedisCluster::primary_ports() {
  return ports_with_role("master");
}

std::vector<int> RedisCluster::replica_ports() {
  return ports_with_role("slave");
}

void RedisCluster::learn_slot_map() {
  std::fill(slot_owner_.begin(), slot_owner_.end(), 0);
  for (int port : running_ports()) {
    const auto ranges = parse_cluster_slots(try_command(port, {"CLUSTER", "SLOTS"}).get());
    if (!ranges) continue;
    for (const auto& r : *ranges) {
      for (int s = r.first; s <= r.last && s < kSlots; ++s) slot_owner_[s] = r.primary;
    }
    return;
  }
}

RedisReplyPtr RedisCluster::routed(const std::string& key, const std::vector<std::string>& args) {
  const int slot = key_slot(key);
  if (slot_owner_[slot] == 0) learn_slot_map();
  int port = slot_owner_[slot];
  if (port == 0) throw std::runtime_error("no primary serves slot " + std::to_string(slot));
  bool asking = false;
  RedisReplyPtr reply;
  for (int hop = 0; hop <= kMaxRedirects; ++hop) {
    if (asking) {
      auto ok = try_command(port, {"ASKING"});
      if (!ok || ok->type == REDIS_REPLY_ERROR) {
        throw std::runtime_error("ASKING on " + std::to_string(port) + ": " +
                                 describe_reply(ok.get()));
      }
    }
    reply = try_command(port, args);
    if (!reply) {
      // Gone (killed, say): the map of a running node may point elsewhere by now.
      learn_slot_map();
      if (asking || slot_owner_[slot] == 0 || slot_owner_[slot] == port) {
        throw std::runtime_error("cluster node " + std::to_string(port) + " does not answer " +
                                 (args.empty() ? std::string() : args[0]) + " for slot " +
                                 std::to_string(slot));
      }
      port = slot_owner_[slot];
      continue;
    }
    asking = false;
    const auto redirect = parse_redirect(reply.get());
    if (!redirect) return reply;
    port = redirect->port;
    if (redirect->ask) {
      ++stats_.ask;
      asking = true;
    } else {
      ++stats_.moved;
      slot_owner_[redirect->slot] = port;
    }
  }
  return reply;  // still a redirect after kMaxRedirects
}

std::string RedisCluster::missing_replicas() {
  if (replicas_per_primary_ == 0) return {};
  int asked = 0;
  const auto ranges = parse_cluster_slots(first_answer({"CLUSTER", "SLOTS"}, &asked).get());
  if (!ranges) return "node " + std::to_string(asked) + " does not answer CLUSTER SLOTS";
  std::map<int, int> replicas_of;  // primary with slots -> replicas, as the replicas say
  for (const auto& r : *ranges) replicas_of[r.primary];
  std::vector<int> empty_primaries;
  for (int port : running_ports()) {
    const auto role = parse_role(try_command(port, {"ROLE"}).get());
    if (!role) return "node " + std::to_string(port) + " does not answer ROLE";
    if (role->name == "slave") {
      ++replicas_of[role->primary_port];
    } else if (!replicas_of.count(port)) {
      empty_primaries.push_back(port);
    }
  }
  std::string reason;
  for (int port : empty_primaries) {
    auto fewest =
        std::min_element(replicas_of.begin(), replicas_of.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
    if (fewest == replicas_of.end()) return "no primary serves slots";
    auto r = try_command(port, {"CLUSTER", "REPLICATE", node_id(fewest->first)});
    if (r && r->type == REDIS_REPLY_STATUS) {
      ++fewest->second;
    } else {
      reason = "node " + std::to_string(port) +
               " is an empty primary; CLUSTER REPLICATE: " + describe_reply(r.get());
    }
  }
  if (!empty_primaries.empty()) {
    return reason.empty() ? "made empty primaries replicas" : reason;
  }
  for (const auto& [primary, replicas] : replicas_of) {
    if (replicas != replicas_per_primary_) {
      return "primary " + std::to_string(primary) + " has " + std::to_string(replicas) +
             " replicas";
    }
  }
  if (static_cast<int>(replicas_of.size()) * (1 + replicas_per_primary_) !=
      static_cast<int>(nodes_.size())) {
    return std::to_string(replicas_of.size()) + " primaries serve slots";
  }
  return {};
}

std::string RedisCluster::instability() {
  const std::vector<int> live = running_ports();
  const std::set<int> live_set(live.begin(), live.end());
  std::string slot_map, topology;
  int reference = 0;
  for (int port : live) {
    const std::string where = "node " + std::to_string(port);
    auto info = try_command(port, {"CLUSTER", "INFO"});
    if (!is_text(info.get())) return where + " does not answer CLUSTER INFO";
    const std::string state = info_field(text(info.get()), "cluster_state");
    if (state != "ok") return where + " reports cluster_state:" + state;
    const std::string known = info_field(text(info.get()), "cluster_known_nodes");
    if (known != std::to_string(nodes_.size())) {
      return where + " knows " + known + " of " + std::to_string(nodes_.size()) + " nodes";
    }

    const auto ranges = parse_cluster_slots(try_command(port, {"CLUSTER", "SLOTS"}).get());
    if (!ranges) return where + " does not answer CLUSTER SLOTS";
    if (covered(*ranges) != kSlots) {
      return where + " sees " + std::to_string(covered(*ranges)) + " slots served";
    }
    auto nodes = try_command(port, {"CLUSTER", "NODES"});
    if (!is_text(nodes.get())) return where + " does not answer CLUSTER NODES";
    const auto lines = parse_cluster_nodes(text(nodes.get()));
    for (const auto& line : lines) {
      for (const auto& s : line.slots) {
        if (!s.empty() && s[0] == '[') return where + " has an open slot " + s;
      }
      if (line.flags.find("handshake") != std::string::npos ||
          line.flags.find("noaddr") != std::string::npos) {
        return where + " sees node " + std::to_string(line.port) + " as " + line.flags;
      }
      if (live_set.count(line.port) &&
          (line.flags.find("fail") != std::string::npos || line.link != "connected")) {
        return where + " sees node " + std::to_string(line.port) + " as " + line.flags + " " +
               line.link;
      }
    }
    const std::string map = describe(*ranges);
    const std::string view = describe_topology(lines);
    if (reference == 0) {
      slot_map = map;
      topology = view;
      reference = port;
    } else if (map != slot_map) {
      return "nodes disagree on the slot map: " + std::to_string(reference) + " sees " + slot_map +
             "; " + std::to_string(port) + " sees " + map;
    } else if (view != topology) {
      return "nodes disagree on the topology: " + std::to_string(reference) + " sees " + topology +
             "; " + std::to_string(port) + " sees " + view;
    }

    const auto role = parse_role(try_command(port, {"ROLE"}).get());
    if (!role) return where + " does not answer ROLE";
    if (role->name == "slave" && role->link != "connected") {
      return "replica " + std::to_string(port) + "'s link to its primary " +
             std::to_string(role->primary_port) + " is " + role->link;
    }
  }
  return {};
}

void RedisCluster::wait_until_stable(std::chrono::milliseconds deadline) {
  std::string reason;
  const bool stable = eventually(
      [&] {
        reason = instability();
        return reason.empty();
      },
      deadline, kStep);
  if (!stable) {
    throw std::runtime_error("Redis Cluster not stable after " + std::to_string(deadline.count()) +
                             " ms: " + reason);
  }
}

std::unique_ptr<Process> RedisCluster::start_reshard(int from_port, int to_port, int count) {
  wait_until_stable();
  const std::vector<int> live = running_ports();
  const std::vector<std::string> argv{
      "redis-cli",       "--cluster",           "reshard",      endpoint(live.front()),
      "--cluster-from",  node_id(from_port),    "--cluster-to", node_id(to_port),
      "--cluster-slots", std::to_string(count), "--cluster-yes"};
  return std::make_unique<Process>(argv,
                                   dir_.file("reshard-" + std::to_string(++cli_runs_) + ".log"));
}

void RedisCluster::reshard(int from_port, int to_port, int count) {
  auto cli = start_reshard(from_port, to_port, count);
  const auto rc = cli->wait(std::chrono::seconds(120));
  if (rc != 0) {
    throw std::runtime_error(std::string("redis-cli --cluster reshard ") +
                             (rc ? "failed" : "did not finish in 120 s") + ":\n" +
                             without_colours(cli->log()));
  }
  wait_until_stable();
}

int RedisCluster::failover(int primary_port) {
  if (replicas_per_primary_ < 1) throw std::logic_error("failover() needs replicas");
  if (!running(primary_port)) {
    throw std::logic_error("failover(): primary " + std::to_string(primary_port) + " is down");
  }
  wait_until_stable();
  int replica = 0;
  for (int port : running_ports()) {
    const auto role = parse_role(try_command(port, {"ROLE"}).get());
    if (role && role->name == "slave" && role->primary_port == primary_port) {
      replica = port;
      break;
    }
  }
  if (replica == 0) {
    throw std::runtime_error("failover(): node " + std::to_string(primary_port) +
                             " is not a primary with a running replica");
  }

  // A request the primary ignored (it must see the sender as its replica) is dropped by the
  // replica after 5 s; ask again sooner. One that was taken completes in milliseconds, so
  // asking again after kAskAgain does not cut it short.
  constexpr auto kAskAgain = std::chrono::milliseconds(1000);
  auto r = command(replica, {"CLUSTER", "FAILOVER"});
  if (r->type == REDIS_REPLY_ERROR) {
    throw std::runtime_error("CLUSTER FAILOVER on " + std::to_string(replica) + ": " +
                             describe_reply(r.get()));
  }
  auto next_ask = std::chrono::steady_clock::now() + kAskAgain;
  std::string reason;
  const bool done = eventually(
      [&] {
        const auto now_replica = parse_role(try_command(replica, {"ROLE"}).get());
        const auto old_primary = parse_role(try_command(primary_port, {"ROLE"}).get());
        if (!now_replica || now_replica->name != "master") {
          reason = std::to_string(replica) + " is still a replica";
          if (std::chrono::steady_clock::now() >= next_ask) {
            // An error here is the replica having become a primary meanwhile.
            try_command(replica, {"CLUSTER", "FAILOVER"});
            next_ask = std::chrono::steady_clock::now() + kAskAgain;
          }
          return false;
        }
        if (!old_primary || old_primary->name != "slave") {
          reason = "the old primary " + std::to_string(primary_port) + " is not a replica yet";
          return false;
        }
        reason = instability();
        return reason.empty();
      },
      std::chrono::seconds(30), kStep);
  if (!done) throw std::runtime_error("failover() did not complete in 30 s: " + reason);
  return replica;
}

void RedisCluster::kill(int port) {
  Node& n = node(port);
  connections_.erase(port);
  if (!n.process) return;
  n.process->signal(SIGKILL);
  n.process->wait(std::chrono::milliseconds(5000));
  n.process.reset();
}

void RedisCluster::restart(int port) {
  Node& n = node(port);
  if (n.process) return;
  start_node(n);
  wait_answering({port});
  if (running_ports().size() == nodes_.size()) wait_until_stable();
}

std::string RedisCluster::node_id(int port) {
  auto known = ids_.find(port);
  if (known != ids_.end()) return known->second;
  auto reply = command(port, {"CLUSTER", "MYID"});
  if (!is_text(reply.get())) {
    throw std::runtime_error("CLUSTER MYID on " + std::to_string(port) + ": " +
                             describe_reply(reply.get()));
  }
  return ids_[port] = text(reply.get());
}

}  // namespace gk::test

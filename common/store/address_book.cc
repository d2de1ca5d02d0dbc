#include "common/store/address_book.h"

#include <poll.h>

#include <algorithm>
#include <chrono>

#include "common/redis/cluster_slots.h"
#include "common/rules/optout_record.h"

namespace gk {

namespace {

constexpr std::string_view kInvalidateChannel = "__redis__:invalidate";
constexpr auto kPingEvery = std::chrono::milliseconds(500);
constexpr auto kRetryMax = std::chrono::milliseconds(2000);

// Reads a suppression hash as the rules need it: kNone when it is not suppressed.
AddressReason reason_of(const redisReply* hash) {
  bool suppressed = false;
  AddressReason reason = AddressReason::kManual;
  for (std::size_t i = 0; i + 1 < hash->elements; i += 2) {
    const redisReply* f = hash->element[i];
    const redisReply* v = hash->element[i + 1];
    if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
    const std::string_view field(f->str, f->len), value(v->str, v->len);
    if (field == "suppressed") suppressed = status_value_true(value);
    // An unknown reason another job wrote still suppresses (fail closed), as `manual`.
    if (field == "reason") reason = parse_address_reason(value).value_or(AddressReason::kManual);
  }
  return suppressed ? reason : AddressReason::kNone;
}

}  // namespace

AddressBook::AddressBook(const RedisConfig& redis)
    : redis_(redis), keys_(redis), state_(std::make_shared<const State>()) {}

AddressBook::~AddressBook() {
  stop();
}

void AddressBook::start() {
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { run(); });
}

void AddressBook::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const AddressBook::State> AddressBook::snapshot() const {
  std::lock_guard lock(mutex_);
  return state_;
}

void AddressBook::publish(State state, bool synced) {
  state.tombstone_his.clear();
  for (const TombstoneId& t : state.tombstones) state.tombstone_his.insert(t.hi);
  {
    std::lock_guard lock(mutex_);
    state_ = std::make_shared<const State>(std::move(state));
  }
  synced_.store(synced, std::memory_order_release);
  version_.fetch_add(1, std::memory_order_acq_rel);
}

bool AddressBook::is_tombstone(std::string_view key) const noexcept {
  return key.starts_with(keys_.tombstone_prefix());
}

std::string_view AddressBook::name_of(std::string_view key) const noexcept {
  return key.substr(is_tombstone(key) ? keys_.tombstone_prefix().size()
                                      : keys_.address_prefix().size());
}

bool AddressBook::connect(std::string& error) {
  disconnect();
  auto router = RedisRouter::connect(redis_);
  if (!router) {
    error = router.error();
    return false;
  }
  router_ = std::move(router).value();
  primaries_ = router_->primaries();
  // Tracking before loading: a write during the SCAN is announced, not lost.
  for (const std::string& node : primaries_) {
    const auto address = parse_node_address(node);
    if (!address) {
      error = "bad node address " + node;
      return false;
    }
    Link link;
    for (RedisConnection::Ptr* conn : {&link.tracker, &link.subscriber}) {
      auto connected = RedisConnection::connect(redis_, address->host, address->port);
      if (!connected) {
        error = connected.error();
        return false;
      }
      *conn = std::move(connected).value();
    }
    auto id = link.subscriber->command({"CLIENT", "ID"});
    if (!id || id->type != REDIS_REPLY_INTEGER) {
      error = node + ": CLIENT ID failed";
      return false;
    }
    auto sub = link.subscriber->command({"SUBSCRIBE", kInvalidateChannel});
    if (!sub || sub->type != REDIS_REPLY_ARRAY) {
      error = node + ": SUBSCRIBE failed";
      return false;
    }
    const std::string id_text = std::to_string(id->integer);
    auto tracking =
        link.tracker->command({"CLIENT", "TRACKING", "on", "REDIRECT", id_text, "BCAST", "PREFIX",
                               keys_.address_prefix(), "PREFIX", keys_.tombstone_prefix()});
    if (!tracking || tracking->type == REDIS_REPLY_ERROR) {
      error = node + ": CLIENT TRACKING: " +
              (tracking ? describe_reply(tracking.get()) : link.tracker->error());
      return false;
    }
    links_.push_back(std::move(link));
  }
  return true;
}

bool AddressBook::load(std::string& error) {
  State state;
  // Every primary holds its share of the keys: SCAN each one on its own connection.
  for (const std::string& node : primaries_) {
    const auto address = parse_node_address(node);
    if (!address) {
      error = "bad node address " + node;
      return false;
    }
    auto connected = RedisConnection::connect(redis_, address->host, address->port);
    if (!connected) {
      error = connected.error();
      return false;
    }
    RedisConnection& conn = **connected;
    for (const std::string& prefix : {keys_.address_prefix(), keys_.tombstone_prefix()}) {
      const std::string pattern = key_prefix_pattern(prefix);
      std::string cursor = "0";
      do {
        auto reply = conn.command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
        if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) {
          error = node + ": SCAN: " + (reply ? describe_reply(reply.get()) : conn.error());
          return false;
        }
        cursor.assign(reply->element[0]->str, reply->element[0]->len);
        const redisReply* found = reply->element[1];
        std::vector<std::string> addresses;
        for (std::size_t i = 0; i < found->elements; ++i) {
          const std::string_view key(found->element[i]->str, found->element[i]->len);
          if (is_tombstone(key)) {
            // A name that is not a tombstone hash can match no message.
            if (auto id = TombstoneHasher::parse(name_of(key))) state.tombstones.insert(*id);
          } else {
            addresses.emplace_back(key);
          }
        }
        for (const std::string& key : addresses) conn.append({"HGETALL", key});
        for (const std::string& key : addresses) {
          auto hash = conn.get_reply();
          if (!hash) {
            error = node + ": HGETALL: " + conn.error();
            return false;
          }
          if (hash->type != REDIS_REPLY_ARRAY) continue;  // another job's key of another type
          if (const AddressReason r = reason_of(hash.get()); r != AddressReason::kNone) {
            state.addresses.emplace(name_of(key), r);
          }
        }
      } while (cursor != "0");
    }
  }
  publish(std::move(state), true);
  return true;
}

bool AddressBook::refresh_keys(const std::vector<std::string>& keys, std::string& error) {
  std::vector<RedisRouter::Command> commands;
  commands.reserve(keys.size());
  for (const std::string& key : keys) {
    if (is_tombstone(key)) {
      commands.push_back({key, {"EXISTS", key}});
    } else {
      commands.push_back({key, {"HGETALL", key}});
    }
  }
  std::vector<RedisReplyPtr> replies;
  if (!router_->pipeline(commands, replies)) {
    error = router_->error();
    return false;
  }
  State state = *snapshot();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string_view key = keys[i];
    const redisReply* reply = replies[i].get();
    const std::string_view name = name_of(key);
    if (is_tombstone(key)) {
      const auto id = TombstoneHasher::parse(name);
      if (!id) continue;
      if (reply->type == REDIS_REPLY_INTEGER && reply->integer == 0) {
        state.tombstones.erase(*id);
      } else {
        state.tombstones.insert(*id);  // present, or unreadable: fail closed
      }
      continue;
    }
    const AddressReason r =
        reply->type == REDIS_REPLY_ARRAY ? reason_of(reply) : AddressReason::kNone;
    if (r == AddressReason::kNone) {
      state.addresses.erase(name);
    } else {
      state.addresses.insert_or_assign(std::string(name), r);
    }
  }
  publish(std::move(state), true);
  return true;
}

bool AddressBook::drain(Link& link, std::vector<std::string>& keys, bool& flushed) {
  if (!link.subscriber->read_available()) return false;
  while (auto reply = link.subscriber->next_buffered_reply()) {
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3) continue;
    const redisReply* k = reply->element[2];
    if (k->type == REDIS_REPLY_ARRAY) {
      for (std::size_t i = 0; i < k->elements; ++i) {
        if (k->element[i]->type == REDIS_REPLY_STRING) {
          keys.emplace_back(k->element[i]->str, k->element[i]->len);
        }
      }
    } else if (k->type == REDIS_REPLY_NIL) {
      flushed = true;
    }
  }
  return link.subscriber->ok();
}

bool AddressBook::ping() {
  if (!router_->ping()) return false;
  // A slot map that changed its primaries: reconnect, so every primary is tracked.
  if (router_->primaries() != primaries_) return false;
  for (Link& l : links_) l.tracker->append({"PING"});
  for (Link& l : links_) {
    auto reply = l.tracker->get_reply();
    if (!reply || reply->type == REDIS_REPLY_ERROR) return false;
  }
  return true;
}

void AddressBook::disconnect() {
  links_.clear();
  router_.reset();
}

void AddressBook::run() {
  using Clock = std::chrono::steady_clock;
  auto backoff = std::chrono::milliseconds(50);
  auto last_ping = Clock::now();
  std::vector<std::string> keys;
  std::vector<pollfd> fds;
  while (!stop_) {
    std::string error;
    if (!router_) {
      if (!connect(error) || !load(error)) {
        disconnect();
        if (synced()) publish(*snapshot(), false);
        const auto until = Clock::now() + backoff;
        while (!stop_ && Clock::now() < until) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        backoff = std::min(backoff * 2, std::chrono::duration_cast<decltype(backoff)>(kRetryMax));
        continue;
      }
      backoff = std::chrono::milliseconds(50);
      last_ping = Clock::now();
    }
    fds.clear();
    for (const Link& l : links_) fds.push_back({l.subscriber->fd(), POLLIN, 0});
    (void)::poll(fds.data(), fds.size(), 100);
    keys.clear();
    bool flushed = false;
    bool ok = true;
    for (std::size_t i = 0; i < fds.size() && ok; ++i) {
      if (fds[i].revents != 0) ok = drain(links_[i], keys, flushed);
    }
    if (ok && flushed) ok = load(error);
    if (ok && !keys.empty()) ok = refresh_keys(keys, error);
    if (ok && Clock::now() - last_ping >= kPingEvery) {
      ok = ping();
      last_ping = Clock::now();
    }
    if (!ok) {
      // Writes while no link listened were not heard: not in step until reloaded.
      disconnect();
      publish(*snapshot(), false);
    }
  }
  disconnect();
}

bool AddressCheck::refresh() {
  const std::uint64_t v = book_.version();
  if (v == seen_) return false;
  seen_ = v;
  synced_ = book_.synced();
  state_ = book_.snapshot();
  view_ = state_ && (!state_->addresses.empty() || !state_->tombstones.empty()) ? state_.get()
                                                                                : nullptr;
  return true;
}

bool AddressCheck::user_erased(std::string_view bu, std::string_view id) const {
  if (!view_->tombstone_his.contains(hasher_.user_hi(bu, id))) return false;
  return view_->tombstones.contains(hasher_.user(bu, id));
}

bool AddressCheck::address_erased(std::string_view channel, std::string_view address) const {
  if (!view_->tombstone_his.contains(hasher_.address_hi(channel, address))) return false;
  return view_->tombstones.contains(hasher_.address(channel, address));
}

AddressCheck::Verdict AddressCheck::check(std::string_view channel, std::string_view bu,
                                          std::string_view user_id, std::string_view email,
                                          std::string_view to) {
  Verdict v;
  if (view_ == nullptr) return v;
  const bool to_ok = !to.empty() && normalize_address(channel, to, to_);
  if (!view_->tombstones.empty()) {
    if (!user_id.empty() && user_erased(bu, user_id)) {
      v.erased = true;
      return v;
    }
    // The usual header names the same address as user.email and as `to`: normalised once.
    const bool email_ok = !email.empty() && (channel == "MAIL" && email == to
                                                 ? (email_.assign(to_), to_ok)
                                                 : normalize_address("MAIL", email, email_));
    if (email_ok && address_erased("MAIL", email_)) {
      v.erased = true;
      return v;
    }
    const bool same = email_ok && to_ok && channel == "MAIL" && to_ == email_;
    if (to_ok && !same && address_erased(channel, to_)) {
      v.erased = true;
      return v;
    }
  }
  if (to_ok && !view_->addresses.empty()) {
    key_.assign(channel).append(":").append(to_);
    const auto it = view_->addresses.find(std::string_view(key_));
    if (it != view_->addresses.end()) v.address = it->second;
  }
  return v;
}

}  // namespace gk

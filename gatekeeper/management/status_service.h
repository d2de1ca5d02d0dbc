#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "common/config/config.h"
#include "common/protocol/system_event.h"
#include "common/redis/redis_router.h"
#include "common/store/key_schema.h"
#include "common/store/status_script.h"
#include "common/util/result.h"
#include "gatekeeper/management/change_request.h"
#include "gatekeeper/management/management_metrics.h"
#include "gatekeeper/ops/log_limiter.h"

namespace gk {

class ErasureService;

// The status store and the system-event outlets, shared by the HTTP API threads and the
// event consumer: writes go through the atomic Lua script, reads through plain commands,
// system events to the bound PUB socket and the `<prefix>events` stream. Thread-safe: Redis
// routers (a connection, or one per cluster node) come from a small pool (one per concurrent
// caller, broken ones dropped), the PUB socket is used under a mutex.
class StatusService {
 public:
  // A person's status hash: field -> value, as stored.
  using Fields = std::map<std::string, std::string>;

  StatusService(const Config& config, zmq::context_t& context, ManagementMetrics& metrics);
  StatusService(const StatusService&) = delete;
  StatusService& operator=(const StatusService&) = delete;

  // Binds the PUB socket `egress.events`; throws zmq::error_t.
  void bind();

  // Erasure (PROTOCOL.md 13): an explicit Opt In lifts the tombstones of whom it names, in
  // apply(), whichever door it came through. Call before changes flow.
  void set_erasure(ErasureService* erasure) noexcept { erasure_ = erasure; }

  // Every status change goes through here: an explicit Opt In (a field set to false by an
  // `Opt In`) first lifts an erasure of whom it names; any other change naming an erased
  // user or email stores and publishes nothing (`erased` set); its time is clamped (a far-future
  // time becomes the time of receipt, counted and logged), the field is written by the status
  // script (last writer wins, link, history; retried per `retry`), and its system event (and
  // `also_published`) goes to the PUB socket and the stream with the stored time. An error,
  // and nothing published, when the store failed.
  Result<AppliedChange> apply(const ChangeRequest& change, const RetryPolicy& retry = {});
  // Links an external id and an email without changing a status (a body naming both,
  // PROTOCOL.md 2); nothing is published, and nothing is written when either is erased. An
  // error when the store failed.
  Result<StatusWriteResult> link(std::string_view bu, std::string_view external_id,
                                 std::string_view email, std::string_view source,
                                 const RetryPolicy& retry = {});
  // Whether the user or the email (either may be empty) is erased: a tombstone exists. False
  // without erasure.salt. An error when the store failed.
  Result<bool> erased(std::string_view bu, std::string_view external_id, std::string_view email);
  // The hash of a full user; empty when the user has none.
  Result<Fields> read_user(std::string_view bu, std::string_view external_id);
  // A person's hash as the rules see it: the user's when an external id is given, else the
  // user an email is linked to, else the lead's. Empty when there is none.
  Result<Fields> read_person(std::string_view bu, std::string_view external_id,
                             std::string_view email);
  // A person's change history, newest first; `lead` selects the lead (email) history.
  Result<std::vector<nlohmann::json>> history(bool lead, std::string_view bu, std::string_view who);

  const RedisConfig& redis() const noexcept { return config_.redis; }

  // For the bulk import and export, which handle thousands of statuses per call: runs `op`
  // on a pooled connection (like every call here, once more on a fresh link when a pooled
  // one turns out dead); a failure is counted and logged under `operation`.
  Status with_store(const char* operation, const std::function<Status(RedisRouter&)>& op);
  // Publishes many system events as publish() does one, the stream entries in one
  // pipelined round.
  void publish_all(const std::vector<SystemEvent>& events);
  // Counts status writes made without apply() (the bulk import's batch script).
  void count_changes(std::string_view source, std::uint64_t changed, std::uint64_t unchanged);
  // Publishes on the PUB socket and appends to the stream; failures are counted and logged
  // (rate-limited), never thrown: the change they report has already happened. For changes
  // that are not a person's status (address suppressions) and go through their own service.
  void publish(const SystemEvent& event);

 private:
  // A pooled connection, handed back on destruction unless it broke.
  class Lease {
   public:
    Lease(StatusService& owner, RedisRouter::Ptr conn, bool reused)
        : owner_(owner), conn_(std::move(conn)), reused_(reused) {}
    ~Lease() { owner_.release(std::move(conn_)); }
    // Movable so that acquire() can return it in a Result; a moved-from lease hands back
    // nothing.
    Lease(Lease&& other) noexcept
        : owner_(other.owner_), conn_(std::move(other.conn_)), reused_(other.reused_) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    RedisRouter& operator*() const noexcept { return *conn_; }
    // Taken from the pool rather than freshly connected: it may have gone stale while idle.
    bool reused() const noexcept { return reused_; }

   private:
    StatusService& owner_;
    RedisRouter::Ptr conn_;
    const bool reused_;
  };

  // One status script run (counted, a refused link logged); `write.ts` already clamped.
  Result<StatusWriteResult> write(const StatusWrite& write);
  // write() again after a failure, as `retry` allows.
  Result<StatusWriteResult> write_with_retry(const StatusWrite& write, const RetryPolicy& retry);
  // The time a change is stored and published with: `ts`, or the time of receipt when `ts`
  // lies past now + changes.max_future_ms (then `clamped`, counted by `source` and logged).
  EpochMs change_time(EpochMs ts, EpochMs received, std::string_view source, bool& clamped);

  // A pooled connection, else a new one.
  Result<Lease> acquire();
  void release(RedisRouter::Ptr conn);
  // Runs `op(conn)` (returning a Result) on a pooled connection. A pooled link that turns
  // out dead (the server restarted or closed it while idle) is replaced once with a fresh
  // one, so a Redis restart does not fail one request per idle link. A failure is counted
  // and logged under `operation`.
  template <typename Op>
  auto run(const char* operation, Op&& op) -> decltype(op(std::declval<RedisRouter&>()));
  void store_error(const char* operation, const std::string& error);
  Result<Fields> read_hash(const std::string& key);
  void append_to_stream(const SystemEvent& event);
  void send_pub(const SystemEvent& event);
  StatusLimits limits() const noexcept;

  const Config& config_;
  ManagementMetrics& metrics_;
  ErasureService* erasure_ = nullptr;
  const KeySchema keys_;
  const std::string stream_maxlen_;
  const std::size_t pool_max_;

  std::mutex pool_mutex_;
  std::vector<RedisRouter::Ptr> idle_;

  std::mutex pub_mutex_;
  zmq::socket_t pub_;

  LogLimiter store_log_;
  LogLimiter pub_log_;
  LogLimiter clamp_log_;
  LogLimiter link_log_;
};

}  // namespace gk

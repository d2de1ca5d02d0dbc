#pragma once

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/rules/channels.h"
#include "gatekeeper/admission/admission.h"
#include "gatekeeper/admission/channel_backlog.h"
#include "gatekeeper/admission/held_queue.h"
#include "gatekeeper/admission/pipeline_stats.h"
#include "gatekeeper/admission/status_source.h"

namespace gk {

// Where messages leave: a channel's adapter, or the decisions outlet. SocketOutlets in the
// daemon, tests/fakes/FakeOutlets in unit tests.
template <class O>
concept MessageOutlets = requires(O& o, std::size_t channel, std::vector<zmq::message_t>& frames,
                                  const Decision& d) {
  // Without blocking; false (frames untouched) when the adapter cannot take it now.
  { o.try_forward(channel, frames) } -> std::convertible_to<bool>;
  o.send_decision(d, frames);
};

// Every message taken from the ingress, from intake to the place it ends: decided at once,
// fetched for in the batch's one round trip, held for the store (bounded, in arrival order,
// until hold_max_wait_ms), or waiting in its channel's backlog. No sockets and no polling:
// MessagePipeline runs the loop around it; unit tests drive it with fakes.
template <StatusSource Source, LoopClock Clock, MessageOutlets Outlets>
class AdmissionFlow {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  AdmissionFlow(const Config& config, const ChannelRegistry& channels, Source& source, Clock& clock,
                Outlets& outlets, PipelineStats& stats)
      : config_(config),
        channels_(channels),
        source_(source),
        clock_(clock),
        outlets_(outlets),
        stats_(stats),
        step_(channels, config.ingress.max_header_bytes, config.ingress.max_frames,
              forwards_transactional(config)),
        held_(config.on_store_unavailable.hold_max_messages),
        backlog_(channels.routable_count(), backlog_limit(config)) {
    slots_.resize(config.ingress.batch_size + 1);  // + 1: the message read ahead
    screened_.resize(config.ingress.batch_size);
  }

  // The address and erasure check (admission.h); null: none.
  void set_address_check(AddressCheck* check) noexcept { step_.set_address_check(check); }

  // Applies the reloadable settings of the config given at construction, which the caller
  // has just changed (the channel set stays the same).
  void configure() {
    const auto& in = config_.ingress;
    step_.configure(in.max_header_bytes, in.max_frames, forwards_transactional(config_));
    if (slots_.size() < in.batch_size + 1) slots_.resize(in.batch_size + 1);
    if (screened_.size() < in.batch_size) screened_.resize(in.batch_size);
    held_.set_max_messages(config_.on_store_unavailable.hold_max_messages);
    backlog_.set_limit(backlog_limit(config_));
  }

  // Takes up to ingress.batch_size messages through `receive(frames) -> bool` (false: none
  // waiting) and admits them. A hit leaves at once; only misses wait for the batch's one
  // round trip. A person's later messages miss on the same keys, so they queue behind the
  // first: order holds.
  //
  // The person cache is far larger than the CPU's caches, so a lookup mostly waits for
  // memory. The loop therefore reads one message ahead: it takes and screens message i+1 and
  // asks the source to prefetch that person's entries before it looks up message i, whose
  // entries were prefetched a step earlier. It reads ahead only while admitting message i
  // cannot pause the intake (no channel backlog within one message of its limit), so a
  // pause still stops the batch exactly where it did.
  //
  // While no adapter's backlog can fill within a whole batch (the usual case) it reads further
  // ahead, a window of kWindow messages at a time (take_in_windows): a slot's control bytes
  // and then the slot itself are each a memory access, and one message ahead hides only one.
  template <class Receive>
  void take_batch(Receive&& receive) {
    const TimePoint now = clock_.now();
    const StoreAccess access =
        (!source_.connected() || !held_.empty()) ? StoreAccess::kBlocked : StoreAccess::kAsk;
    if (backlog_.pushes_cannot_pause(config_.ingress.batch_size)) {
      take_in_windows(receive, now, access);
      return;
    }
    const bool prefetch = access == StoreAccess::kAsk;
    std::size_t parked = 0;  // slots_[0, parked) wait for the fetch
    bool ahead = false;      // slots_[parked] is screened, not yet admitted
    std::size_t taken = 0;
    bool ingress_empty = false;
    while (true) {
      const bool may_take =
          !ingress_empty && taken < config_.ingress.batch_size && !backlog_.intake_paused();
      bool took = false;
      if (may_take && (!ahead || backlog_.pushes_cannot_pause(1))) {
        PendingMessage& p = slots_[parked + (ahead ? 1 : 0)];
        p.frames.clear();
        p.screened_in = 0;
        if (receive(p.frames)) {
          ++taken;
          stats_.received.add();
          p.received = now;
          took = true;
        } else {
          ingress_empty = true;
        }
      }
      PendingMessage* next = took ? &slots_[parked + (ahead ? 1 : 0)] : nullptr;
      Admission screened;
      if (next != nullptr) {
        screened = step_.screen(*next);
        if (screened.kind == Admission::Kind::kNeedsFetch && prefetch) {
          source_.prefetch(person_of(*next));
        }
      }
      if (ahead) {
        if (admit(slots_[parked], access)) ++parked;
      }
      ahead = false;
      if (next != nullptr) {
        if (screened.kind == Admission::Kind::kNeedsFetch) {
          // Move it to slots_[parked] unless it is there already (its predecessor was parked).
          if (next != &slots_[parked]) std::swap(*next, slots_[parked]);
          ahead = true;
        } else {
          act_on(screened, *next);  // after its predecessor: decisions keep arrival order
        }
      }
      // Not reading ahead this time (a backlog is nearly full) still takes the next one.
      if (!ahead && !took && !(may_take && !ingress_empty)) break;
    }
    caught_up_ = ingress_empty;
    finish_batch(parked);
  }

  // Reads up to kWindow messages, starting to load each one's header (written by the I/O
  // thread, on the other core, it is not in this core's cache); then screens them in order, up
  // to the first one decided on its face, asking the source to start loading what each lookup
  // will probe; then admits them in order, each after the source was asked to load the slot the
  // next one reads. Messages read but not screened yet open the next window. Again until the
  // batch is full or the ingress empty. Only called when no backlog can fill within the batch,
  // so no intake pause can fall inside a window.
  template <class Receive>
  void take_in_windows(Receive& receive, TimePoint now, StoreAccess access) {
    static constexpr std::size_t kWindow = 16;
    const bool prefetch = access == StoreAccess::kAsk;
    const std::size_t limit = config_.ingress.batch_size;
    std::size_t parked = 0;  // slots_[0, parked) wait for the fetch
    std::size_t taken = 0;
    std::size_t read = 0;  // slots_[parked, parked + read) are read, not yet screened
    bool ingress_empty = false;
    while (read > 0 || (!ingress_empty && taken < limit)) {
      const std::size_t first = parked;
      while (read < kWindow && !ingress_empty && taken < limit) {
        PendingMessage& p = slots_[first + read];
        p.frames.clear();
        p.screened_in = 0;
        if (!receive(p.frames)) {
          ingress_empty = true;
          break;
        }
        ++taken;
        ++read;
        stats_.received.add();
        p.received = now;
        prefetch_header(p);
      }
      std::size_t end = first;
      while (end < first + read) {
        PendingMessage& p = slots_[end];
        screened_[end] = step_.screen(p);
        // A message decided on its face ends the window: its decision's detail may be text
        // the decoder keeps only until the next screen.
        if (!needs_fetch(end++)) break;
        if (prefetch) source_.prefetch_probe(person_of(p));
      }
      const std::size_t read_end = first + read;
      if (prefetch && first < end && needs_fetch(first)) source_.prefetch(person_of(slots_[first]));
      for (std::size_t i = first; i < end; ++i) {
        if (prefetch && i + 1 < end && needs_fetch(i + 1)) {
          source_.prefetch(person_of(slots_[i + 1]));
        }
        const bool parks =
            needs_fetch(i) ? admit(slots_[i], access) : act_on(screened_[i], slots_[i]);
        if (!parks) continue;
        // Slots before i are done with: the parked ones stay together at the front.
        if (i != parked) std::swap(slots_[i], slots_[parked]);
        ++parked;
      }
      // The read-ahead follows the parked ones, in order.
      read = read_end - end;
      for (std::size_t k = 0; k < read; ++k) {
        if (parked + k != end + k) std::swap(slots_[parked + k], slots_[end + k]);
      }
    }
    caught_up_ = ingress_empty;
    finish_batch(parked);
  }

  static void prefetch_header(const PendingMessage& p) noexcept {
    if (p.frames.empty()) return;
    const char* data = static_cast<const char*>(p.frames.front().data());
    const std::size_t size = std::min<std::size_t>(p.frames.front().size(), 512);
    for (std::size_t at = 0; at < size; at += 64) __builtin_prefetch(data + at);
  }

  // Decides the batch's parked messages (slots_[0, parked)) after the one fetch.
  void finish_batch(std::size_t parked) {
    if (parked > 0) resolve_parked(slots_, parked, false);
    source_.end_batch();
  }

  bool needs_fetch(std::size_t slot) const noexcept {
    return screened_[slot].kind == Admission::Kind::kNeedsFetch;
  }

  // Whether held messages should be tried again now.
  bool may_retry_held() const { return source_.connected() && !held_.empty() && !paused(); }

  // Tries the oldest held messages (up to a batch) again, in order.
  void retry_held() {
    const std::size_t n = std::min(held_.size(), config_.ingress.batch_size);
    retry_.resize(std::max(retry_.size(), n));
    std::size_t parked = 0;
    for (std::size_t i = 0; i < n; ++i) {
      retry_[parked] = held_.pop_front();
      stats_.held.set(held_.size());
      if (admit(retry_[parked], StoreAccess::kAsk)) ++parked;
    }
    if (parked > 0) resolve_parked(retry_, parked, true);
    source_.end_batch();
  }

  // Rejects (store_unavailable) the held messages that have waited hold_max_wait_ms.
  void expire_held(TimePoint now) {
    const auto max_wait = std::chrono::milliseconds(config_.on_store_unavailable.hold_max_wait_ms);
    while (held_.front_expired(now, max_wait)) {
      PendingMessage p = held_.pop_front();
      give_up(p, Reason::kStoreUnavailable, "status store unreachable");
    }
    stats_.held.set(held_.size());
  }

  // Sends what waits for `channel` while its adapter takes it; resumes the intake once no
  // backlog is full.
  void flush_backlog(std::size_t channel) {
    while (!backlog_.empty(channel) &&
           outlets_.try_forward(channel, backlog_.front(channel).frames)) {
      // From the socket to the adapter, the wait for the adapter included.
      stats_.decision_latency.record(clock_.now() - backlog_.front(channel).received);
      backlog_.pop_front(channel);
      count_forwarded(channel);
    }
    stats_.backlog.set(backlog_.total());
    if (backlog_.resume_if_room())
      spdlog::info("adapters are taking messages again; intake resumes");
  }

  void begin_drain() noexcept { draining_ = true; }
  bool draining() const noexcept { return draining_; }
  // Whether a drain may end: nothing held, nothing waiting for adapters, and the ingress was
  // polled this turn and had nothing. Only then: intake that resumed in this very turn (the
  // last backlog flushed) still has messages queued to decide.
  bool drained(bool ingress_polled_empty) const noexcept {
    return ingress_polled_empty && held_.empty() && backlog_.total() == 0 &&
           !backlog_.intake_paused();
  }

  bool paused() const noexcept { return backlog_.intake_paused(); }
  // Whether the last take_batch() stopped because the ingress had nothing more (not at the
  // batch limit or a pause): the loop has caught up with its senders for now.
  bool caught_up() const noexcept { return caught_up_; }
  std::size_t held() const noexcept { return held_.size(); }
  std::size_t decodes() const noexcept { return step_.decodes(); }
  std::size_t backlog_total() const noexcept { return backlog_.total(); }
  std::size_t backlog_waiting(std::size_t channel) const noexcept {
    return backlog_.waiting(channel);
  }

 private:
  static bool forwards_transactional(const Config& c) noexcept {
    return c.on_store_unavailable.transactional == TransactionalPolicy::kForward;
  }
  static std::size_t backlog_limit(const Config& c) noexcept {
    return static_cast<std::size_t>(std::max(c.egress.channel_backlog, 1));
  }

  // Acts on the admission of `p`; true when it waits for the batch's fetch.
  bool admit(PendingMessage& p, StoreAccess access) {
    return act_on(step_.admit(p, source_, access), p);
  }

  // Acts on an admission of `p` that is final, or held; true when it waits for the fetch.
  bool act_on(const Admission& a, PendingMessage& p) {
    switch (a.kind) {
      case Admission::Kind::kNeedsFetch:
        return true;
      case Admission::Kind::kHold:
        hold(std::move(p), false);
        return false;
      case Admission::Kind::kForward:
        forward(a.channel, p);
        return false;
      case Admission::Kind::kDecide:
        reject(p, a.decision);
        return false;
    }
    return false;
  }

  // Fetches what the parked messages need in one round trip, then decides them in order; on
  // a store failure the rest are held (back at the front when they came from the held queue).
  void resolve_parked(std::vector<PendingMessage>& slots, std::size_t count, bool from_held) {
    // The source has logged and counted a failure; here it only means "hold the rest".
    const bool fetched = source_.fetch().ok();
    std::size_t unresolved_from = count;
    for (std::size_t i = 0; i < count; ++i) {
      if (fetched) {
        const Admission a = step_.admit(slots[i], source_, StoreAccess::kFetched);
        if (a.kind == Admission::Kind::kForward) {
          forward(a.channel, slots[i]);
          continue;
        }
        if (a.kind == Admission::Kind::kDecide) {
          reject(slots[i], a.decision);
          continue;
        }
      }
      unresolved_from = i;
      break;
    }
    if (unresolved_from == count) return;
    if (from_held) {
      for (std::size_t i = count; i-- > unresolved_from;) hold(std::move(slots[i]), true);
    } else {
      for (std::size_t i = unresolved_from; i < count; ++i) hold(std::move(slots[i]), false);
    }
  }

  void hold(PendingMessage&& p, bool at_front) {
    if (at_front) {
      held_.push_front(std::move(p));
    } else if (held_.push_back(std::move(p))) {
      stats_.held_total.add();
    } else {
      give_up(p, Reason::kStoreUnavailable, "held queue is full");
      return;
    }
    stats_.held.set(held_.size());
  }

  void forward(std::size_t channel, PendingMessage& p) {
    if (backlog_.empty(channel) && outlets_.try_forward(channel, p.frames)) {
      stats_.decision_latency.record(clock_.now() - p.received);
      count_forwarded(channel);
      return;
    }
    // Behind what already waits for this adapter, to keep the order it receives in.
    const bool paused_now = backlog_.push(channel, std::move(p));
    stats_.backlog.set(backlog_.total());
    if (paused_now) {
      stats_.intake_pauses.add();
      spdlog::warn("channel {} adapter is not taking messages ({} waiting); pausing intake",
                   channels_.name(channel), backlog_.waiting(channel));
    }
  }

  void count_forwarded(std::size_t channel) {
    stats_.forwarded.add();
    stats_.by_channel_reason[channel][static_cast<std::size_t>(Reason::kNone)].add();
  }

  void reject(PendingMessage& p, const Decision& d) {
    // `d` may point into frame 0, which the send hands over to ZeroMQ: read it first.
    const auto index = channels_.find_routable(d.channel);
    if (d.reason == Reason::kMalformed) {
      spdlog::debug("malformed message id='{}': {}", d.id, d.detail);
    }
    const Action action = d.action;
    const Reason reason = d.reason;
    outlets_.send_decision(d, p.frames);
    stats_.decision_latency.record(clock_.now() - p.received);
    (action == Action::kSuppress ? stats_.suppressed : stats_.rejected).add();
    stats_.by_channel_reason[index ? *index : kMaxChannelTypes][static_cast<std::size_t>(reason)]
        .add();
  }

  // A held message that cannot wait any longer: rejected with what its header still says.
  void give_up(PendingMessage& p, Reason reason, std::string_view detail) {
    reject(p, step_.give_up(p, reason, detail));
  }

  const Config& config_;
  const ChannelRegistry& channels_;
  Source& source_;
  Clock& clock_;
  Outlets& outlets_;
  PipelineStats& stats_;
  AdmissionStep step_;
  HeldQueue held_;
  ChannelBacklog backlog_;
  // Reused across batches so a turn of the loop allocates nothing once warmed up.
  std::vector<PendingMessage> slots_;
  std::vector<Admission> screened_;  // take_in_windows: the screen of slots_[i]
  std::vector<PendingMessage> retry_;
  bool draining_ = false;
  bool caught_up_ = true;
};

}  // namespace gk

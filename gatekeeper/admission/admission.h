#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/protocol/header.h"
#include "common/rules/channels.h"
#include "common/rules/decide.h"
#include "common/store/address_book.h"
#include "gatekeeper/admission/decision_writer.h"
#include "gatekeeper/admission/pending_message.h"
#include "gatekeeper/admission/status_source.h"

namespace gk {

// What to do with one message.
struct Admission {
  enum class Kind {
    kForward,     // to routable channel `channel`
    kDecide,      // not forwarded: `decision` says why
    kHold,        // the status cannot be read now: wait for the store
    kNeedsFetch,  // its person is noted on the status source: decide after the fetch
  };
  Kind kind = Kind::kDecide;
  std::size_t channel = 0;
  Decision decision;
};

// Who a screened message is for.
inline PersonRef person_of(const PendingMessage& p) noexcept {
  return {p.header.bu, p.header.user_id, p.email, true, p.user_hash, p.email_hash};
}

// How the status source may be asked for a message.
enum class StoreAccess {
  kAsk,      // resolve locally, else note what to fetch
  kBlocked,  // the store is down or messages are held before this one: do not ask
  kFetched,  // the batch's fetch succeeded: resolve, and hold if it still cannot
};

// The admission step: header checks, channel and topic, the person's status from a status
// source, and the rules (common/rules/decide.h). Decides nothing on its own about sockets,
// queues or time; the caller acts on the answer. Views in the answer point into the
// message's header frame and into this object (a malformed message's detail) and hold until
// the next call.
class AdmissionStep {
 public:
  AdmissionStep(const ChannelRegistry& channels, std::size_t max_header_bytes,
                std::size_t max_frames, bool forward_transactional)
      : channels_(channels),
        decoder_(max_header_bytes),
        max_frames_(max_frames),
        forward_transactional_(forward_transactional) {}

  // The suppressed addresses and tombstones (PROTOCOL.md 11, 13) to check every routable
  // message against; null (unit tests of other rules): none. The caller refreshes it.
  void set_address_check(AddressCheck* check) noexcept { addresses_ = check; }

  // Applies reloaded settings (the channel registry is the caller's, updated in place).
  void configure(std::size_t max_header_bytes, std::size_t max_frames, bool forward_transactional);

  // Decode, frame count, channel, topic: a final answer, or kNeedsFetch when the message
  // needs its person's status (p.header, p.input and p.channel are then filled and kept, and
  // later calls do not decode it again).
  Admission screen(PendingMessage& p);

  template <StatusSource Source>
  Admission admit(PendingMessage& p, Source& source, StoreAccess access);

  // Headers decoded so far: each message's once, unless settings were reloaded meanwhile.
  std::size_t decodes() const noexcept { return decodes_; }
  bool screened(const PendingMessage& p) const noexcept { return p.screened_in == generation_; }

  // The header again, for a held message that gives up: id and channel as far as they can be
  // read, the channel by its canonical name when it is routable.
  Decision give_up(const PendingMessage& p, Reason reason, std::string_view detail);

 private:
  // The suppressed addresses and tombstones for a screened message, as known now (a message
  // that waited is judged by what holds when it is decided): fills p.input; true when an
  // identifier of it is erased, which no status could change.
  bool check_addresses(PendingMessage& p);
  // The rules over the screened message, with `status` (nullptr: none could be read).
  Admission decide_with(PendingMessage& p, const OptOutRecord* status);

  const ChannelRegistry& channels_;
  HeaderDecoder decoder_;
  std::size_t max_frames_;
  bool forward_transactional_;
  AddressCheck* addresses_ = nullptr;
  MessageHeader header_;  // give_up()'s scratch, for a message never screened
  std::size_t decodes_ = 0;
  std::uint64_t generation_ = 1;  // bumped by configure(): what was screened before is stale
};

template <StatusSource Source>
Admission AdmissionStep::admit(PendingMessage& p, Source& source, StoreAccess access) {
  Admission a;
  if (!screened(p)) {
    a = screen(p);
    if (a.kind != Admission::Kind::kNeedsFetch) return a;
  }
  a.kind = Admission::Kind::kNeedsFetch;
  a.channel = p.channel;
  if (check_addresses(p)) return decide_with(p, nullptr);
  if (access == StoreAccess::kBlocked) {
    // Behind what is already held, only the exempt kind may go ahead.
    if (p.input.realtime_transactional && forward_transactional_) return decide_with(p, nullptr);
    a.kind = Admission::Kind::kHold;
    return a;
  }
  const PersonRef person = person_of(p);
  OptOutRecord status;
  if (source.resolve(person, status)) return decide_with(p, &status);
  if (access == StoreAccess::kFetched) {
    // Resolved keys can only be missing if the store failed mid-way.
    a.kind = Admission::Kind::kHold;
    return a;
  }
  source.want(person);
  return a;
}

}  // namespace gk

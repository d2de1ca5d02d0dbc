#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/protocol/header.h"
#include "common/rules/decide.h"

namespace gk {

// One message taken from the ingress, as it travels through the loop: its frames, untouched
// (forwarded byte-identical), and when it was taken (for latency and the hold deadline).
struct PendingMessage {
  std::vector<zmq::message_t> frames;
  std::chrono::steady_clock::time_point received;

  // What the admission step read from the header, kept once it knows the message needs a
  // status, so that a message that waits (parked for a fetch, held for the store) is not
  // decoded again. The views point into frames[0], whose bytes stay where they are when the
  // message moves (the vector's buffer moves, not its elements). `screened_in` is the
  // step's settings generation it was read under (0: not read; a reload reads it again);
  // whoever refills `frames` resets it.
  std::uint64_t screened_in = 0;
  MessageHeader header;
  std::string email;  // header.email trimmed and lower-cased, as every lookup needs it
  // person_key_hash of (bu, user_id) and of (bu, email), for every lookup of this message.
  std::size_t user_hash = 0;
  std::size_t email_hash = 0;
  DecisionInput input;
  std::size_t channel = 0;
};

}  // namespace gk

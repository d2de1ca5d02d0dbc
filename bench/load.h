#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <zmq.hpp>

namespace gk::bench {

// Who a candidate header names. kRealistic: user.id + user.email + user.bu and `to` = the
// email, so the gatekeeper has three records to find (the user, the lead, the email's link).
// kIdOnly: user.id + user.bu and `to`, one record (what gk-bench sent before issue 16).
enum class HeaderKind { kRealistic, kIdOnly };

// What one run sends: `messages` candidate messages over `people` people, a fraction of them
// realtime transactional, optionally paced at `rate` per second (0 = as fast as possible).
struct LoadSpec {
  std::uint64_t messages = 1'000'000;
  std::uint64_t people = 100'000;
  std::uint64_t first_person = 0;
  bool sequential_people = false;  // person i for message i (cold: nobody seen twice)
  bool transactional = false;
  HeaderKind header = HeaderKind::kRealistic;
  std::string topic;  // campaign.topic on every message when not empty
  std::uint64_t rate = 0;
  std::size_t payload_bytes = 512;
  std::string ingress;
  std::vector<std::string> sinks;  // every endpoint a message can end at
  bool progress = true;
  std::string label;
};

struct LoadResult {
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  double seconds = 0;               // first send to last receive
  std::uint64_t first_send_ns = 0;  // steady clock: spans over runs side by side
  std::uint64_t last_receive_ns = 0;
  std::vector<std::uint32_t> latency_us;  // one per received message, unordered
  double msgs_per_second() const { return seconds > 0 ? received / seconds : 0; }
  double percentile_us(double p);
};

// The candidate header of message `index` for person `person`: ~200 bytes of msgpack,
// realistic keys, the send time travels in the payload's first 8 bytes instead.
std::string make_header(std::uint64_t index, std::uint64_t person, bool transactional,
                        HeaderKind kind, const std::string& topic = {});
std::string person_id(std::uint64_t person);
std::string person_email(std::uint64_t person);

// Sends the load from one thread and reads every sink from another; returns when all sent
// messages arrived or nothing arrived for `idle_timeout`.
LoadResult run_load(zmq::context_t& ctx, const LoadSpec& spec,
                    std::chrono::milliseconds idle_timeout = std::chrono::seconds(10));

// The specs at the same time, each run_load() from a thread of its own with a ZeroMQ context
// of its own (so no I/O thread is shared); the results in the order of the specs.
std::vector<LoadResult> run_loads(const std::vector<LoadSpec>& specs);

// Runs side by side as one: every message and latency, `seconds` from the earliest first
// send to the latest last receive.
LoadResult combine(const std::vector<LoadResult>& results);

}  // namespace gk::bench

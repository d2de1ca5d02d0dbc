#include "bench/load.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <exception>
#include <random>
#include <stdexcept>
#include <thread>

#include "common/protocol/client.h"

namespace gk::bench {

namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string person_id(std::uint64_t person) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "person-%09llu", static_cast<unsigned long long>(person));
  return buf;
}

std::string person_email(std::uint64_t person) {
  return person_id(person) + "@mail.example.com";
}

std::string make_header(std::uint64_t index, std::uint64_t person, bool transactional,
                        HeaderKind kind, const std::string& topic) {
  char id[32];
  std::snprintf(id, sizeof(id), "msg-%012llu", static_cast<unsigned long long>(index));
  const std::string email = person_email(person);
  client::HeaderBuilder header;
  header.id(id).channel("MAIL").user_id(person_id(person)).bu("retail-eu").to(email);
  if (kind == HeaderKind::kRealistic) header.email(email);
  if (!topic.empty()) header.topic(topic);
  return header
      .campaign(transactional ? "password-reset" : "winter-newsletter-2026",
                transactional ? client::CampaignType::kRealtime : client::CampaignType::kBatch,
                transactional)
      .extra("template", "tpl-7c1e5a9d-newsletter-hero-variant-b-locale-en-GB-v12")
      .build();
}

double LoadResult::percentile_us(double p) {
  if (latency_us.empty()) return 0;
  const auto k = static_cast<std::size_t>(p / 100.0 * static_cast<double>(latency_us.size() - 1));
  std::nth_element(latency_us.begin(), latency_us.begin() + static_cast<std::ptrdiff_t>(k),
                   latency_us.end());
  return latency_us[k];
}

LoadResult run_load(zmq::context_t& ctx, const LoadSpec& spec,
                    std::chrono::milliseconds idle_timeout) {
  LoadResult result;
  result.latency_us.reserve(spec.messages);
  std::atomic<std::uint64_t> first_send{0};
  std::atomic<bool> sender_done{false};

  // Sinks connect before the sender starts so no message waits for a peer.
  std::vector<zmq::socket_t> sinks;
  for (const auto& ep : spec.sinks) {
    sinks.emplace_back(ctx, zmq::socket_type::pull);
    sinks.back().set(zmq::sockopt::rcvhwm, 1'000'000);
    sinks.back().set(zmq::sockopt::linger, 0);
    sinks.back().connect(ep);
  }
  std::uint64_t last_recv = 0;
  std::thread receiver([&] {
    std::vector<zmq::pollitem_t> items;
    for (auto& s : sinks) items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
    auto last_activity = Clock::now();
    zmq::message_t frame;
    while (result.received < spec.messages) {
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(100));
      bool any = false;
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (!(items[i].revents & ZMQ_POLLIN)) continue;
        // Drain what is there: the last frame of each message carries the send time.
        while (sinks[i].recv(frame, zmq::recv_flags::dontwait)) {
          while (frame.more()) (void)sinks[i].recv(frame, zmq::recv_flags::none);
          std::uint64_t sent_ns = 0;
          if (frame.size() >= sizeof(sent_ns)) std::memcpy(&sent_ns, frame.data(), sizeof(sent_ns));
          const std::uint64_t t = now_ns();
          result.latency_us.push_back(static_cast<std::uint32_t>((t - sent_ns) / 1000));
          ++result.received;
          last_recv = t;
          any = true;
        }
      }
      if (any) {
        last_activity = Clock::now();
      } else if (sender_done && Clock::now() - last_activity > idle_timeout) {
        break;
      }
    }
  });

  zmq::socket_t push(ctx, zmq::socket_type::push);
  push.set(zmq::sockopt::sndhwm, 1'000'000);
  push.set(zmq::sockopt::linger, 5000);
  push.connect(spec.ingress);
  // Give the connection a moment so the first messages do not measure the TCP handshake.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));

  std::vector<std::string> headers;
  if (!spec.sequential_people) {
    if (spec.people == 0) throw std::invalid_argument("run_load: a load over 0 people");
    // Pre-built headers keep the sender cheap. One per person drawn, without repeats, up to
    // the whole population: a small fixed pool would let a cache hold everyone the run names
    // however large the population is.
    std::vector<std::uint64_t> people(spec.people);
    for (std::uint64_t p = 0; p < spec.people; ++p) people[p] = spec.first_person + p;
    std::mt19937_64 rng(42);
    const std::uint64_t pool = std::max<std::uint64_t>(1, std::min(spec.messages, spec.people));
    headers.reserve(pool);
    for (std::uint64_t i = 0; i < pool; ++i) {
      std::swap(people[i], people[i + rng() % (spec.people - i)]);
      headers.push_back(make_header(i, people[i], spec.transactional, spec.header, spec.topic));
    }
  }
  std::string payload(spec.payload_bytes, 'x');
  const auto start = Clock::now();
  first_send = now_ns();
  auto last_progress = start;
  for (std::uint64_t i = 0; i < spec.messages; ++i) {
    if (spec.rate > 0 && i % 100 == 0) {
      // Bursts of 100 on a fixed schedule: same shape for the baseline and the gatekeeper.
      std::this_thread::sleep_until(start +
                                    std::chrono::nanoseconds(i * 1'000'000'000ULL / spec.rate));
    }
    std::string header = spec.sequential_people ? make_header(i, spec.first_person + i,
                                                              spec.transactional, spec.header)
                                                : std::string();
    const std::string& h = spec.sequential_people ? header : headers[i % headers.size()];
    const std::uint64_t t = now_ns();
    std::memcpy(payload.data(), &t, sizeof(t));
    (void)push.send(zmq::buffer(h), zmq::send_flags::sndmore);
    (void)push.send(zmq::buffer(payload), zmq::send_flags::none);
    ++result.sent;
    if (spec.progress && (i & 0xFFFF) == 0 &&
        Clock::now() - last_progress > std::chrono::seconds(1)) {
      last_progress = Clock::now();
      std::fprintf(stderr, "  %s: sent %llu/%llu\n", spec.label.c_str(),
                   static_cast<unsigned long long>(i),
                   static_cast<unsigned long long>(spec.messages));
    }
  }
  sender_done = true;
  receiver.join();
  result.first_send_ns = first_send.load();
  result.last_receive_ns = last_recv;
  result.seconds = static_cast<double>(last_recv - result.first_send_ns) / 1e9;
  return result;
}

std::vector<LoadResult> run_loads(const std::vector<LoadSpec>& specs) {
  std::vector<LoadResult> results(specs.size());
  std::vector<std::exception_ptr> errors(specs.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    threads.emplace_back([&, i] {
      try {
        zmq::context_t ctx(1);
        results[i] = run_load(ctx, specs[i]);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  return results;
}

LoadResult combine(const std::vector<LoadResult>& results) {
  LoadResult all;
  for (const auto& r : results) {
    all.sent += r.sent;
    all.received += r.received;
    all.latency_us.insert(all.latency_us.end(), r.latency_us.begin(), r.latency_us.end());
    if (r.received == 0) continue;
    if (all.first_send_ns == 0 || r.first_send_ns < all.first_send_ns) {
      all.first_send_ns = r.first_send_ns;
    }
    all.last_receive_ns = std::max(all.last_receive_ns, r.last_receive_ns);
  }
  if (all.last_receive_ns > all.first_send_ns) {
    all.seconds = static_cast<double>(all.last_receive_ns - all.first_send_ns) / 1e9;
  }
  return all;
}

}  // namespace gk::bench

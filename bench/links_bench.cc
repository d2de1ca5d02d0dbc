#include "bench/links_bench.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>
#include <vector>

#include "common/protocol/client.h"
#include "common/protocol/unsubscribe_token.h"
#include "common/util/timestamp.h"
#include "tests/support/gatekeeper_process.h"
#include "tests/support/redis_server.h"

namespace gk::bench {

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kSecret = "a benchmark secret of at least thirty-two characters";

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int run_links_bench(bool quick, bool as_json) {
  const int calls = quick ? 50 : 500;
  constexpr int kThreads = 2;
  constexpr int kPerCall = 1000;

  // Sealing alone: what the crypto costs per link.
  const TokenCodec codec({kSecret});
  LinkPayload p;
  p.scope = LinkScope::kChannel;
  p.name = "MAIL";
  p.bu = "retail-eu";
  p.issued = now_ms();
  const int seals = quick ? 100'000 : 1'000'000;
  auto start = Clock::now();
  std::size_t bytes = 0;
  for (int i = 0; i < seals; ++i) {
    p.external_id = "customer-" + std::to_string(i);
    bytes += codec.seal(p).size();
  }
  const double seal_rate = seals / seconds_since(start);

  test::RedisServer redis;
  test::GatekeeperOptions opts;
  opts.redis_port = redis.port();
  opts.log_level = "warn";
  opts.http_extra = "threads = 4\nmax_body_bytes = 4194304";
  opts.extra_toml = std::string("[unsubscribe]\nbase_url = \"https://mail.example.com/gk\"\n") +
                    "secrets = [\"" + kSecret + "\"]\n";
  test::GatekeeperProcess gk(opts);
  if (!gk.wait_ready()) {
    std::cerr << "gatekeeper did not start:\n" << gk.log();
    return 1;
  }
  std::vector<client::LinkRequest> items(kPerCall);
  for (int i = 0; i < kPerCall; ++i) {
    items[i].user_id = "customer-" + std::to_string(i);
    items[i].email = "customer-" + std::to_string(i) + "@mail.example.com";
    items[i].channel = "MAIL";
  }
  const std::string body = client::unsubscribe_links_body(items);
  std::atomic<long long> issued{0};
  std::atomic<int> failures{0};
  start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      httplib::Client c("127.0.0.1", opts.http_port);
      c.set_keep_alive(true);
      c.set_read_timeout(30, 0);
      for (int i = 0; i < calls / kThreads; ++i) {
        auto r = c.Post("/unsubscribe-links", {{"X-XNG-AuthToken", opts.auth_token}}, body,
                        "application/json");
        if (!r || r->status != 200) {
          ++failures;
          continue;
        }
        issued += static_cast<long long>(client::parse_unsubscribe_links(r->body).size());
      }
    });
  }
  for (auto& t : threads) t.join();
  const double elapsed = seconds_since(start);
  const double rate = static_cast<double>(issued.load()) / elapsed;
  if (as_json) {
    std::cout << nlohmann::json{{"links_issued", issued.load()},
                                {"seconds", elapsed},
                                {"links_per_s", rate},
                                {"calls_failed", failures.load()},
                                {"seal_only_per_s", seal_rate},
                                {"mean_token_chars", static_cast<double>(bytes) / seals}}
                     .dump(2)
              << "\n";
  } else {
    std::printf(
        "links: %lld issued in %.2f s over HTTP (%d threads, %d per call): %.0f links/s; "
        "%d calls failed\n",
        issued.load(), elapsed, kThreads, kPerCall, rate, failures.load());
    std::printf("sealing alone: %.0f tokens/s, mean token %.0f characters\n", seal_rate,
                static_cast<double>(bytes) / seals);
  }
  return failures.load() == 0 ? 0 : 1;
}

}  // namespace gk::bench

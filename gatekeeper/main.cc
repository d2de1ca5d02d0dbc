// gatekeeper: flags, config, logging and signals; everything else lives in Server.
#include <pthread.h>
#include <signal.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "common/config/config.h"
#include "common/config/config_summary.h"
#include "gatekeeper/ops/curve.h"
#include "gatekeeper/ops/logging.h"
#include "gatekeeper/server.h"

namespace {

constexpr const char* kUsage = R"(Usage: gatekeeper --config FILE
       gatekeeper --check-config FILE
       gatekeeper --gen-curve-keypair
       gatekeeper --version | --help

Gatekeeper forwards candidate messages to channel adapters only when the person has not
opted out, and reports every other message on the decisions outlet with a reason.

  --config FILE        run with the TOML configuration FILE
  --check-config FILE  validate FILE, print every problem with its key, exit 0 or 2
  --gen-curve-keypair  print a new CURVE keypair (Z85): the secret for [curve] of the
                       gatekeeper or a sender, the public key for allowed_clients
  --version            print the version
  --help               print this text

Signals: SIGTERM / SIGINT stop intake, drain and exit 0. SIGHUP re-reads the config file:
a valid one is applied (settings that need a restart are named in a warning), an invalid
one is refused and the running config stays.
)";

int check_config(const std::string& path) {
  auto result = gk::load_config_file(path);
  if (result.errors.empty()) {
    std::printf("%s: OK\n", path.c_str());
    return 0;
  }
  for (const auto& e : result.errors)
    std::fprintf(stderr, "%s: %s\n", path.c_str(), e.to_string().c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--gen-curve-keypair") {
      const auto [pub, sec] = gk::generate_curve_keypair();
      std::printf("public_key = \"%s\"\nsecret_key = \"%s\"\n", pub.c_str(), sec.c_str());
      return 0;
    }
    if (arg == "--version") {
      std::printf("gatekeeper %s\n", GK_VERSION);
      return 0;
    }
    if ((arg == "--check-config" || arg == "--config") && i + 1 < argc) {
      if (arg == "--check-config") return check_config(argv[i + 1]);
      config_path = argv[++i];
      continue;
    }
    std::fprintf(stderr, "gatekeeper: unknown or incomplete argument '%s'\n\n%s", arg.c_str(),
                 kUsage);
    return 2;
  }
  if (config_path.empty()) {
    std::fprintf(stderr, "gatekeeper: --config FILE is required\n\n%s", kUsage);
    return 2;
  }
  auto loaded = gk::load_config_file(config_path);
  if (!loaded.errors.empty()) {
    for (const auto& e : loaded.errors) {
      std::fprintf(stderr, "%s: %s\n", config_path.c_str(), e.to_string().c_str());
    }
    return 2;
  }
  gk::setup_logging(loaded.config->log);
  spdlog::info("gatekeeper {} starting with {}: {}", GK_VERSION, config_path,
               gk::summarize_config(*loaded.config).dump());

  // Signals are taken by one thread with sigwait, so no other thread is interrupted.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  // The signal thread reloads through this pointer, only while the server is running.
  std::mutex server_mutex;
  gk::Server* running = nullptr;
  auto reload = [&] {
    auto next = gk::load_config_file(config_path);
    std::lock_guard lock(server_mutex);
    if (!next.errors.empty()) {
      for (const auto& e : next.errors) {
        spdlog::error("reload refused, keeping the running config: {}: {}", config_path,
                      e.to_string());
      }
      if (running != nullptr) running->reload_failed();
      return;
    }
    if (running != nullptr) running->reload(*next.config);
  };
  std::thread signal_thread([&] {
    const timespec tick{0, 100'000'000};
    while (!done.load()) {
      const int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig == SIGTERM || sig == SIGINT) {
        spdlog::info("received {}, stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        stop = true;
      } else if (sig == SIGHUP) {
        spdlog::info("received SIGHUP, reloading {}", config_path);
        reload();
      }
    }
  });

  int rc = 0;
  try {
    gk::Server server(std::move(*loaded.config));
    server.start();
    // Published for reloads while it runs; withdrawn before it is destroyed, even on a throw.
    struct Published {
      std::mutex& m;
      gk::Server*& slot;
      Published(std::mutex& mu, gk::Server*& s, gk::Server* value) : m(mu), slot(s) {
        std::lock_guard lock(m);
        slot = value;
      }
      ~Published() {
        std::lock_guard lock(m);
        slot = nullptr;
      }
    } published(server_mutex, running, &server);
    server.run(stop);
  } catch (const std::exception& e) {
    spdlog::critical("gatekeeper failed: {}", e.what());
    rc = 1;
  }
  done = true;
  signal_thread.join();
  spdlog::info("gatekeeper stopped");
  return rc;
}

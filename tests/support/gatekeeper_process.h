#pragma once

#include <memory>
#include <string>

#include "tests/support/process.h"

namespace gk::test {

// Ports and knobs of one gatekeeper under test; every endpoint on a fresh loopback port.
struct GatekeeperOptions {
  int redis_port = 0;
  std::string transactional_policy = "forward";
  int hold_max_wait_ms = 5000;
  int hold_max_messages = 100000;
  bool cache_enabled = true;
  int cache_max_entries = 100000;
  int max_header_bytes = 8192;
  std::string auth_token = "test-token";
  std::string log_level = "debug";
  std::string log_format = "text";
  int batch_size = 512;
  int channel_backlog = 10000;
  int rcvhwm = 100000;
  int sndhwm = 100000;
  std::string extra_toml;   // appended as is: whole tables only
  std::string redis_extra;  // lines added inside [redis], e.g. "history_length = 3"
  std::string http_extra;   // lines added inside [http], e.g. "max_body_bytes = 2048"

  int messages_port;
  int events_port;
  int decisions_port;
  int system_events_port;
  int mail_port;
  int sms_port;
  int push_port;
  int http_port;

  GatekeeperOptions();
  std::string toml() const;
};

// The built gatekeeper binary run as a user would: a config file, --config, signals.
class GatekeeperProcess {
 public:
  explicit GatekeeperProcess(GatekeeperOptions options);

  const GatekeeperOptions& options() const noexcept { return options_; }
  std::string messages() const;
  std::string events() const;
  std::string decisions() const;
  std::string system_events() const;
  std::string mail() const;
  std::string sms() const;
  std::string push() const;
  std::string http_base() const;

  // Waits until /readyz answers `status` (200 or 503).
  bool wait_ready(int status = 200, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  Process& process() noexcept { return *process_; }
  std::string log() const { return process_->log(); }

 private:
  GatekeeperOptions options_;
  TempDir dir_;
  std::unique_ptr<Process> process_;
};

// GET on the local HTTP listener: the status (-1 when nothing answered) and the body.
struct HttpAnswer {
  int status = -1;
  std::string body;
};
HttpAnswer http_get(int port, const std::string& path);
// PUT of a JSON body with the API token header.
HttpAnswer http_put(int port, const std::string& path, const std::string& body,
                    const std::string& token);

}  // namespace gk::test

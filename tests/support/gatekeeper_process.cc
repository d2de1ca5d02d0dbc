#include "tests/support/gatekeeper_process.h"

#include <httplib.h>

#include <sstream>

#include "tests/support/ports.h"

namespace gk::test {

GatekeeperOptions::GatekeeperOptions()
    : messages_port(free_port()),
      events_port(free_port()),
      decisions_port(free_port()),
      system_events_port(free_port()),
      mail_port(free_port()),
      sms_port(free_port()),
      push_port(free_port()),
      http_port(free_port()) {}

std::string GatekeeperOptions::toml() const {
  std::ostringstream t;
  t << "[ingress]\n"
    << "messages = \"" << tcp_endpoint(messages_port) << "\"\n"
    << "events = \"" << tcp_endpoint(events_port) << "\"\n"
    << "max_header_bytes = " << max_header_bytes << "\n"
    << "batch_size = " << batch_size << "\n"
    << "rcvhwm = " << rcvhwm << "\n"
    << "[egress]\n"
    << "decisions = \"" << tcp_endpoint(decisions_port) << "\"\n"
    << "events = \"" << tcp_endpoint(system_events_port) << "\"\n"
    << "channel_backlog = " << channel_backlog << "\n"
    << "sndhwm = " << sndhwm << "\n"
    << "[channels.MAIL]\naliases = [\"EMAIL\"]\n"
    << "endpoint = \"" << tcp_endpoint(mail_port) << "\"\nrequire_address = true\n"
    << "sndhwm = " << sndhwm << "\n"
    << "[channels.SMS]\n"
    << "endpoint = \"" << tcp_endpoint(sms_port) << "\"\nrequire_address = true\n"
    << "sndhwm = " << sndhwm << "\n"
    << "[channels.PUSH_NOTIFICATION]\n"
    << "endpoint = \"" << tcp_endpoint(push_port) << "\"\nrequire_address = false\n"
    << "[redis]\nurl = \"redis://127.0.0.1:" << redis_port << "/0\"\n"
    << redis_extra << "\n"
    << "[http]\nlisten = \"127.0.0.1:" << http_port << "\"\n"
    << "auth_tokens = [\"" << auth_token << "\"]\n"
    << "auth_tokens_env = \"\"\n"
    << http_extra << "\n"
    << "[log]\nlevel = \"" << log_level << "\"\nformat = \"" << log_format << "\"\n"
    << "[cache]\nenabled = " << (cache_enabled ? "true" : "false")
    << "\nmax_entries = " << cache_max_entries << "\n"
    << "[on_store_unavailable]\ntransactional = \"" << transactional_policy << "\"\n"
    << "hold_max_wait_ms = " << hold_max_wait_ms << "\n"
    << "hold_max_messages = " << hold_max_messages << "\n"
    << "retry_initial_ms = 20\nretry_max_ms = 200\n"
    << extra_toml << "\n";
  return t.str();
}

GatekeeperProcess::GatekeeperProcess(GatekeeperOptions options) : options_(std::move(options)) {
  const std::string config = dir_.write("gatekeeper.toml", options_.toml());
  process_ = std::make_unique<Process>(std::vector<std::string>{GK_BINARY_PATH, "--config", config},
                                       dir_.file("gatekeeper.log"));
}

std::string GatekeeperProcess::messages() const {
  return tcp_endpoint(options_.messages_port);
}
std::string GatekeeperProcess::events() const {
  return tcp_endpoint(options_.events_port);
}
std::string GatekeeperProcess::decisions() const {
  return tcp_endpoint(options_.decisions_port);
}
std::string GatekeeperProcess::system_events() const {
  return tcp_endpoint(options_.system_events_port);
}
std::string GatekeeperProcess::mail() const {
  return tcp_endpoint(options_.mail_port);
}
std::string GatekeeperProcess::sms() const {
  return tcp_endpoint(options_.sms_port);
}
std::string GatekeeperProcess::push() const {
  return tcp_endpoint(options_.push_port);
}
std::string GatekeeperProcess::http_base() const {
  return "http://127.0.0.1:" + std::to_string(options_.http_port);
}

bool GatekeeperProcess::wait_ready(int status, std::chrono::milliseconds timeout) {
  return eventually(
      [&] {
        return process_->running() && http_get(options_.http_port, "/readyz").status == status;
      },
      timeout, std::chrono::milliseconds(20));
}

HttpAnswer http_get(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(5, 0);
  auto res = client.Get(path.c_str());
  if (!res) return {};
  return {res->status, res->body};
}

HttpAnswer http_put(int port, const std::string& path, const std::string& body,
                    const std::string& token) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(10, 0);
  auto res = client.Put(path.c_str(), {{"X-XNG-AuthToken", token}}, body, "application/json");
  if (!res) return {};
  return {res->status, res->body};
}

}  // namespace gk::test

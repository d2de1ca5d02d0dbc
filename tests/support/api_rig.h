#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "tests/support/rig.h"

namespace gk::test {

// GatekeeperOptions::auth_token's default: what the API expects unless a test changes it.
inline constexpr const char* kApiToken = "test-token";

struct ApiAnswer {
  int status = -1;      // -1: no answer at all
  nlohmann::json body;  // discarded when the body is not JSON (see raw)
  std::string raw;
};

struct SystemEventSeen {
  std::string topic;
  nlohmann::json map;
};

// A Rig with the management side wired too: the events socket, a subscriber on the system
// events and the HTTP API, for the tests that change a status and watch what follows
// (management, identity, timestamps, link fan-out). Edit opts before start().
class ApiRig : public Rig {
 public:
  ApiRig() = default;
  ~ApiRig() { close_api_peers(); }

  // Starts the sidecar and waits until the subscription has reached the PUB socket, which
  // drops everything sent before that.
  void start();

  // An API call with `token` in X-XNG-AuthToken (none when nullopt) and `headers` added.
  ApiAnswer call(const std::string& method, const std::string& path, const std::string& body = "",
                 const std::optional<std::string>& token = std::string(kApiToken),
                 httplib::Headers headers = {});

  // Sends a harmless event on the socket and waits for its own system event: everything
  // sent on the socket before it has been handled (one consumer, in order). The other
  // system events seen on the way are kept in `seen`.
  bool probe_socket(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  std::vector<nlohmann::json> seen;

  // The next system event that is not a probe.
  std::optional<SystemEventSeen> next_event(
      std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // The entries of the gk:events stream, probes left out, oldest first.
  std::vector<std::map<std::string, std::string>> stream();

  // Sends frame 0 as given and returns the decision about message `id`, or
  // {"forwarded": "<channel>"} when an adapter received it, or {"nothing": true}.
  nlohmann::json decide(const std::string& frame0, const std::string& id);

  // Sends one message and says where it went: a channel name or "<verdict>/<reason>".
  std::string outcome(const std::string& channel, const nlohmann::json& user,
                      const nlohmann::json& extra = {});
  // The cache learns of a write through Redis invalidation, a moment after the write: asks
  // again until the expected outcome shows or the deadline passes.
  bool eventually_outcome(const std::string& expected, const std::string& channel,
                          const nlohmann::json& user, const nlohmann::json& extra = {});

  // A field of a hash; "" when absent.
  std::string hget(const std::string& key, const std::string& field);
  std::string metrics();

  std::unique_ptr<Sender> events;
  std::unique_ptr<Subscriber> sub;

 private:
  void close_api_peers();
  int seq_ = 0;
};

// An ApiRig logging at info, for tests that read the gatekeeper's warnings: debug lines for
// every message would only slow their many sends.
struct LimitsRig : ApiRig {
  LimitsRig() { opts.log_level = "info"; }
};

}  // namespace gk::test

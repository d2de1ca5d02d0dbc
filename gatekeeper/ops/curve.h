#pragma once

#include <atomic>
#include <set>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "common/config/config.h"
#include "common/util/counters.h"

namespace gk {

// The CURVE keys in force: the server's secret and the client public keys admitted.
struct CurveKeys {
  std::string secret_z85;
  std::set<std::string> allowed;  // 32-byte binary public keys
};

// Reads the keys from the config and the files it names; throws std::runtime_error naming
// the file or key that is wrong.
CurveKeys load_curve_keys(const CurveConfig& config);

// Makes `socket` a CURVE server with `secret_z85`; call before bind.
void make_curve_server(zmq::socket_t& socket, const std::string& secret_z85);

// A fresh keypair as Z85 text, for `gatekeeper --gen-curve-keypair`.
std::pair<std::string, std::string> generate_curve_keypair();

// The ZAP handler of the context (RFC 27): admits a CURVE client only when its public key is
// on the allow-list, so a sender with a valid handshake but an unknown key is refused.
class ZapHandler {
 public:
  // Counts into `admitted` and `refused`, which only this handler's thread writes.
  ZapHandler(zmq::context_t& context, CurveKeys keys, LocalCounter& admitted,
             LocalCounter& refused);
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

 private:
  void run();

  zmq::socket_t socket_;
  const CurveKeys keys_;
  std::atomic<bool> stop_{false};
  LocalCounter& admitted_;
  LocalCounter& refused_;
  std::thread thread_;
};

}  // namespace gk

#include "gatekeeper/ops/curve.h"

#include <spdlog/spdlog.h>

#include <array>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace gk {

namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";
constexpr const char* kZapDomain = "gatekeeper";

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string decode_key(const std::string& z85, const std::string& where) {
  std::array<std::uint8_t, 32> bin{};
  if (z85.size() != 40 || zmq_z85_decode(bin.data(), z85.c_str()) == nullptr) {
    throw std::runtime_error(where + ": not a 40-character Z85 CURVE key");
  }
  return std::string(reinterpret_cast<const char*>(bin.data()), bin.size());
}

std::vector<std::string> read_lines(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(key + ": cannot read " + path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    line = trim(line);
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  return out;
}

}  // namespace

CurveKeys load_curve_keys(const CurveConfig& config) {
  CurveKeys keys;
  if (!config.secret_key_file.empty()) {
    auto lines = read_lines(config.secret_key_file, "curve.secret_key_file");
    if (lines.empty()) throw std::runtime_error("curve.secret_key_file: no key in the file");
    keys.secret_z85 = lines.front();
  } else {
    keys.secret_z85 = config.secret_key;
  }
  (void)decode_key(keys.secret_z85, "curve.secret_key");
  for (const auto& k : config.allowed_clients) {
    keys.allowed.insert(decode_key(k, "curve.allowed_clients"));
  }
  if (!config.allowed_clients_file.empty()) {
    for (const auto& k : read_lines(config.allowed_clients_file, "curve.allowed_clients_file")) {
      keys.allowed.insert(decode_key(k, "curve.allowed_clients_file"));
    }
  }
  if (keys.allowed.empty()) throw std::runtime_error("curve: no allowed client keys");
  return keys;
}

void make_curve_server(zmq::socket_t& socket, const std::string& secret_z85) {
  socket.set(zmq::sockopt::curve_server, true);
  socket.set(zmq::sockopt::curve_secretkey, secret_z85);
  // Without a ZAP domain libzmq skips authentication for some mechanisms; set one.
  socket.set(zmq::sockopt::zap_domain, kZapDomain);
}

std::pair<std::string, std::string> generate_curve_keypair() {
  std::array<char, 41> pub{};
  std::array<char, 41> sec{};
  if (zmq_curve_keypair(pub.data(), sec.data()) != 0) {
    throw std::runtime_error("this libzmq has no CURVE support");
  }
  return {std::string(pub.data()), std::string(sec.data())};
}

ZapHandler::ZapHandler(zmq::context_t& context, CurveKeys keys, LocalCounter& admitted,
                       LocalCounter& refused)
    : socket_(context, zmq::socket_type::rep),
      keys_(std::move(keys)),
      admitted_(admitted),
      refused_(refused) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind(kZapEndpoint);
  thread_ = std::thread([this] { run(); });
}

ZapHandler::~ZapHandler() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ZapHandler::run() {
  while (!stop_) {
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, std::chrono::milliseconds(100));
      if (!(item.revents & ZMQ_POLLIN)) continue;
      std::vector<zmq::message_t> request;
      bool more = true;
      while (more) {
        zmq::message_t part;
        (void)socket_.recv(part, zmq::recv_flags::none);
        more = part.more();
        request.push_back(std::move(part));
      }
      // version, request id, domain, address, identity, mechanism, credentials...
      const bool well_formed = request.size() >= 6;
      const std::string request_id = well_formed ? request[1].to_string() : std::string();
      const std::string domain = well_formed ? request[2].to_string() : std::string();
      const std::string mechanism = well_formed ? request[5].to_string() : std::string();
      // Only our CURVE servers carry the domain; other sockets of the context (outlets that
      // adapters connect to) may consult the handler too and are none of its business.
      const bool ours = domain == kZapDomain;
      const bool admit =
          well_formed && (!ours || (mechanism == "CURVE" && request.size() >= 7 &&
                                    keys_.allowed.count(request[6].to_string()) > 0));
      if (admit) {
        admitted_.add();
      } else {
        refused_.add();
        spdlog::warn("CURVE client refused from {} (key not on curve.allowed_clients)",
                     well_formed ? request[3].to_string() : std::string("?"));
      }
      const std::array<std::string, 6> reply = {
          "1.0", request_id, admit ? "200" : "400", admit ? "OK" : "client key not allowed",
          "",    ""};
      for (std::size_t i = 0; i < reply.size(); ++i) {
        (void)socket_.send(zmq::buffer(reply[i]),
                           i + 1 < reply.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
      }
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) return;
      spdlog::error("ZAP handler: {}", e.what());
    }
  }
}

}  // namespace gk

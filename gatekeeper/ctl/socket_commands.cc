// send, tail decisions, tail events: the ZeroMQ side of PROTOCOL.md sections 4 and 6.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <zmq.hpp>

#include "common/protocol/client.h"
#include "common/protocol/system_event.h"
#include "gatekeeper/ctl/commands.h"
#include "gatekeeper/ctl/wire_json.h"

namespace gk::ctl {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string default_message_id() {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return "ctl-" + std::to_string(ms) + "-" + std::to_string(::getpid());
}

// The sender's CURVE secret key: --curve-secret-key-file (keeps it out of `ps`), else
// $GATEKEEPER_CURVE_SECRET_KEY.
std::string curve_secret(const ParsedArgs& args) {
  if (const auto file = args.value("--curve-secret-key-file")) {
    std::ifstream in(*file);
    std::string key;
    if (!(in >> key)) throw UsageError("cannot read a key from --curve-secret-key-file " + *file);
    return key;
  }
  const char* env = std::getenv("GATEKEEPER_CURVE_SECRET_KEY");
  if (env == nullptr || *env == '\0') {
    throw UsageError(
        "--curve-server-key needs the sender's secret key: --curve-secret-key-file or "
        "$GATEKEEPER_CURVE_SECRET_KEY");
  }
  return env;
}

// A CURVE key as ZeroMQ takes it in text form: 40 Z85 characters.
std::string z85_key(const std::string& what, const std::string& key) {
  if (key.size() != 40) {
    throw UsageError(what + " must be a 40-character Z85 key (gatekeeper --gen-curve-keypair)");
  }
  return key;
}

// Builds a socket that connects to `endpoint`; a malformed endpoint is the user's typo, so it
// becomes a usage error rather than a ZeroMQ exception.
template <typename Make>
auto connecting(const std::string& option, const std::string& endpoint, Make make) {
  try {
    return make(endpoint);
  } catch (const zmq::error_t& e) {
    throw UsageError(option + " '" + endpoint + "' is not a ZeroMQ endpoint (" + e.what() +
                     "); use e.g. tcp://127.0.0.1:5570");
  }
}

int send(const ParsedArgs& args, std::ostream& out) {
  const std::string endpoint = args.required("--messages");
  client::HeaderBuilder header;
  header.id(args.value_or("--id", default_message_id())).channel(args.required("--channel"));
  if (const auto user = args.value("--user")) header.user_id(*user);
  if (const auto email = args.value("--email")) header.email(*email);
  if (const auto bu = args.value("--bu")) header.bu(*bu);
  if (const auto to = args.value("--to")) header.to(*to);
  const bool realtime = args.flag("--realtime");
  const bool transactional = args.flag("--transactional");
  const auto campaign = args.value("--campaign");
  if (campaign || realtime || transactional) {
    header.campaign(campaign.value_or(""),
                    realtime ? client::CampaignType::kRealtime : client::CampaignType::kBatch,
                    transactional);
  }
  if (const auto problem = header.problem(); !problem.empty()) {
    throw UsageError(problem + " (--id, --channel, and --user or --email)");
  }
  const std::string bytes = header.build();
  const std::string payload = args.value_or("--payload", "gatekeeper-ctl test message");
  const auto timeout = std::chrono::milliseconds(args.integer("--timeout", 5000, 1, 3'600'000));

  zmq::context_t context(1);
  client::SenderOptions options;
  options.send_timeout = timeout;
  // Closing waits this long for the message to leave, so the process does not exit first.
  options.linger = timeout;
  if (const auto server_key = args.value("--curve-server-key")) {
    options.curve_server_key = z85_key("--curve-server-key", *server_key);
    options.curve_public_key = z85_key("--curve-public-key", args.required("--curve-public-key"));
    options.curve_secret_key = z85_key("the CURVE secret key", curve_secret(args));
  }
  auto sender = connecting("--messages", endpoint, [&](const std::string& ep) {
    return std::make_unique<client::MessageSender>(context, ep, options);
  });
  if (!sender->send(bytes, payload)) {
    throw CtlError("cannot send to " + endpoint + ": no gatekeeper took the message within " +
                   std::to_string(timeout.count()) + " ms (is ingress.messages right?)");
  }
  out << safe_dump({{"sent", true},
                    {"endpoint", endpoint},
                    {"header", json::from_msgpack(bytes)},
                    {"payload_bytes", payload.size()}})
      << std::endl;
  return 0;
}

// The --count / --timeout loop shared by both tails: `next` waits up to the given time for
// one item and prints it, returning whether one came.
template <typename Next>
int tail(const ParsedArgs& args, const std::string& what, Next next) {
  const auto count = args.integer("--count", 0, 0, 1'000'000'000'000LL);
  const auto idle = std::chrono::milliseconds(args.integer("--timeout", 0, 0, 86'400'000));
  long long seen = 0;
  auto last = Clock::now();
  while (count == 0 || seen < count) {
    if (next(std::chrono::milliseconds(200))) {
      ++seen;
      last = Clock::now();
    } else if (idle.count() > 0 && Clock::now() - last >= idle) {
      if (count == 0) return 0;
      throw CtlError("got " + std::to_string(seen) + " of " + std::to_string(count) + " " + what +
                     ": nothing for " + std::to_string(idle.count()) + " ms");
    }
  }
  return 0;
}

int tail_decisions(const ParsedArgs& args, std::ostream& out) {
  zmq::context_t context(1);
  auto reader = connecting("--endpoint", args.required("--endpoint"), [&](const std::string& ep) {
    return std::make_unique<client::DecisionReader>(context, ep);
  });
  return tail(args, "decisions", [&](std::chrono::milliseconds wait) {
    auto decision = reader->receive(wait);
    if (!decision) return false;
    out << safe_dump(decision_json(*decision)) << std::endl;
    return true;
  });
}

int tail_events(const ParsedArgs& args, std::ostream& out) {
  zmq::context_t context(1);
  zmq::socket_t sub(context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  sub.set(zmq::sockopt::subscribe, args.value_or("--topic", ""));
  connecting("--endpoint", args.required("--endpoint"), [&](const std::string& ep) {
    sub.connect(ep);
    return true;
  });
  return tail(args, "events", [&](std::chrono::milliseconds wait) {
    zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, wait);
    if (!(item.revents & ZMQ_POLLIN)) return false;
    std::vector<std::string> frames;
    zmq::message_t frame;
    do {
      (void)sub.recv(frame, zmq::recv_flags::none);
      frames.emplace_back(static_cast<const char*>(frame.data()), frame.size());
    } while (frame.more());
    out << safe_dump(system_event_json(frames)) << std::endl;
    return true;
  });
}

std::vector<OptionSpec> tail_options(std::vector<OptionSpec> own) {
  own.push_back({"--count", "N", "stop after N messages (default 0: run until interrupted)"});
  own.push_back({"--timeout", "MS",
                 "stop when nothing arrived for MS milliseconds; an error if --count was not "
                 "reached (default 0: wait forever)"});
  return own;
}

}  // namespace

std::vector<Command> socket_commands() {
  return {
      {{"send",
        {},
        "Send one test message, as a campaign engine would.",
        "Connects a PUSH socket to the gatekeeper's ingress.messages endpoint and sends\n"
        "[header, payload] (PROTOCOL.md section 4). Prints the header it sent as one JSON line.\n"
        "Where the message ends up shows at the channel adapter or on the decisions outlet\n"
        "(see gatekeeper-ctl tail decisions).",
        {{"--messages", "ENDPOINT", "the gatekeeper's ingress.messages, e.g. tcp://127.0.0.1:5570"},
         {"--channel", "C", "channel name or alias (required)"},
         {"--user", "ID", "external id of the person"},
         {"--email", "E", "email of the person (a lead, or in addition to --user)"},
         {"--bu", "BU", "business unit of the person"},
         {"--to", "ADDR", "address on the channel (email address, phone number, device token)"},
         {"--id", "ID", "message id (default ctl-<ms since epoch>-<pid>)"},
         {"--campaign", "ID", "campaign id"},
         {"--realtime", "", "campaign type realtime (default batch)"},
         {"--transactional", "",
          "a transactional campaign; exempt from opt-outs only with "
          "--realtime"},
         {"--payload", "TEXT", "payload frame (default: a short test text)"},
         timeout_option("for the gatekeeper to take the message"),
         {"--curve-server-key", "KEY",
          "the gatekeeper's CURVE public key (Z85), when [curve] is enabled"},
         {"--curve-public-key", "KEY", "this sender's CURVE public key (on the allow-list)"},
         {"--curve-secret-key-file", "FILE",
          "file holding this sender's CURVE secret key (default: "
          "$GATEKEEPER_CURVE_SECRET_KEY)"}}},
       &send},
      {{"tail decisions",
        {},
        "Print each message that was not forwarded (JSON lines).",
        "Connects a PULL socket to egress.decisions. Careful on a live system: the gatekeeper\n"
        "deals decisions round-robin over every connected reader, so while this runs it takes\n"
        "a share of them away from the reporting job.",
        tail_options({{"--endpoint", "EP",
                       "the gatekeeper's egress.decisions, e.g. "
                       "tcp://127.0.0.1:5571 (required)"}})},
       &tail_decisions},
      {{"tail events",
        {},
        "Print each system event: Opt Out, Opt In, ... (JSON lines).",
        "Subscribes to egress.events (PUB: [event name, msgpack map]); every subscriber gets\n"
        "every event, so this is safe on a live system. Events published before the\n"
        "subscription is up are not seen.",
        tail_options({{"--endpoint", "EP",
                       "the gatekeeper's egress.events, e.g. "
                       "tcp://127.0.0.1:5590 (required)"},
                      {"--topic", "NAME", "only events whose name starts with NAME"}})},
       &tail_events},
  };
}

}  // namespace gk::ctl

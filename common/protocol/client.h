#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <msgpack.hpp>
#include <zmq.hpp>

// The sender side of PROTOCOL.md section 4, for campaign engines, tools and benchmarks written
// in C++: build a candidate header, push it to the gatekeeper, read what was not forwarded.
namespace gk::client {

enum class CampaignType { kBatch, kRealtime };

// Builds a candidate message header (a msgpack map) key by key. Keys come out in a fixed
// order (id, channel, user, to, campaign, then extra keys in the order they were added), so
// the same calls always give the same bytes.
class HeaderBuilder {
 public:
  HeaderBuilder& id(std::string_view value);
  HeaderBuilder& channel(std::string_view value);
  HeaderBuilder& user_id(std::string_view value);
  HeaderBuilder& email(std::string_view value);
  HeaderBuilder& bu(std::string_view value);
  HeaderBuilder& to(std::string_view value);
  // Adds the `campaign` map; `campaign_id` is left out when empty.
  HeaderBuilder& campaign(std::string_view campaign_id, CampaignType type = CampaignType::kBatch,
                          bool transactional = false);
  // `campaign.topic` (PROTOCOL.md 9); adds the campaign map (as batch) if there is none yet.
  HeaderBuilder& topic(std::string_view name);
  // A key the gatekeeper carries along untouched; adding the same key again replaces it.
  HeaderBuilder& extra(std::string_view key, std::string_view value);

  // What keeps this header from being valid (no id, no channel, no identity, an extra key
  // that shadows a protocol key), or "" when it is complete.
  std::string problem() const;
  // The msgpack bytes; throws std::invalid_argument with problem() when incomplete.
  std::string build() const;
  // Appends the bytes to `out` without the completeness check (tests build broken headers).
  void pack_into(msgpack::sbuffer& out) const;

 private:
  struct Campaign {
    std::string id;
    CampaignType type = CampaignType::kBatch;
    bool transactional = false;
    std::string topic;
  };

  std::string id_;
  std::string channel_;
  std::string user_id_;
  std::string email_;
  std::string bu_;
  std::optional<std::string> to_;
  std::optional<Campaign> campaign_;
  std::vector<std::pair<std::string, std::string>> extra_;
};

struct SenderOptions {
  // How long send() waits for the gatekeeper to be connected and to have room (ZMQ_SNDTIMEO).
  std::chrono::milliseconds send_timeout{5000};
  // How long closing the sender waits for queued messages to leave (ZMQ_LINGER).
  std::chrono::milliseconds linger{5000};
  int sndhwm = 1000;
  // CURVE (Z85 keys, 40 characters), for a gatekeeper with [curve] enabled: its public key,
  // and this sender's key pair, which must be on the gatekeeper's allow-list. All empty: no
  // encryption.
  std::string curve_server_key;
  std::string curve_public_key;
  std::string curve_secret_key;
};

// A campaign engine's end of the ingress: a PUSH socket connected to `ingress.messages`.
// Messages are queued only once a connection exists (ZMQ_IMMEDIATE), so a gatekeeper that
// is not there makes send() time out instead of piling messages up in this process.
class MessageSender {
 public:
  // Throws zmq::error_t for a malformed endpoint or CURVE key.
  MessageSender(zmq::context_t& context, const std::string& endpoint, SenderOptions options = {});

  // Sends [header, payload]; false when the gatekeeper did not take it within send_timeout.
  bool send(std::string_view header, std::string_view payload);
  // Sends a header-only message (one frame).
  bool send(std::string_view header);

 private:
  zmq::socket_t socket_;
};

// One message the gatekeeper did not forward (PROTOCOL.md section 4), with its frames.
struct Decision {
  std::string id;
  std::string verdict;  // "suppressed" or "rejected"
  std::string reason;   // "opt_out:MAIL", "blacklisted", "no_address", ...
  std::string channel;
  std::string detail;  // what was wrong with a malformed message; "" otherwise
  // The original frames as they came in: header, then the payload if there was one.
  std::vector<std::string> frames;
  // Why frame 0 could not be read as a decision map; "" when it could.
  std::string error;
};

// Reads frame 0 of a decisions-outlet message into `out` (frames excluded). Returns false and
// sets `out.error` when it is not a msgpack map with string `verdict` and `reason`.
bool decode_decision(std::string_view bytes, Decision& out);

// A reporting job's end of `egress.decisions`: a PULL socket connected to the bound PUSH.
// The gatekeeper deals decisions round-robin over every connected reader, so a second reader
// takes a share of them away from the first.
class DecisionReader {
 public:
  DecisionReader(zmq::context_t& context, const std::string& endpoint);

  // The next decision, or nullopt when none arrives within `timeout`. A decision whose first
  // frame cannot be read still comes back, with `error` set and its frames.
  std::optional<Decision> receive(std::chrono::milliseconds timeout);

 private:
  zmq::socket_t socket_;
};

// Minting one-click unsubscribe links through the API (POST /unsubscribe-links, PROTOCOL.md
// section 10): the request body and the answer; the HTTP call is the caller's (any client,
// with the X-XNG-AuthToken header).
struct LinkRequest {
  std::string user_id;
  std::string email;
  std::string bu;
  // Exactly one scope: a channel, a topic, or all.
  std::string channel;
  std::string topic;
  bool all = false;
};
struct IssuedLink {
  std::string url;                    // <base_url>/u/<token>
  std::string list_unsubscribe;       // the List-Unsubscribe header value: "<url>"
  std::string list_unsubscribe_post;  // "List-Unsubscribe=One-Click"
  std::string error;                  // set instead of the above when the item was refused
};
// The JSON body for up to 1000 requests.
std::string unsubscribe_links_body(const std::vector<LinkRequest>& links);
// The links of a 200 answer, in request order; throws std::runtime_error when it is not one.
std::vector<IssuedLink> parse_unsubscribe_links(std::string_view answer);

}  // namespace gk::client

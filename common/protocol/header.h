#pragma once

#include <array>
#include <cstddef>
#include <initializer_list>
#include <string_view>

#include "common/protocol/header_scan.h"

namespace gk {

// The keys of a candidate message header that the gatekeeper reads. Every view points into
// the header frame itself, so it is valid only while that frame is alive and not moved.
struct MessageHeader {
  std::string_view id;
  std::string_view channel;
  std::string_view user_id;
  std::string_view email;
  std::string_view bu;
  std::string_view to;
  std::string_view topic;  // `campaign.topic`; meaningful only when has_topic
  bool has_topic = false;  // present and not nil (a non-string leaves topic empty)
  bool realtime = false;
  bool transactional = false;

  bool realtime_transactional() const noexcept { return realtime && transactional; }
  bool has_address() const noexcept { return !to.empty(); }
};

enum class HeaderStatus {
  kOk,
  kTooLarge,
  kNotMsgpack,
  kNotMap,
  kMissingId,
  kBadId,
  kMissingChannel,
  kBadChannel,
  kMissingUser,
  kBadUser,
  kNoIdentity,
  kBadTo,
  kBadCampaign,
  kDuplicateKey,  // a key the gatekeeper reads appears twice; HeaderDecoder::detail names it
  kBadIdentity,   // user.id / email / bu break common/identity.h; detail says how
};

// What is wrong, for the `detail` key of a malformed decision and for logs. For the two
// statuses whose text depends on the frame, HeaderDecoder::detail is more precise.
std::string_view describe(HeaderStatus status) noexcept;

// Decodes header frames in one pass over the bytes (a msgpack visitor: no object tree is
// built), keeping views of the strings it reads in place; a decode allocates nothing.
//
// A key the gatekeeper reads (top level: id, channel, user, campaign, to; in user: id, email,
// bu; in campaign: type, transactional, id, topic) may appear only once: an adapter whose
// decoder keeps the first of two `user`s would otherwise deliver to a person other than the
// one checked. Duplicates of other keys are carried along untouched, as PROTOCOL.md 4 says
// of unknown keys; they decide nothing here. `user.email` is handed out trimmed of ASCII
// whitespace (a view into the frame); lower-casing is left to the key builder.
class HeaderDecoder {
 public:
  explicit HeaderDecoder(std::size_t max_header_bytes) : max_bytes_(max_header_bytes) {}
  void set_max_bytes(std::size_t max_header_bytes) noexcept { max_bytes_ = max_header_bytes; }

  // Fills `out` as far as the frame allows (`id` is set whenever it could be read, even when
  // the status is an error). Never throws.
  HeaderStatus decode(const void* data, std::size_t size, MessageHeader& out) noexcept;

  // What is wrong with the last decode that returned `status`: for kDuplicateKey and
  // kBadIdentity the key and problem (never the value), else describe(status). Valid until
  // the next decode.
  std::string_view detail(HeaderStatus status) const noexcept;

 private:
  // Composes detail_ from static pieces, truncated to fit: no allocation on any path.
  HeaderStatus fail(HeaderStatus status, std::initializer_list<std::string_view> parts) noexcept;
  HeaderStatus decode_user(const header_scan::Scan& scan, MessageHeader& out) noexcept;
  HeaderStatus decode_campaign(const header_scan::Scan& scan, MessageHeader& out) noexcept;

  std::size_t max_bytes_;
  header_scan::Scanner scanner_;
  header_scan::Scan scan_;
  std::array<char, 128> detail_{};
  std::size_t detail_size_ = 0;
};

}  // namespace gk

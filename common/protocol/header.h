#pragma once

#include <cstddef>
#include <string_view>

#include <msgpack.hpp>

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
};

// What is wrong, for the `detail` key of a malformed decision and for logs.
std::string_view describe(HeaderStatus status) noexcept;

// Decodes header frames. Reuses one msgpack zone and references strings in place, so a
// decode allocates nothing once the zone has grown to fit the largest header.
class HeaderDecoder {
 public:
  explicit HeaderDecoder(std::size_t max_header_bytes) : max_bytes_(max_header_bytes) {}
  void set_max_bytes(std::size_t max_header_bytes) noexcept { max_bytes_ = max_header_bytes; }

  // Fills `out` as far as the frame allows (`id` is set whenever it could be read, even when
  // the status is an error). Never throws.
  HeaderStatus decode(const void* data, std::size_t size, MessageHeader& out) noexcept;

 private:
  std::size_t max_bytes_;
  msgpack::zone zone_;
};

}  // namespace gk

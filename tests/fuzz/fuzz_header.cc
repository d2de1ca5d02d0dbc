// libFuzzer target: the candidate-message header decoder (frame 0 of PROTOCOL.md 4), as the
// message loop uses it: decode, then look the channel up and build the Redis keys; and the
// hand-written header scan checked against msgpack-c's parser on every input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/config/config.h"
#include "common/protocol/header.h"
#include "common/rules/channels.h"
#include "common/store/key_schema.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/support/reference_scan.h"

namespace {

// Every view the decoder hands out must point into the frame it decoded.
bool inside(std::string_view view, const std::uint8_t* data, std::size_t size) {
  if (view.empty()) return true;
  const auto* begin = reinterpret_cast<const std::uint8_t*>(view.data());
  return begin >= data && begin + view.size() <= data + size;
}

void check_views(const gk::MessageHeader& h, const std::uint8_t* data, std::size_t size) {
  GK_FUZZ_CHECK(inside(h.id, data, size));
  GK_FUZZ_CHECK(inside(h.channel, data, size));
  GK_FUZZ_CHECK(inside(h.user_id, data, size));
  GK_FUZZ_CHECK(inside(h.email, data, size));
  GK_FUZZ_CHECK(inside(h.bu, data, size));
  GK_FUZZ_CHECK(inside(h.to, data, size));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The hand-written scan reads what msgpack-c's parser reads, and fails where it fails.
  {
    const auto* bytes = reinterpret_cast<const char*>(data);
    gk::header_scan::Scan fast, slow;
    const bool ok = gk::header_scan::Scanner{}.scan(bytes, size, fast);
    GK_FUZZ_CHECK(ok == gk::test::reference_scan::scan(bytes, size, slow));
    GK_FUZZ_CHECK(!ok || gk::test::reference_scan::same_scan(fast, slow));
  }
  // One decoder for the whole run, as in the message loop.
  static gk::HeaderDecoder decoder(gk::IngressConfig{}.max_header_bytes);
  gk::MessageHeader header;
  const gk::HeaderStatus status = decoder.decode(data, size, header);
  GK_FUZZ_CHECK(!gk::describe(status).empty());
  check_views(header, data, size);

  // Decoding is a pure function of the bytes: a second pass agrees.
  gk::MessageHeader again;
  GK_FUZZ_CHECK(decoder.decode(data, size, again) == status);
  GK_FUZZ_CHECK(again.id == header.id && again.channel == header.channel &&
                again.user_id == header.user_id && again.email == header.email &&
                again.bu == header.bu && again.to == header.to &&
                again.realtime == header.realtime && again.transactional == header.transactional);

  if (status != gk::HeaderStatus::kOk) return 0;
  GK_FUZZ_CHECK(!header.channel.empty());
  GK_FUZZ_CHECK(!header.user_id.empty() || !header.email.empty());

  // What the loop does next with a decoded header.
  const auto& channels = gk::fuzz::registry();
  if (const auto index = channels.find_routable(header.channel)) {
    GK_FUZZ_CHECK(*index < channels.routable_count());
  }
  static const gk::KeySchema keys("gk:");
  std::string key;
  keys.user(key, header.bu, header.user_id);
  keys.lead(key, header.bu, header.email);
  keys.link(key, header.bu, header.email);
  return 0;
}

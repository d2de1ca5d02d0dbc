#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gk {

// Milliseconds since the Unix epoch, UTC: the unit of every status time (`<CHANNEL>:ts`).
using EpochMs = std::int64_t;

// 9999-12-31T23:59:59.999Z, the last time a four-digit year can write: no status time may be
// later, so a time that parses always formats back as ISO-8601.
inline constexpr EpochMs kMaxEpochMs = 253402300799999;

// Parses ISO-8601 date-times as the platform writes them: `2026-11-26T10:15:00.123Z`, also
// without the fraction, with 1..9 fraction digits (truncated to ms), and with a numeric
// offset (`+00:00`, `+0100`) instead of `Z`. The date is checked (no 31 February); the
// result, after the offset, must lie in 1970-01-01T00:00:00Z..kMaxEpochMs, since a status
// time before the epoch is a client bug and one past year 9999 cannot be written back.
std::optional<EpochMs> parse_iso8601(std::string_view text) noexcept;

// `2026-11-26T10:15:00.123Z`: always UTC, always milliseconds; `ms` is clamped to
// 0..kMaxEpochMs.
std::string format_iso8601(EpochMs ms);

// The wall clock now, in ms since the epoch.
EpochMs now_ms() noexcept;

}  // namespace gk

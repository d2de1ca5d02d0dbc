#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/protocol/events.h"

namespace gk {

// The first step of parse_event_body: the bytes of a body as one JSON value. JSON when the
// first non-space byte is `{`, else msgpack. Refuses (filling `err`, field "body" or the
// repeated key) an empty body, nesting deeper than 32 levels before any recursive parser
// sees it, a top-level id/email/businessUnit/events given twice, and undecodable bytes,
// with texts that never quote the input. Never throws.
std::optional<nlohmann::json> decode_event_body(std::string_view bytes, FieldError& err);

}  // namespace gk

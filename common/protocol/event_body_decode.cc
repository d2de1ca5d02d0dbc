#include "common/protocol/event_body_decode.h"

#include <msgpack.hpp>

#include <array>
#include <exception>
#include <string>

namespace gk {

namespace {

using nlohmann::json;

// Deep nesting is refused before any recursive code (nlohmann's msgpack reader, dump())
// sees it, so a small hostile body cannot exhaust a thread's stack.
constexpr std::size_t kMaxDepth = 32;

FieldError error(std::string field, ErrorType type, std::string message) {
  return FieldError{std::move(field), type, std::move(message)};
}

bool json_depth_ok(std::string_view s) noexcept {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : s) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxDepth) return false;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return true;
}

// The names nlohmann gives tokens in "; expected <token>": fixed texts, never input.
constexpr std::array<std::string_view, 16> kTokenNames = {"<uninitialized>",
                                                          "true literal",
                                                          "false literal",
                                                          "null literal",
                                                          "string literal",
                                                          "number literal",
                                                          "'['",
                                                          "'{'",
                                                          "']'",
                                                          "'}'",
                                                          "':'",
                                                          "','",
                                                          "<parse error>",
                                                          "end of input",
                                                          "'[', '{', or a literal",
                                                          "unknown token"};

// A parse error a client can act on, without a byte of the input: nlohmann's text quotes
// what it read ("last read: 'pat@exa'"), which may be an email address and would reach the
// answer and the logs. Kept: the kind of error (fixed texts of nlohmann), what was expected
// if that is one of its token names, and the byte position.
std::string describe_parse_error(const json::parse_error& e) {
  std::string_view s(e.what());
  if (const auto end = s.find("] "); !s.empty() && s.front() == '[' && end != s.npos) {
    s.remove_prefix(end + 2);
  }
  // "parse error at line 1, column 5: syntax error while parsing value - invalid literal;
  // last read: '...'; expected ..."
  if (const auto colon = s.find(": "); colon != s.npos) s.remove_prefix(colon + 2);
  std::string_view expected;
  if (const auto last = s.find("; last read: "); last != s.npos) {
    const std::string_view tail = s.substr(last);
    if (const auto exp = tail.rfind("; expected "); exp != tail.npos) {
      const std::string_view name = tail.substr(exp + 11);
      for (std::string_view known : kTokenNames) {
        if (name == known) expected = name;
      }
    }
    s = s.substr(0, last);
  }
  std::string out = "body is not valid JSON: ";
  out.append(s);
  if (!expected.empty()) out.append("; expected ").append(expected);
  out.append(" (at byte ").append(std::to_string(e.byte)).append(")");
  return out;
}

// The top-level keys that decide whom a body is about and what it does. Given twice, the
// parser would keep the last while another consumer of the same body may keep the first:
// refused, as a repeated header key is (common/header.h).
constexpr std::array<std::string_view, 4> kBodyKeys = {"id", "email", "businessUnit", "events"};

FieldError twice(std::string_view key) {
  return error(std::string(key), ErrorType::kInvalidFormat, std::string(key) + " is given twice");
}

}  // namespace

std::optional<nlohmann::json> decode_event_body(std::string_view bytes, FieldError& err) {
  std::size_t first = 0;
  while (first < bytes.size() && (bytes[first] == ' ' || bytes[first] == '\t' ||
                                  bytes[first] == '\r' || bytes[first] == '\n')) {
    ++first;
  }
  if (first == bytes.size()) {
    err = error("body", ErrorType::kInvalidFormat, "body is empty");
    return std::nullopt;
  }
  if (bytes[first] == '{') {
    if (!json_depth_ok(bytes)) {
      err = error("body", ErrorType::kInvalidFormat,
                  "body is nested deeper than " + std::to_string(kMaxDepth) + " levels");
      return std::nullopt;
    }
    std::optional<std::string> repeated;
    std::array<bool, kBodyKeys.size()> seen{};
    const json::parser_callback_t note_keys = [&](int depth, json::parse_event_t event,
                                                  json& parsed) {
      if (depth != 1 || event != json::parse_event_t::key || repeated) return true;
      const auto& key = parsed.get_ref<const std::string&>();
      for (std::size_t i = 0; i < kBodyKeys.size(); ++i) {
        if (key != kBodyKeys[i]) continue;
        if (seen[i]) repeated = key;
        seen[i] = true;
      }
      return true;
    };
    try {
      json value = json::parse(bytes, note_keys);
      if (repeated) {
        err = twice(*repeated);
        return std::nullopt;
      }
      return value;
    } catch (const json::parse_error& e) {
      err = error("body", ErrorType::kInvalidFormat, describe_parse_error(e));
      return std::nullopt;
    } catch (const json::exception& e) {
      // Other kinds (e.g. out_of_range 406, a number too large) also quote the input.
      err = error("body", ErrorType::kInvalidFormat,
                  "body is not valid JSON (error " + std::to_string(e.id) + ")");
      return std::nullopt;
    }
  }
  // msgpack-c checks structure and depth without recursion; counts are bounded by the size,
  // as every element takes at least one byte, so a forged length cannot reserve memory.
  try {
    const std::size_t n = bytes.size();
    std::size_t offset = 0;
    const msgpack::object_handle handle = msgpack::unpack(
        bytes.data(), n, offset, nullptr, nullptr, msgpack::unpack_limit(n, n, n, n, n, kMaxDepth));
    if (const msgpack::object& root = handle.get(); root.type == msgpack::type::MAP) {
      std::array<bool, kBodyKeys.size()> seen{};
      for (std::uint32_t k = 0; k < root.via.map.size; ++k) {
        const msgpack::object& key = root.via.map.ptr[k].key;
        if (key.type != msgpack::type::STR) continue;
        const std::string_view name(key.via.str.ptr, key.via.str.size);
        for (std::size_t i = 0; i < kBodyKeys.size(); ++i) {
          if (name != kBodyKeys[i]) continue;
          if (seen[i]) {
            err = twice(name);
            return std::nullopt;
          }
          seen[i] = true;
        }
      }
    }
  } catch (const std::exception& e) {
    err =
        error("body", ErrorType::kInvalidFormat,
              std::string("body is neither JSON (first byte '{') nor valid msgpack: ") + e.what());
    return std::nullopt;
  }
  json value = json::from_msgpack(bytes.data(), bytes.data() + bytes.size(), true, false);
  if (value.is_discarded()) {
    err = error("body", ErrorType::kInvalidFormat,
                "body is not valid msgpack (trailing bytes or non-string map keys)");
    return std::nullopt;
  }
  return value;
}

}  // namespace gk

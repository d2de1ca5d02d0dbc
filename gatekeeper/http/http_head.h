#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace gk {

// What the acceptor needs to know about a request head before a worker sees it: where the
// head ends and how the body is framed (RFC 9112 section 6). httplib accepts conflicting
// framing (the first Content-Length wins), which lets a proxy in front and this server
// disagree about where a request ends, so ambiguous framing is refused here.
struct RequestHead {
  enum class Body { kNone, kLength, kChunked };
  std::string method;
  std::string path;  // the target without its query
  Body body = Body::kNone;
  std::uint64_t content_length = 0;  // with kLength
};

// A head that must be refused: the status to answer and what is wrong.
struct HeadError {
  int status = 400;
  std::string message;
};

// The offset just past the blank line ending the head in `buffer`, or npos while the head
// is incomplete.
std::size_t find_head_end(std::string_view buffer);

// Parses a complete head (request line and header lines, ending in CRLFCRLF).
std::variant<RequestHead, HeadError> parse_request_head(std::string_view head);

}  // namespace gk

#include "gatekeeper/http/http_head.h"

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <variant>

namespace {

using gk::HeadError;
using gk::RequestHead;

std::variant<RequestHead, HeadError> parse(const std::string& head) {
  return gk::parse_request_head(head);
}

HeadError error_of(const std::string& head) {
  const auto parsed = parse(head);
  REQUIRE(std::holds_alternative<HeadError>(parsed));
  return std::get<HeadError>(parsed);
}

RequestHead head_of(const std::string& head) {
  const auto parsed = parse(head);
  if (const auto* e = std::get_if<HeadError>(&parsed)) FAIL(e->message);
  return std::get<RequestHead>(parsed);
}

}  // namespace

TEST_CASE("http head: the end of the head is found only after CRLFCRLF", "[unit][http]") {
  CHECK(gk::find_head_end("GET / HTTP/1.1\r\nHost: x\r\n") == std::string::npos);
  CHECK(gk::find_head_end("GET / HTTP/1.1\r\n\r\nbody") == 18);
  CHECK(gk::find_head_end("") == std::string::npos);
}

TEST_CASE("http head: framing of well-formed heads", "[unit][http]") {
  const auto get = head_of("GET /users/a/optout-status?businessUnit=x HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(get.method == "GET");
  CHECK(get.path == "/users/a/optout-status");
  CHECK(get.body == RequestHead::Body::kNone);

  const auto put = head_of("PUT /x HTTP/1.1\r\ncontent-length:  17 \r\n\r\n");
  CHECK(put.body == RequestHead::Body::kLength);
  CHECK(put.content_length == 17);

  const auto same = head_of("PUT /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n");
  CHECK(same.content_length == 5);

  const auto chunked = head_of("POST /events HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n");
  CHECK(chunked.body == RequestHead::Body::kChunked);
}

TEST_CASE("http head: ambiguous or unsupported framing is refused, naming the problem",
          "[unit][http]") {
  auto e = error_of("PUT /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
  CHECK(e.status == 400);
  CHECK(e.message.find("conflicting Content-Length") != std::string::npos);

  e = error_of("PUT /x HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n");
  CHECK(e.status == 400);
  CHECK(e.message.find("both Content-Length and Transfer-Encoding") != std::string::npos);

  for (const char* bad : {"-1", "+5", "5a", "", "0x10", "5, 5", "99999999999999999999"}) {
    INFO(bad);
    e = error_of(std::string("PUT /x HTTP/1.1\r\nContent-Length: ") + bad + "\r\n\r\n");
    CHECK(e.status == 400);
    CHECK(e.message.find("invalid Content-Length") != std::string::npos);
  }

  e = error_of("POST /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
  CHECK(e.status == 501);
  CHECK(e.message.find("gzip, chunked") != std::string::npos);
  e = error_of(
      "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n");
  CHECK(e.status == 501);

  CHECK(error_of("GET /x\r\n\r\n").message.find("malformed request line") != std::string::npos);
  CHECK(error_of("GET  /x HTTP/1.1\r\n\r\n").status == 400);
  CHECK(error_of("GET /x HTTP/1.1\r\nNo colon here\r\n\r\n").message.find("malformed header") !=
        std::string::npos);
  CHECK(error_of("GET /x HTTP/1.1\r\nBad Name: v\r\n\r\n").status == 400);
  CHECK(error_of("GET /x HTTP/1.1\r\nA: b\r\n folded\r\n\r\n").message.find("obs-fold") !=
        std::string::npos);
}

TEST_CASE("http head: random bytes never crash the parser", "[unit][http]") {
  std::mt19937 rng(7);
  const std::string alphabet = "GET POST/ HTTP/1.1\r\n:Content-Length0123456789chunked\t -,";
  for (int i = 0; i < 20000; ++i) {
    std::string s;
    const int n = static_cast<int>(rng() % 120);
    for (int j = 0; j < n; ++j) s += alphabet[rng() % alphabet.size()];
    s += "\r\n\r\n";
    const auto parsed = parse(s);
    if (const auto* e = std::get_if<HeadError>(&parsed)) {
      CHECK((e->status == 400 || e->status == 501));
      CHECK(!e->message.empty());
    }
  }
}

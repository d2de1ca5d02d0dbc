#include "gatekeeper/http/http_head.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

namespace gk {

namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Header values are echoed in errors; keep them short and printable.
std::string quoted(std::string_view value) {
  std::string out;
  for (char c : value.substr(0, 64)) {
    out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  }
  if (value.size() > 64) out += "...";
  return "'" + out + "'";
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// 1*DIGIT without sign or spaces, no larger than 2^63.
std::optional<std::uint64_t> parse_length(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

}  // namespace

std::size_t find_head_end(std::string_view buffer) {
  const std::size_t at = buffer.find("\r\n\r\n");
  return at == std::string_view::npos ? at : at + 4;
}

std::variant<RequestHead, HeadError> parse_request_head(std::string_view head) {
  RequestHead out;
  std::size_t eol = head.find("\r\n");
  if (eol == std::string_view::npos) return HeadError{400, "request head is not terminated"};
  const std::string_view line = head.substr(0, eol);
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos ||
      sp1 == 0 || sp2 == sp1 + 1 || line.substr(sp2 + 1).substr(0, 7) != "HTTP/1.") {
    return HeadError{400, "malformed request line " + quoted(line)};
  }
  out.method = std::string(line.substr(0, sp1));
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  out.path = std::string(target.substr(0, target.find('?')));

  std::optional<std::uint64_t> length;
  std::vector<std::string_view> encodings;
  std::size_t pos = eol + 2;
  while (pos < head.size()) {
    eol = head.find("\r\n", pos);
    if (eol == std::string_view::npos) return HeadError{400, "request head is not terminated"};
    const std::string_view field = head.substr(pos, eol - pos);
    pos = eol + 2;
    if (field.empty()) break;  // the blank line ending the head
    if (field.front() == ' ' || field.front() == '\t') {
      return HeadError{400, "folded header line (obs-fold) is not accepted"};
    }
    const std::size_t colon = field.find(':');
    const std::string_view name = field.substr(0, colon);
    if (colon == std::string_view::npos || name.empty() ||
        !std::all_of(name.begin(), name.end(), is_token_char)) {
      return HeadError{400, "malformed header line " + quoted(field)};
    }
    const std::string_view value = trim(field.substr(colon + 1));
    if (iequal(name, "Content-Length")) {
      const auto n = parse_length(value);
      if (!n) return HeadError{400, "invalid Content-Length " + quoted(value)};
      if (length && *length != *n) {
        return HeadError{400, "conflicting Content-Length headers (" + std::to_string(*length) +
                                  " and " + std::to_string(*n) + ")"};
      }
      length = n;
    } else if (iequal(name, "Transfer-Encoding")) {
      encodings.push_back(value);
    }
  }

  if (!encodings.empty()) {
    if (length) {
      return HeadError{400, "both Content-Length and Transfer-Encoding are present"};
    }
    if (encodings.size() > 1 || !iequal(encodings.front(), "chunked")) {
      std::string all;
      for (auto e : encodings) all += (all.empty() ? "" : ", ") + std::string(e);
      return HeadError{501, "unsupported Transfer-Encoding " + quoted(all) +
                                " (only a single 'chunked' is supported)"};
    }
    out.body = RequestHead::Body::kChunked;
  } else if (length) {
    out.body = RequestHead::Body::kLength;
    out.content_length = *length;
  }
  return out;
}

}  // namespace gk

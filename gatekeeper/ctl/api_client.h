#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace gk::ctl {

// Where the gatekeeper's HTTP listener is: "http://host:port" for httplib and an optional
// path prefix (a gatekeeper behind a reverse proxy at http://proxy/gk).
struct BaseUrl {
  std::string origin;  // scheme://host[:port]
  std::string prefix;  // "" or "/gk", no trailing slash
};

// Splits `url`; throws UsageError when it is not http(s)://host[:port][/prefix].
BaseUrl parse_base_url(const std::string& url);

// Percent-encodes everything but RFC 3986 unreserved characters, for a path segment or a
// query value (external ids may hold '/', '?', spaces).
std::string percent_encode(std::string_view text);

// The HTTP API of PROTOCOL.md section 7 as the CLI calls it. Every failure becomes a CtlError
// with one line naming the request and what went wrong: the server's {"error"} text for a
// 4xx/5xx answer, the connection problem otherwise.
class ApiClient {
 public:
  ApiClient(const std::string& base_url, std::string token, std::chrono::milliseconds timeout);

  nlohmann::json get_json(const std::string& path_and_query);
  nlohmann::json put_json(const std::string& path_and_query, const nlohmann::json& body);
  // POST of a JSON text body; the answer as JSON.
  nlohmann::json post_json(const std::string& path_and_query, const std::string& body);
  // POST of a body of `content_type` (a CSV for /import); the answer as JSON.
  nlohmann::json post_json(const std::string& path_and_query, const std::string& body,
                           const char* content_type);
  // A 2xx answer's body as text (for /metrics).
  std::string get_text(const std::string& path_and_query);
  // The same, and the answer's header `header` in `value` ("" when absent), for /export.
  std::string get_text(const std::string& path_and_query, const std::string& header,
                       std::string& value);

 private:
  // Sends the request; the 2xx body, or throws CtlError.
  std::string request(const char* method, const std::string& path_and_query,
                      const std::string* body, const char* content_type = "application/json",
                      const std::string* header = nullptr, std::string* header_value = nullptr);
  nlohmann::json send_json(const char* method, const std::string& path_and_query,
                           const std::string& body, const char* content_type = "application/json");

  BaseUrl base_;
  std::string token_;
  std::chrono::milliseconds timeout_;
};

}  // namespace gk::ctl

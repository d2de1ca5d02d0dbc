#include "gatekeeper/ctl/api_client.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "gatekeeper/ctl/args.h"

namespace gk::ctl {

namespace {

// What the user can act on, instead of httplib's enum names ("Connection", "Read").
std::string describe(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return "cannot connect (connection refused or host unreachable; is the gatekeeper "
             "running and is --http right?)";
    case httplib::Error::ConnectionTimeout:
      return "connection timed out";
    case httplib::Error::Read:
      return "no complete answer (read failed or timed out)";
    case httplib::Error::Write:
      return "sending the request failed";
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLServerVerification:
    case httplib::Error::SSLLoadingCerts:
      return "TLS failed (" + httplib::to_string(error) + ")";
    default:
      return "request failed (" + httplib::to_string(error) + ")";
  }
}

// The server's own words for a failed call: {"error": ...} when the body is that JSON, else
// the start of the body on one line.
std::string server_error(const std::string& body) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("error") && json["error"].is_string()) {
    return json["error"].get<std::string>();
  }
  std::string text = body.substr(0, 200);
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text.empty() ? "(empty body)" : text;
}

}  // namespace

BaseUrl parse_base_url(const std::string& url) {
  const auto scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    throw UsageError("--http must look like http://host:port, not '" + url + "'");
  }
  const auto host_start = scheme_end + 3;
  const auto path_start = url.find('/', host_start);
  BaseUrl base;
  base.origin = url.substr(0, path_start);
  if (base.origin.size() == host_start) {
    throw UsageError("--http has no host: '" + url + "'");
  }
  if (path_start != std::string::npos) {
    base.prefix = url.substr(path_start);
    while (!base.prefix.empty() && base.prefix.back() == '/') base.prefix.pop_back();
  }
  return base;
}

std::string percent_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof(buf), "%%%02X", u);
      out += buf;
    }
  }
  return out;
}

ApiClient::ApiClient(const std::string& base_url, std::string token,
                     std::chrono::milliseconds timeout)
    : base_(parse_base_url(base_url)), token_(std::move(token)), timeout_(timeout) {}

nlohmann::json ApiClient::get_json(const std::string& path_and_query) {
  const std::string body = request("GET", path_and_query, nullptr);
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded()) {
    throw CtlError("GET " + base_.origin + base_.prefix + path_and_query +
                   ": the answer is not JSON");
  }
  return json;
}

nlohmann::json ApiClient::put_json(const std::string& path_and_query, const nlohmann::json& body) {
  return send_json("PUT", path_and_query, body.dump());
}

nlohmann::json ApiClient::post_json(const std::string& path_and_query, const std::string& body) {
  return send_json("POST", path_and_query, body);
}

nlohmann::json ApiClient::post_json(const std::string& path_and_query, const std::string& body,
                                    const char* content_type) {
  return send_json("POST", path_and_query, body, content_type);
}

nlohmann::json ApiClient::send_json(const char* method, const std::string& path_and_query,
                                    const std::string& body, const char* content_type) {
  const std::string answer = request(method, path_and_query, &body, content_type);
  auto json = nlohmann::json::parse(answer, nullptr, false);
  if (json.is_discarded()) {
    throw CtlError(std::string(method) + " " + base_.origin + base_.prefix + path_and_query +
                   ": the answer is not JSON");
  }
  return json;
}

std::string ApiClient::get_text(const std::string& path_and_query) {
  return request("GET", path_and_query, nullptr);
}

std::string ApiClient::get_text(const std::string& path_and_query, const std::string& header,
                                std::string& value) {
  return request("GET", path_and_query, nullptr, "", &header, &value);
}

std::string ApiClient::request(const char* method, const std::string& path_and_query,
                               const std::string* body, const char* content_type,
                               const std::string* header, std::string* header_value) {
  const std::string path = base_.prefix + path_and_query;
  const std::string what = std::string(method) + " " + base_.origin + path;
  httplib::Client client(base_.origin);
  if (!client.is_valid()) throw CtlError(what + ": unusable URL");
  // Connecting to a live local listener takes microseconds; a long wait means nobody is there.
  client.set_connection_timeout(
      std::min<std::chrono::milliseconds>(timeout_, std::chrono::seconds(3)));
  client.set_read_timeout(timeout_);
  client.set_write_timeout(timeout_);
  httplib::Headers headers = {{"X-XNG-ApiVersion", "1"}, {"Accept", "application/json"}};
  if (!token_.empty()) headers.emplace("X-XNG-AuthToken", token_);
  auto result = body == nullptr ? client.Get(path, headers)
                : std::string_view(method) == "POST"
                    ? client.Post(path, headers, *body, content_type)
                    : client.Put(path, headers, *body, content_type);
  if (!result) throw CtlError(what + ": " + describe(result.error()));
  if (result->status < 200 || result->status >= 300) {
    throw CtlError(what + ": HTTP " + std::to_string(result->status) + ": " +
                   server_error(result->body));
  }
  if (header != nullptr) *header_value = result->get_header_value(*header);
  return result->body;
}

}  // namespace gk::ctl

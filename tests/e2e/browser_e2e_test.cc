// A real browser (headless Chromium through chromedriver's WebDriver HTTP API, spoken with
// cpp-httplib's client) opens an unsubscribe link, reads the page, and submits its forms by
// clicking; the page holds no script (its Content-Security-Policy allows none), so what
// works here works without JavaScript. Without chromium and chromedriver the tests print
// the skip marker (tests/support/skip.h), which CTest reports as skipped, not passed.
#include <catch2/catch.hpp>

#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/protocol/unsubscribe_token.h"
#include "tests/support/ports.h"
#include "tests/support/process.h"
#include "tests/support/rig.h"
#include "tests/support/skip.h"

using namespace gk::test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kElementKey = "element-6066-11e4-a52e-4f735466cecf";

std::string find_program(const std::vector<std::string>& candidates) {
  for (const auto& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0) return c;
  }
  return {};
}

// One chromedriver and one browser session, closed with the object.
class Browser {
 public:
  Browser(const std::string& driver, const std::string& chromium)
      : port_(free_port()),
        process_({driver, "--port=" + std::to_string(port_)}, dir_.file("chromedriver.log")),
        client_("127.0.0.1", port_) {
    client_.set_read_timeout(60, 0);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto r = client_.Get("/status"); r && r->status == 200) break;
      std::this_thread::sleep_for(50ms);  // polling a starting process, with a deadline
    }
    const json caps = {
        {"capabilities",
         {{"alwaysMatch",
           {{"goog:chromeOptions",
             {{"binary", chromium},
              {"args",
               {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=412,915", "--user-data-dir=" + dir_.file("profile")}}}}}}}}};
    const json answer = call("POST", "/session", caps);
    session_ = answer["value"]["sessionId"].get<std::string>();
  }
  ~Browser() {
    if (!session_.empty()) client_.Delete(("/session/" + session_).c_str());
  }

  json call(const std::string& method, const std::string& path, const json& body = json::object()) {
    httplib::Result r = method == "GET" ? client_.Get(path.c_str())
                        : method == "DELETE"
                            ? client_.Delete(path.c_str())
                            : client_.Post(path.c_str(), body.dump(), "application/json");
    if (!r) throw std::runtime_error("chromedriver did not answer " + path);
    const json j = json::parse(r->body, nullptr, false);
    if (r->status != 200) throw std::runtime_error("chromedriver " + path + ": " + r->body);
    return j;
  }
  json session(const std::string& method, const std::string& path,
               const json& body = json::object()) {
    return call(method, "/session/" + session_ + path, body);
  }
  void open(const std::string& url) { session("POST", "/url", {{"url", url}}); }
  std::string source() { return session("GET", "/source")["value"]; }
  void click(const std::string& css) {
    const json e = session("POST", "/element", {{"using", "css selector"}, {"value", css}});
    session("POST", "/element/" + e["value"][kElementKey].get<std::string>() + "/click");
  }
  std::string screenshot_png() {
    std::string b64 = session("GET", "/screenshot")["value"];
    for (char& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (!b64.empty() && b64.back() == '=') b64.pop_back();
    std::string png;
    gk::base64url_decode(b64, png);
    return png;
  }

 private:
  TempDir dir_;
  int port_;
  Process process_;
  httplib::Client client_;
  std::string session_;
};

// The browser, or nullopt after printing the skip marker.
std::unique_ptr<Browser> browser_or_skip() {
  const std::string chromium = find_program({"/usr/bin/chromium", "/usr/bin/chromium-browser"});
  const std::string driver = find_program({"/usr/bin/chromedriver"});
  if (!gk::test::prerequisite(!chromium.empty() && !driver.empty(),
                              "chromium and chromedriver are needed (Debian packages chromium, "
                              "chromium-driver)")) {
    return nullptr;
  }
  return std::make_unique<Browser>(driver, chromium);
}

std::string links_toml(int http_port) {
  return R"(
[topics.news]
[topics.offers]
default = "unsubscribed"
[topics.legal]
default = "required"

[unsubscribe]
base_url = "http://127.0.0.1:)" +
         std::to_string(http_port) + R"("
secrets = ["a browser test secret, thirty-two characters or more"]
)";
}

std::string issue(int port, const json& item) {
  httplib::Client c("127.0.0.1", port);
  auto r = c.Post("/unsubscribe-links", {{"X-XNG-AuthToken", "test-token"}},
                  json{{"links", {item}}}.dump(), "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  return json::parse(r->body)["links"][0]["url"];
}

std::string hget(RedisServer& redis, const std::string& key, const std::string& field) {
  auto reply = redis.command({"HGET", key, field});
  return reply && reply->type == REDIS_REPLY_STRING ? std::string(reply->str, reply->len) : "";
}

bool wait_for(RedisServer& redis, const std::string& key, const std::string& field,
              const std::string& value) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (hget(redis, key, field) == value) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

}  // namespace

TEST_CASE("browser: a link opens a page that changes nothing, its button unsubscribes",
          "[e2e][browser][links]") {
  auto browser = browser_or_skip();
  if (!browser) return;
  Rig rig;
  rig.opts.extra_toml = links_toml(rig.opts.http_port);
  rig.start();
  const std::string url =
      issue(rig.opts.http_port,
            {{"user", {{"id", "carol"}, {"email", "carol@example.com"}}}, {"channel", "MAIL"}});
  browser->open(url);
  const std::string page = browser->source();
  CHECK(page.find("c***@example.com") != std::string::npos);
  CHECK(page.find("MAIL channel") != std::string::npos);
  CHECK(page.find("carol@") == std::string::npos);
  CHECK(page.find("<script") == std::string::npos);
  // Opening the page (as a scanner would) wrote nothing.
  CHECK(rig.redis.command({"EXISTS", "gk:u::carol"})->integer == 0);

  if (const char* out = std::getenv("GK_SCREENSHOT")) {
    std::ofstream(out, std::ios::binary) << browser->screenshot_png();
  }
  CHECK(browser->screenshot_png().substr(1, 3) == "PNG");

  browser->click("#unsubscribe");
  REQUIRE(wait_for(rig.redis, "gk:u::carol", "MAIL", "1"));
  CHECK(browser->source().find("Unsubscribed") != std::string::npos);

  rig.sender->send(header("after-click", "MAIL", {{"id", "carol"}}, {{"to", "carol@example.com"}}),
                   "p");
  CHECK(rig.collect(1).at("after-click") == "suppressed/opt_out:MAIL");
}

TEST_CASE("browser: the preference form changes a topic", "[e2e][browser][topics]") {
  auto browser = browser_or_skip();
  if (!browser) return;
  Rig rig;
  rig.opts.extra_toml = links_toml(rig.opts.http_port);
  rig.start();
  const std::string url =
      issue(rig.opts.http_port, {{"user", {{"id", "dave"}}}, {"topic", "news"}});
  browser->open(url);
  CHECK(browser->source().find("news") != std::string::npos);
  // Join the opt-in topic "offers" and leave "news", then save.
  browser->click("input[name='topic:offers']");
  browser->click("input[name='topic:news']");
  browser->click("#save");
  REQUIRE(wait_for(rig.redis, "gk:u::dave", "topic:offers", "0"));
  CHECK(hget(rig.redis, "gk:u::dave", "topic:news") == "1");
  CHECK(browser->source().find("Your preferences were saved.") != std::string::npos);

  rig.sender->send(header("news-after", "MAIL", {{"id", "dave"}},
                          {{"to", "d@example.com"}, {"campaign", {{"topic", "news"}}}}),
                   "p");
  rig.sender->send(header("offers-after", "MAIL", {{"id", "dave"}},
                          {{"to", "d@example.com"}, {"campaign", {{"topic", "offers"}}}}),
                   "p");
  const auto got = rig.collect(2);
  CHECK(got.at("news-after") == "suppressed/opt_out:topic:news");
  CHECK(got.at("offers-after") == "MAIL");
}

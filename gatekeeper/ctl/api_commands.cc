// status, blacklist, recipient and metrics: the HTTP API of PROTOCOL.md section 7.
#include <algorithm>
#include <cstdlib>
#include <utility>

#include "common/protocol/client.h"
#include "common/protocol/system_event.h"
#include "gatekeeper/ctl/api_client.h"
#include "gatekeeper/ctl/commands.h"
#include "gatekeeper/ctl/metrics_summary.h"

namespace gk::ctl {

namespace {

using nlohmann::json;

constexpr const char* kDefaultHttp = "http://127.0.0.1:8080";

OptionSpec bu_option() {
  return {"--bu", "BU", "business unit of the person (default: none)"};
}

std::vector<OptionSpec> api_options(std::vector<OptionSpec> own) {
  own.push_back(bu_option());
  own.push_back(http_option());
  own.push_back(token_option());
  own.push_back(timeout_option("for the HTTP answer"));
  return own;
}

ApiClient api(const ParsedArgs& args, bool token_required) {
  std::string t = token(args);
  if (t.empty() && token_required) {
    throw UsageError("no API token: pass --token or set GATEKEEPER_TOKEN");
  }
  return ApiClient(base_url(args), std::move(t),
                   std::chrono::milliseconds(args.integer("--timeout", 5000, 1, 3'600'000)));
}

// "/users/<id>/<what>?k=v&..." with every part percent-encoded.
std::string user_path(const ParsedArgs& args, const std::string& what,
                      std::vector<std::pair<std::string, std::string>> query = {}) {
  if (const auto bu = args.value("--bu"); bu && !bu->empty())
    query.emplace_back("businessUnit", *bu);
  std::string path = "/users/" + percent_encode(args.positionals().at(0)) + "/" + what;
  char sep = '?';
  for (const auto& [k, v] : query) {
    path += sep + k + "=" + percent_encode(v);
    sep = '&';
  }
  return path;
}

// The answer, with who it is about, as one JSON line.
int print_answer(const ParsedArgs& args, json answer, std::ostream& out) {
  answer["id"] = args.positionals().at(0);
  if (const auto bu = args.value("--bu"); bu && !bu->empty()) answer["businessUnit"] = *bu;
  out << safe_dump(answer) << std::endl;
  return 0;
}

// Exactly one of two opposite flags; which one.
bool choice(const ParsedArgs& args, const char* yes, const char* no) {
  const bool y = args.flag(yes);
  if (y == args.flag(no)) {
    throw UsageError(std::string(args.flag(yes) ? "give only one of " : "give ") + yes + " or " +
                     no);
  }
  return y;
}

int status_get(const ParsedArgs& args, std::ostream& out) {
  std::vector<std::pair<std::string, std::string>> query;
  if (const auto c = args.value("--channel")) query.emplace_back("channelType", *c);
  return print_answer(args, api(args, true).get_json(user_path(args, "optout-status", query)), out);
}

int status_set(const ParsedArgs& args, std::ostream& out) {
  const std::string channel = args.required("--channel");
  const bool opt_out = choice(args, "--opt-out", "--opt-in");
  auto client = api(args, true);
  const std::string path = user_path(args, "optout-status", {{"channelType", channel}});
  return print_answer(args, client.put_json(path, {{"optOut", opt_out}}), out);
}

int blacklist_get(const ParsedArgs& args, std::ostream& out) {
  return print_answer(args, api(args, true).get_json(user_path(args, "blacklist-status")), out);
}

int blacklist_set(const ParsedArgs& args, std::ostream& out) {
  const bool on = choice(args, "--on", "--off");
  auto client = api(args, true);
  return print_answer(
      args, client.put_json(user_path(args, "blacklist-status"), {{"blacklisted", on}}), out);
}

int recipient(const ParsedArgs& args, std::ostream& out) {
  return print_answer(args, api(args, true).get_json(user_path(args, "recipient-status")), out);
}

int metrics(const ParsedArgs& args, std::ostream& out) {
  // /metrics needs a token only when the operator configured it so; send one if we have it.
  auto client = api(args, false);
  const std::string text = client.get_text("/metrics");
  const auto samples = parse_prometheus_text(text);
  const bool any = std::any_of(samples.begin(), samples.end(),
                               [](const Sample& s) { return s.name.starts_with("gk_"); });
  if (!any) {
    throw CtlError("GET " + base_url(args) + "/metrics: the answer holds no gatekeeper metrics");
  }
  const json summary = summarize_metrics(samples);
  if (args.flag("--json")) {
    out << summary.dump() << std::endl;
  } else {
    out << format_summary(summary) << std::flush;
  }
  return 0;
}

int links_issue(const ParsedArgs& args, std::ostream& out) {
  client::LinkRequest request;
  request.user_id = args.value_or("--id", "");
  request.email = args.value_or("--email", "");
  request.bu = args.value_or("--bu", "");
  if (request.user_id.empty() && request.email.empty()) throw UsageError("give --id or --email");
  request.channel = args.value_or("--channel", "");
  request.topic = args.value_or("--topic", "");
  request.all = args.flag("--all");
  if (int(!request.channel.empty()) + int(!request.topic.empty()) + int(request.all) != 1) {
    throw UsageError("give exactly one of --channel, --topic and --all");
  }
  auto answer =
      api(args, true).post_json("/unsubscribe-links", client::unsubscribe_links_body({request}));
  const auto links = client::parse_unsubscribe_links(answer.dump());
  if (links.size() != 1) throw CtlError("POST /unsubscribe-links: expected one link");
  if (!links[0].error.empty()) throw CtlError("POST /unsubscribe-links: " + links[0].error);
  out << safe_dump(answer["links"][0]) << std::endl;
  return 0;
}

int health(const ParsedArgs& args, std::ostream& out) {
  auto client = api(args, false);
  // /readyz answers 503 with its reasons as JSON; the CtlError carries them on one line.
  const std::string body = client.get_text(args.flag("--ready") ? "/readyz" : "/healthz");
  const json answer = json::parse(body, nullptr, false);
  out << (answer.is_discarded() ? body : answer.dump()) << std::endl;
  return 0;
}

}  // namespace

// --http, else $GATEKEEPER_HTTP (set once in a container or a shell), else the default.
std::string base_url(const ParsedArgs& args) {
  if (auto url = args.value("--http")) return *url;
  const char* env = std::getenv("GATEKEEPER_HTTP");
  return env != nullptr && *env != '\0' ? env : kDefaultHttp;
}

OptionSpec http_option() {
  return {"--http", "URL",
          std::string("base URL of the gatekeeper's HTTP API (default $GATEKEEPER_HTTP, else ") +
              kDefaultHttp + ")"};
}

OptionSpec token_option() {
  return {"--token", "TOKEN", "API token sent as X-XNG-AuthToken (default: $GATEKEEPER_TOKEN)"};
}

OptionSpec timeout_option(const std::string& what) {
  return {"--timeout", "MS", "milliseconds to wait " + what + " (default 5000)"};
}

std::string token(const ParsedArgs& args) {
  if (auto t = args.value("--token")) return *t;
  const char* env = std::getenv("GATEKEEPER_TOKEN");
  return env != nullptr ? env : "";
}

std::vector<Command> api_commands() {
  const std::string api_note =
      "Calls the gatekeeper's HTTP API (PROTOCOL.md section 7) and prints the answer as one\n"
      "JSON line. HTTP errors print the server's error text on stderr and exit 1.";
  return {
      {{"status get",
        {"ID"},
        "Print a person's stored opt-out status (one channel, or ALL).",
        api_note + "\n\"effective\" tells whether messages on that channel are suppressed "
                   "(ALL and\nthe blacklist included).",
        api_options(
            {{"--channel", "C", "channel name or alias (default: ALL, the overall status)"}})},
       &status_get},
      {{"status set",
        {"ID"},
        "Opt a person out of, or back into, a channel (or ALL).",
        api_note + "\nThe change is stamped with the time of receipt and published as a system "
                   "event.\n--channel is required so that the overall status is never set by "
                   "accident: say\n--channel ALL for it.",
        api_options({{"--channel", "C", "channel name or alias, or ALL (required)"},
                     {"--opt-out", "", "opt the person out"},
                     {"--opt-in", "", "opt the person back in"}})},
       &status_set},
      {{"blacklist get",
        {"ID"},
        "Print whether a person is blacklisted.",
        api_note,
        api_options({})},
       &blacklist_get},
      {{"blacklist set",
        {"ID"},
        "Blacklist a person, or lift the blacklist.",
        api_note + "\nA blacklisted person gets no message at all, transactional ones included.",
        api_options({{"--on", "", "blacklist the person"}, {"--off", "", "lift the blacklist"}})},
       &blacklist_set},
      {{"recipient",
        {"ID"},
        "Print what keeps messages from a person (blacklist, ALL, channels).",
        api_note,
        api_options({})},
       &recipient},
      {{"metrics",
        {},
        "Print a summary of /metrics: messages, reasons, cache, Redis.",
        "Counts are totals since the gatekeeper started. A metric the gatekeeper does not\n"
        "export prints as n/a (null with --json).",
        {{"--json", "", "print the summary as one JSON object"},
         http_option(),
         {"--token", "TOKEN",
          "API token, needed only when http.metrics_require_token is set (default: "
          "$GATEKEEPER_TOKEN)"},
         timeout_option("for the HTTP answer")}},
       &metrics},
      {{"links issue",
        {},
        "Mint a one-click unsubscribe link for a person (POST /unsubscribe-links).",
        "Prints {\"url\", \"List-Unsubscribe\", \"List-Unsubscribe-Post\"} as one JSON line: "
        "the two\nheaders to put in a marketing mail. Needs [unsubscribe] in the gatekeeper's "
        "config.",
        api_options({{"--id", "ID", "external id of the person"},
                     {"--email", "EMAIL", "email of the person (a lead, or with --id)"},
                     {"--channel", "C", "leave this channel"},
                     {"--topic", "T", "leave this topic"},
                     {"--all", "", "leave every channel"}})},
       &links_issue},
      {{"health",
        {},
        "Check /healthz, or /readyz with --ready: exit 0 on 200.",
        "For container health checks and scripts; prints the answer as one JSON line. Not ready\n"
        "(Redis unreachable, sockets not bound, stopping) is exit status 1 with the reasons.",
        {{"--ready", "", "ask /readyz: Redis answers and the sockets are bound"},
         http_option(),
         timeout_option("for the HTTP answer")}},
       &health},
  };
}

}  // namespace gk::ctl

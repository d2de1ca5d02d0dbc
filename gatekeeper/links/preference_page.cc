#include "gatekeeper/links/preference_page.h"

#include <algorithm>

#include "gatekeeper/management/preferences.h"

namespace gk {

namespace {

constexpr std::string_view kHead = R"(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>)";

constexpr std::string_view kStyle = R"(</title>
<style>
body{font-family:system-ui,sans-serif;max-width:34rem;margin:0 auto;padding:1rem;line-height:1.5;color:#222}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.5rem}
button{font-size:1rem;padding:.7rem 1.2rem;border-radius:.4rem;border:1px solid #555;background:#f4f4f4}
button.primary{background:#b00020;color:#fff;border-color:#b00020;width:100%}
fieldset{border:1px solid #ccc;border-radius:.4rem;margin:.8rem 0}
label{display:block;padding:.35rem 0}
.notice{background:#e8f5e9;border:1px solid #66bb6a;padding:.6rem;border-radius:.4rem}
.muted{color:#666;font-size:.9rem}
</style></head><body>
)";

void open_page(std::string& out, std::string_view title) {
  out.append(kHead).append(html_escape(title)).append(kStyle);
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string mask_address(std::string_view address) {
  if (address.empty()) return "***";
  const auto at = address.rfind('@');
  // The first character only (a whole UTF-8 sequence), then the domain as is.
  std::size_t first = 1;
  while (first < address.size() && (static_cast<unsigned char>(address[first]) & 0xC0) == 0x80) {
    ++first;
  }
  if (at == std::string_view::npos || at == 0) return std::string(address.substr(0, first)) + "***";
  return std::string(address.substr(0, std::min(first, at))) + "***" +
         std::string(address.substr(at));
}

std::string describe_scope(const LinkPayload& link) {
  switch (link.scope) {
    case LinkScope::kChannel:
      return "messages on the " + link.name + " channel";
    case LinkScope::kTopic:
      return "the \xE2\x80\x9C" + link.name + "\xE2\x80\x9D messages on every channel";
    case LinkScope::kAll:
      return "all messages on every channel";
  }
  return "messages";
}

std::string message_page(std::string_view title, std::string_view text) {
  std::string out;
  open_page(out, title);
  out.append("<h1>").append(html_escape(title)).append("</h1>\n<p>");
  out.append(html_escape(text)).append("</p>\n</body></html>\n");
  return out;
}

std::string preference_page(const ChannelRegistry& channels, const LinkPayload& link,
                            std::string_view token, const StatusService::Fields& fields,
                            std::string_view notice) {
  const std::string self = "/u/" + html_escape(token);
  const std::string who = mask_address(link.email.empty() ? link.external_id : link.email);
  std::string out;
  open_page(out, "Unsubscribe");
  if (!notice.empty()) {
    out.append("<p class=\"notice\" id=\"notice\">").append(html_escape(notice)).append("</p>\n");
  }
  out.append("<h1>Unsubscribe</h1>\n<p>Address: <strong id=\"address\">")
      .append(html_escape(who))
      .append("</strong></p>\n<p>This link stops <strong id=\"scope\">")
      .append(html_escape(describe_scope(link)))
      .append("</strong>.</p>\n");
  out.append("<form method=\"post\" action=\"")
      .append(self)
      .append(
          "\" id=\"one-click\">\n<input type=\"hidden\" name=\"List-Unsubscribe\" "
          "value=\"One-Click\">\n<button type=\"submit\" class=\"primary\" "
          "id=\"unsubscribe\">Unsubscribe</button>\n</form>\n");

  const bool blacklisted = stored_flag(fields, kBlacklistField);
  const bool all = stored_flag(fields, kAllChannel);
  out.append("<h2>Your preferences</h2>\n");
  if (all || blacklisted) {
    out.append(
        "<p class=\"muted\" id=\"all-state\">You currently receive no messages at all.</p>\n");
  }
  out.append("<form method=\"post\" action=\"")
      .append(self)
      .append(
          "/preferences\" id=\"preferences\">\n<input type=\"hidden\" name=\"form\" "
          "value=\"preferences\">\n<fieldset><legend>Channels</legend>\n");
  out.append("<label><input type=\"checkbox\" name=\"all\" value=\"on\"")
      .append(all ? "" : " checked")
      .append("> Any messages at all</label>\n");
  for (std::size_t i = 0; i < channels.routable_count(); ++i) {
    const std::string name = html_escape(channels.name(i));
    const bool out_of = stored_flag(fields, channels.name(i));
    out.append("<label><input type=\"checkbox\" name=\"channel:")
        .append(name)
        .append("\" value=\"on\"")
        .append(out_of ? "" : " checked")
        .append("> ")
        .append(name)
        .append("</label>\n");
  }
  out.append("</fieldset>\n");
  const TopicRegistry& topics = channels.topics();
  if (topics.size() > 0) {
    out.append("<fieldset><legend>Topics</legend>\n");
    for (std::size_t i = 0; i < topics.size(); ++i) {
      const auto state = topic_state(topics.at(i), fields);
      const std::string name = html_escape(topics.at(i).name);
      const bool required = topics.at(i).policy == TopicDefault::kRequired;
      out.append("<label><input type=\"checkbox\" name=\"topic:")
          .append(name)
          .append("\" value=\"on\"")
          .append(state.subscribed ? " checked" : "")
          .append(required ? " disabled" : "")
          .append("> ")
          .append(name)
          .append(required ? " <span class=\"muted\">(always sent)</span>" : "")
          .append("</label>\n");
    }
    out.append("</fieldset>\n");
  }
  out.append("<button type=\"submit\" id=\"save\">Save preferences</button>\n</form>\n");
  out.append("<p class=\"muted\">Checked means you receive it.</p>\n</body></html>\n");
  return out;
}

}  // namespace gk

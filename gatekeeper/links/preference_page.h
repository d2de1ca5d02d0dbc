#pragma once

#include <string>
#include <string_view>

#include "common/protocol/unsubscribe_token.h"
#include "common/rules/channels.h"
#include "gatekeeper/management/status_service.h"

namespace gk {

// Text for HTML element content and attribute values: & < > " ' escaped.
std::string html_escape(std::string_view text);
// "a***@example.com" for an email; "a***" for anything else (an external id).
std::string mask_address(std::string_view address);
// "emails (MAIL)", "the newsletter topic", "every channel": what a link's scope leaves.
std::string describe_scope(const LinkPayload& link);

// A short complete page (errors, confirmations): plain HTML, readable on a phone, no script.
std::string message_page(std::string_view title, std::string_view text);

// The page behind GET /u/<token> (PROTOCOL.md 10): what the link leaves, the masked address,
// a one-click button (a form POSTing List-Unsubscribe=One-Click to the same URL), and every
// configured channel and topic with its state in a form POSTed to /u/<token>/preferences.
// Works without JavaScript; everything from outside is escaped. `notice` is shown on top
// when not empty.
std::string preference_page(const ChannelRegistry& channels, const LinkPayload& link,
                            std::string_view token, const StatusService::Fields& fields,
                            std::string_view notice);

}  // namespace gk

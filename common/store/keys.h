#pragma once

#include <string>
#include <string_view>

namespace gk {

// Redis key names of PROTOCOL.md section 3. Each writes into `out` (cleared first) so the
// hot path can reuse one buffer; emails are lower-cased as identity requires.
void user_key(std::string& out, std::string_view prefix, std::string_view bu,
              std::string_view external_id);
void lead_key(std::string& out, std::string_view prefix, std::string_view bu,
              std::string_view email);
void link_key(std::string& out, std::string_view prefix, std::string_view bu,
              std::string_view email);

// A person's change history (our addition to the layout): "<prefix>h:u:<bu>:<externalId>" or
// "<prefix>h:l:<bu>:<email>". In cluster mode "<prefix>h:{<tag>}:u:..." instead, the tag
// chosen so the list shares the slot of the person's status hash and one script can write
// both.
std::string history_key(std::string_view prefix, bool cluster, bool lead, std::string_view bu,
                        std::string_view who);
// The emails linked to a user: "<prefix>ue:<bu>:<externalId>", a set.
std::string linked_emails_key(std::string_view prefix, std::string_view bu,
                              std::string_view external_id);

std::string lower_email(std::string_view email);

// An address suppression (PROTOCOL.md 11): "<prefix>a:<CHANNEL>:<address>", the address in
// its stored form (common/rules/address.h).
std::string address_key(std::string_view prefix, std::string_view channel,
                        std::string_view address);
// An erasure tombstone (PROTOCOL.md 13): "<prefix>t:<salted hash of the identifier>".
std::string tombstone_key(std::string_view prefix, std::string_view hash);

}  // namespace gk

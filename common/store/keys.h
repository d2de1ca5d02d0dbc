#pragma once

#include <string>
#include <string_view>

namespace gk {

// Redis key names of PROTOCOL.md section 3. Each writes into `out` (cleared first) so the
// hot path can reuse one buffer; emails are normalised (trimmed, lower-cased) as identity
// requires (common/identity.h). A business unit that breaks the identity rules (a ':' in it
// would make "<bu>:<id>" ambiguous between tenants) is refused with std::invalid_argument
// instead of building a key another tenant's person may own.
// Throws std::invalid_argument unless `bu` follows common/identity.h; for code that builds
// the keys elsewhere (the status script builds them in Lua from the same parts).
void require_key_business_unit(std::string_view bu);

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

// normalize_email: trimmed of ASCII whitespace and lower-cased (the name predates trimming).
std::string lower_email(std::string_view email);

}  // namespace gk

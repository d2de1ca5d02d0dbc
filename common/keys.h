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

std::string lower_email(std::string_view email);

}  // namespace gk

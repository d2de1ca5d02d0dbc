#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace gk {

// Splits one CSV line (RFC 4180 quoting, no line breaks inside fields; a trailing '\r' is
// dropped). False when a quote is not closed.
bool split_csv(std::string_view line, std::vector<std::string>& out);
// Appends one CSV field, quoted when it holds a comma, quote or line break.
void append_csv(std::string& out, std::string_view field);

}  // namespace gk

#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gk {

// The rules every entry point (message headers, event bodies, the HTTP API) and the key
// builder apply to who a message or change is about, so one person has one spelling and
// no two people share a Redis key (docs/API.md, "Identity: character set"):
//
// - business unit: 0-64 bytes; no ':' (the separator of gk:u:<bu>:<id>, so a ':' in it would
//   let ("T:b", "X") and ("T", "b:X") meet on one key), no ASCII whitespace or control
//   characters.
// - external id: 1-256 bytes, no ASCII control characters. ':' is allowed: the business
//   unit in front of it cannot contain one, so the key stays unambiguous.
// - email: ASCII whitespace around it is trimmed and ASCII letters lower-cased (other bytes
//   are kept as they are); then 3-254 bytes, exactly one '@' with something on both sides,
//   no whitespace or control characters inside.
//
// The checks return "" for a valid value, else what is wrong as a phrase to follow the
// field's name ("must not contain ':'"). The texts are static and never quote the value,
// so they are safe in logs and allocate nothing.
inline constexpr std::size_t kMaxBusinessUnitBytes = 64;
inline constexpr std::size_t kMaxExternalIdBytes = 256;
inline constexpr std::size_t kMinEmailBytes = 3;
inline constexpr std::size_t kMaxEmailBytes = 254;

std::string_view business_unit_problem(std::string_view bu) noexcept;
std::string_view external_id_problem(std::string_view external_id) noexcept;
// Judges the email as trim_email would leave it.
std::string_view email_problem(std::string_view email) noexcept;

// `email` without the ASCII whitespace around it; a view into the same bytes.
std::string_view trim_email(std::string_view email) noexcept;
// Trimmed and lower-cased: the one spelling keys, links and system events use.
std::string normalize_email(std::string_view email);
// Appends normalize_email(email) to `out` without a temporary.
void append_normalized_email(std::string& out, std::string_view email);

// "<field> <problem>", e.g. "businessUnit must not contain ':'"; "" when valid.
std::string business_unit_error(std::string_view field, std::string_view bu);
std::string external_id_error(std::string_view field, std::string_view external_id);
std::string email_error(std::string_view field, std::string_view email);

}  // namespace gk

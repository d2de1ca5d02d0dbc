#include "common/rules/identity.h"

namespace gk {

namespace {

bool is_control(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// ASCII whitespace: space, \t, \n, \v, \f, \r (all but the space are control characters too).
bool is_space(char c) noexcept {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

std::string with_field(std::string_view field, std::string_view problem) {
  if (problem.empty()) return {};
  std::string out(field);
  out.push_back(' ');
  out.append(problem);
  return out;
}

}  // namespace

std::string_view business_unit_problem(std::string_view bu) noexcept {
  if (bu.size() > kMaxBusinessUnitBytes) return "must be at most 64 bytes";
  for (const char c : bu) {
    if (c == ':') return "must not contain ':'";
    if (is_space(c)) return "must not contain whitespace";
    if (is_control(c)) return "must not contain control characters";
  }
  return {};
}

std::string_view external_id_problem(std::string_view external_id) noexcept {
  if (external_id.empty()) return "must not be empty";
  if (external_id.size() > kMaxExternalIdBytes) return "must be at most 256 bytes";
  for (const char c : external_id) {
    if (is_control(c)) return "must not contain control characters";
  }
  return {};
}

std::string_view trim_email(std::string_view email) noexcept {
  while (!email.empty() && is_space(email.front())) email.remove_prefix(1);
  while (!email.empty() && is_space(email.back())) email.remove_suffix(1);
  return email;
}

std::string_view email_problem(std::string_view email) noexcept {
  email = trim_email(email);
  if (email.empty()) return "must not be empty";
  if (email.size() < kMinEmailBytes) return "must be at least 3 bytes";
  if (email.size() > kMaxEmailBytes) return "must be at most 254 bytes";
  // One branch-free pass for the common valid address (whitespace and controls are all
  // <= 0x20 or 0x7f); only a bad one is walked again to say what is wrong.
  std::size_t ats = 0;
  bool odd = false;
  for (const char c : email) {
    const auto b = static_cast<unsigned char>(c);
    ats += b == '@';
    odd |= b <= 0x20 || b == 0x7f;
  }
  if (odd) {
    for (const char c : email) {
      if (is_space(c)) return "must not contain whitespace";
      if (is_control(c)) return "must not contain control characters";
    }
  }
  if (ats != 1) return "must contain exactly one '@'";
  if (email.front() == '@' || email.back() == '@') return "must have text on both sides of '@'";
  return {};
}

void append_normalized_email(std::string& out, std::string_view email) {
  email = trim_email(email);
  const std::size_t at = out.size();
  out.resize(at + email.size());
  char* to = out.data() + at;
  // ASCII only: a byte-wise lower-casing of UTF-8 would corrupt multi-byte characters.
  for (std::size_t i = 0; i < email.size(); ++i) {
    const char c = email[i];
    to[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
  }
}

std::string normalize_email(std::string_view email) {
  std::string out;
  out.reserve(email.size());
  append_normalized_email(out, email);
  return out;
}

std::string business_unit_error(std::string_view field, std::string_view bu) {
  return with_field(field, business_unit_problem(bu));
}

std::string external_id_error(std::string_view field, std::string_view external_id) {
  return with_field(field, external_id_problem(external_id));
}

std::string email_error(std::string_view field, std::string_view email) {
  return with_field(field, email_problem(email));
}

}  // namespace gk

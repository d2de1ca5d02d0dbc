#include "common/rules/address.h"

#include <array>
#include <cstring>
#include <utility>

#include "common/rules/channels.h"

namespace gk {

namespace {

constexpr std::array<std::pair<AddressReason, std::string_view>, 4> kReasons = {{
    {AddressReason::kBounce, "bounce"},
    {AddressReason::kComplaint, "complaint"},
    {AddressReason::kSmsStop, "sms_stop"},
    {AddressReason::kManual, "manual"},
}};

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

bool space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool phone_separator(char c) noexcept {
  return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')' || c == '[' || c == ']';
}

}  // namespace

std::string_view to_string(AddressReason reason) noexcept {
  for (const auto& [r, text] : kReasons) {
    if (r == reason) return text;
  }
  return "";
}

std::optional<AddressReason> parse_address_reason(std::string_view text) noexcept {
  for (const auto& [r, name] : kReasons) {
    if (name == text) return r;
  }
  return std::nullopt;
}

AddressKind address_kind(std::string_view channel) noexcept {
  if (channel == "MAIL") return AddressKind::kEmail;
  if (channel == "SMS") return AddressKind::kPhone;
  return AddressKind::kOther;
}

bool normalize_address(std::string_view channel, std::string_view raw, std::string& out) {
  const std::string_view s = trim(raw);
  // Written through a pointer into a buffer sized once: this runs per message.
  out.resize(s.size());
  char* w = out.data();
  bool ok = !s.empty();
  switch (address_kind(channel)) {
    case AddressKind::kEmail: {
      // Most addresses arrive in stored form already: one branch-free scan, then a copy.
      bool upper = false, blank = false, at = false;
      for (char c : s) {
        upper |= static_cast<unsigned char>(c - 'A') < 26U;
        blank |= space(c);
        at |= c == '@';
      }
      if (!upper) {
        if (!s.empty()) std::memcpy(w, s.data(), s.size());
        w += s.size();
        ok = ok && at && !blank;
        break;
      }
      at = false;
      for (char c : s) {
        ok = ok && !space(c);
        at = at || c == '@';
        *w++ = lower(c);
      }
      ok = ok && at;
      break;
    }
    case AddressKind::kPhone: {
      char* const first = w;
      for (char c : s) {
        if ((c >= '0' && c <= '9') || (c == '+' && w == first)) {
          *w++ = c;
        } else if (!phone_separator(c)) {
          ok = false;
        }
      }
      const std::size_t n = static_cast<std::size_t>(w - first);
      ok = ok && n > (n > 0 && *first == '+' ? 1U : 0U);
      break;
    }
    case AddressKind::kOther:
      for (char c : s) *w++ = c;
      break;
  }
  out.resize(static_cast<std::size_t>(w - out.data()));
  return ok;
}

std::string address_problem(std::string_view channel, std::string_view raw) {
  std::string out;
  if (normalize_address(channel, raw, out)) return {};
  if (trim(raw).empty()) return "the address is empty";
  switch (address_kind(channel)) {
    case AddressKind::kEmail:
      return "the address is not an e-mail address (an '@', no whitespace)";
    case AddressKind::kPhone:
      return "the address is not a phone number (digits, one leading '+', spaces, dashes, dots, "
             "brackets)";
    case AddressKind::kOther:
      break;
  }
  return "the address is not acceptable";
}

SmsKeyword match_sms_keyword(std::string_view body, const std::vector<std::string>& opt_out,
                             const std::vector<std::string>& opt_in) noexcept {
  const std::string_view word = trim(body);
  if (word.empty()) return SmsKeyword::kNone;
  for (const std::string& k : opt_out) {
    if (iequals(word, k)) return SmsKeyword::kOptOut;
  }
  for (const std::string& k : opt_in) {
    if (iequals(word, k)) return SmsKeyword::kOptIn;
  }
  return SmsKeyword::kNone;
}

}  // namespace gk

#include "gatekeeper/management/bulk_rows.h"

#include <charconv>

#include "common/rules/address.h"
#include "common/rules/identity.h"
#include "common/rules/topics.h"
#include "common/util/csv.h"

namespace gk {

namespace {

std::string quoted(std::string_view s) {
  // Bounded, so a garbage column cannot flood the error report.
  constexpr std::size_t kMax = 80;
  std::string out = "'";
  out.append(s.substr(0, kMax));
  if (s.size() > kMax) out.append("...");
  out.push_back('\'');
  return out;
}

bool parse_ms(std::string_view s, EpochMs& out) {
  if (s.empty() || s.size() > 15) return false;  // 15 digits: past the year 30000
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size() && out >= 0;
}

// The stored spelling of a person's field, or "" when `field` names none.
std::string canonical_field(std::string_view field, const ChannelRegistry& channels) {
  if (iequals(field, kAllChannel)) return std::string(kAllChannel);
  if (iequals(field, kBlacklistField)) return std::string(kBlacklistField);
  if (field.size() > kTopicFieldPrefix.size() &&
      iequals(field.substr(0, kTopicFieldPrefix.size()), kTopicFieldPrefix)) {
    const std::string_view name = field.substr(kTopicFieldPrefix.size());
    // A configured topic as configured; another (one not configured yet, or any more) as
    // written, so that an export of such a field imports back unchanged.
    if (const auto t = channels.topics().find(name)) return channels.topics().field(*t);
    if (name.find_first_of(" \t\r\n") != std::string_view::npos) return {};
    return std::string(kTopicFieldPrefix) + std::string(name);
  }
  if (const auto c = channels.find_type(field)) return channels.name(*c);
  return {};
}

}  // namespace

std::string parse_bulk_row(std::string_view line, const ChannelRegistry& channels, BulkRow& row,
                           std::vector<std::string>& cols) {
  if (!split_csv(line, cols)) return "a quoted field is not closed";
  if (cols.size() != 7) {
    return "expected 7 columns (" + std::string(kBulkHeader) + "), got " +
           std::to_string(cols.size());
  }
  const std::string &kind = cols[0], &bu = cols[1], &key = cols[2], &field = cols[3],
                    &value = cols[4], &ts = cols[5], &reason = cols[6];
  if (value != "0" && value != "1") return "value must be 1 or 0, got " + quoted(value);
  row.value = value == "1";
  if (!parse_ms(ts, row.ts)) return "timestamp must be ms since the epoch, got " + quoted(ts);
  row.reason.clear();
  if (kind == "user" || kind == "lead") {
    if (const auto e = business_unit_error("businessUnit", bu); !e.empty()) return e;
    row.bu = bu;
    row.field = canonical_field(field, channels);
    if (row.field.empty()) {
      return "unknown field " + quoted(field) + " (a channel, ALL, BLACKLIST or topic:<name>)";
    }
    if (!reason.empty()) return "reason is for address rows only, got " + quoted(reason);
    if (kind == "user") {
      if (const auto e = external_id_error("key (external id)", key); !e.empty()) return e;
      row.kind = BulkKind::kUser;
      row.who = key;
    } else {
      if (const auto e = email_error("key (email)", key); !e.empty()) return e;
      row.kind = BulkKind::kLead;
      row.who = normalize_email(key);
    }
    return {};
  }
  if (kind == "address") {
    if (!bu.empty()) return "businessUnit must be empty for an address, got " + quoted(bu);
    const auto c = channels.find_type(field);
    if (!c) return "unknown channel " + quoted(field);
    row.kind = BulkKind::kAddress;
    row.bu.clear();
    row.field = channels.name(*c);
    // The address routes' rules and error texts, so that what they store exports and
    // imports back.
    if (!normalize_address(row.field, key, row.who)) return address_problem(row.field, key);
    if (!reason.empty() && !parse_address_reason(reason)) {
      return "unknown reason " + quoted(reason) + " (bounce, complaint, sms_stop or manual)";
    }
    // A suppression needs a reason; "manual" is what an operator's list means.
    row.reason = reason.empty() && row.value ? std::string("manual") : reason;
    return {};
  }
  return "unknown kind " + quoted(kind) + " (user, lead or address)";
}

}  // namespace gk

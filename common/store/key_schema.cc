#include "common/store/key_schema.h"

#include <stdexcept>

#include "common/redis/cluster_slots.h"
#include "common/rules/identity.h"

namespace gk {

namespace {

// The kinds' spellings after the configured prefix. Nothing else in the code base (C++ or
// Lua) may spell them: tests/unit/key_schema_test.cc greps the scripts for them.
constexpr std::string_view kUser = "u:";
constexpr std::string_view kLead = "l:";
constexpr std::string_view kLink = "id:";
constexpr std::string_view kLinkedEmails = "ue:";
constexpr std::string_view kHistory = "h:";
constexpr std::string_view kEvents = "events";
constexpr std::string_view kAddress = "a:";
constexpr std::string_view kTombstone = "t:";

std::string join(std::string_view a, std::string_view b, std::string_view c = {}) {
  std::string out;
  out.reserve(a.size() + b.size() + c.size());
  return out.append(a).append(b).append(c);
}

void start(std::string& out, const std::string& kind_prefix, std::string_view bu) {
  out.clear();  // a refused key leaves nothing half-built behind
  require_key_business_unit(bu);
  out.append(kind_prefix).append(bu).push_back(':');
}

}  // namespace

void require_key_business_unit(std::string_view bu) {
  // The last line of defence: every entry point rejects such a business unit first, so this
  // only fires on a caller that skipped validation, and then loudly instead of building a
  // key that another tenant's person may own.
  if (const auto problem = business_unit_problem(bu); !problem.empty()) {
    throw std::invalid_argument("refusing to build a key: business unit " + std::string(problem));
  }
}

KeySchema::KeySchema(std::string_view prefix, bool cluster)
    : prefix_(prefix),
      cluster_(cluster),
      user_(join(prefix, kUser)),
      lead_(join(prefix, kLead)),
      link_(join(prefix, kLink)),
      linked_emails_(join(prefix, kLinkedEmails)),
      user_history_(join(prefix, kHistory, kUser)),
      lead_history_(join(prefix, kHistory, kLead)),
      history_(join(prefix, kHistory)),
      events_(join(prefix, kEvents)),
      address_(join(prefix, kAddress)),
      tombstone_(join(prefix, kTombstone)) {}

KeySchema::KeySchema(const RedisConfig& config)
    : KeySchema(config.key_prefix, !config.cluster.empty()) {}

void KeySchema::user(std::string& out, std::string_view bu, std::string_view external_id) const {
  start(out, user_, bu);
  out.append(external_id);
}

void KeySchema::lead(std::string& out, std::string_view bu, std::string_view email) const {
  start(out, lead_, bu);
  append_normalized_email(out, email);
}

void KeySchema::link(std::string& out, std::string_view bu, std::string_view email) const {
  start(out, link_, bu);
  append_normalized_email(out, email);
}

void KeySchema::address(std::string& out, std::string_view channel,
                        std::string_view address) const {
  out.clear();
  out.append(address_).append(channel).push_back(':');
  out.append(address);
}

void KeySchema::tombstone(std::string& out, std::string_view hash) const {
  out.clear();
  out.append(tombstone_).append(hash);
}

std::string KeySchema::linked_emails(std::string_view bu, std::string_view external_id) const {
  std::string out;
  start(out, linked_emails_, bu);
  return out.append(external_id);
}

std::string KeySchema::history(bool is_lead, std::string_view bu, std::string_view who) const {
  std::string status;
  if (is_lead) {
    lead(status, bu, who);
  } else {
    user(status, bu, who);
  }
  // The status key without the prefix ("u:<bu>:<id>" or "l:<bu>:<email>") after the history
  // prefix, on a cluster behind the tag of the status key's slot.
  const std::string_view rest = std::string_view(status).substr(prefix_.size());
  std::string out = history_;
  if (cluster_) out.append("{").append(slot_tag(key_slot(status))).append("}:");
  return out.append(rest);
}

std::string key_prefix_pattern(std::string_view prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('*');
  return out;
}

}  // namespace gk

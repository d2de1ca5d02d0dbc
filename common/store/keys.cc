#include "common/store/keys.h"

#include <stdexcept>

#include "common/redis/cluster_slots.h"
#include "common/rules/identity.h"

namespace gk {

namespace {

void key(std::string& out, std::string_view prefix, std::string_view kind, std::string_view bu) {
  out.clear();
  require_key_business_unit(bu);
  out.append(prefix).append(kind).append(bu).push_back(':');
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

void user_key(std::string& out, std::string_view prefix, std::string_view bu,
              std::string_view external_id) {
  key(out, prefix, "u:", bu);
  out.append(external_id);
}

void lead_key(std::string& out, std::string_view prefix, std::string_view bu,
              std::string_view email) {
  key(out, prefix, "l:", bu);
  append_normalized_email(out, email);
}

void link_key(std::string& out, std::string_view prefix, std::string_view bu,
              std::string_view email) {
  key(out, prefix, "id:", bu);
  append_normalized_email(out, email);
}

std::string history_key(std::string_view prefix, bool cluster, bool lead, std::string_view bu,
                        std::string_view who) {
  std::string status;
  if (lead) {
    lead_key(status, prefix, bu, who);
  } else {
    user_key(status, prefix, bu, who);
  }
  std::string out(prefix);
  out.append("h:");
  if (cluster) out.append("{").append(slot_tag(key_slot(status))).append("}:");
  // The status key without the prefix: "u:<bu>:<id>" or "l:<bu>:<email>".
  return out.append(std::string_view(status).substr(prefix.size()));
}

std::string linked_emails_key(std::string_view prefix, std::string_view bu,
                              std::string_view external_id) {
  std::string out;
  key(out, prefix, "ue:", bu);
  out.append(external_id);
  return out;
}

std::string lower_email(std::string_view email) {
  std::string out;
  out.reserve(email.size());
  append_normalized_email(out, email);
  return out;
}

}  // namespace gk

#include "common/store/keys.h"

#include "common/redis/cluster_slots.h"

namespace gk {

namespace {

void append_lower(std::string& out, std::string_view s) {
  for (char c : s) out.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
}

void key(std::string& out, std::string_view prefix, std::string_view kind, std::string_view bu) {
  out.clear();
  out.append(prefix).append(kind).append(bu).push_back(':');
}

}  // namespace

void user_key(std::string& out, std::string_view prefix, std::string_view bu,
              std::string_view external_id) {
  key(out, prefix, "u:", bu);
  out.append(external_id);
}

void lead_key(std::string& out, std::string_view prefix, std::string_view bu,
              std::string_view email) {
  key(out, prefix, "l:", bu);
  append_lower(out, email);
}

void link_key(std::string& out, std::string_view prefix, std::string_view bu,
              std::string_view email) {
  key(out, prefix, "id:", bu);
  append_lower(out, email);
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
  append_lower(out, email);
  return out;
}

std::string address_key(std::string_view prefix, std::string_view channel,
                        std::string_view address) {
  std::string out(prefix);
  out.append("a:").append(channel).append(":").append(address);
  return out;
}

std::string tombstone_key(std::string_view prefix, std::string_view hash) {
  std::string out(prefix);
  return out.append("t:").append(hash);
}

}  // namespace gk

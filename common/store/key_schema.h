#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"

namespace gk {

// The Redis key layout of PROTOCOL.md section 3 and our additions to it, spelled here and
// nowhere else: the C++ builds its keys with these methods, the Lua scripts receive the
// per-kind prefixes as arguments (they append the business unit and the id or email, since
// they follow links inside Redis), and the reader's tracking announces the same prefixes.
//
//   user           <prefix>u:<bu>:<externalId>    hash
//   lead           <prefix>l:<bu>:<email>         hash
//   link           <prefix>id:<bu>:<email>        string, the external id
//   linked emails  <prefix>ue:<bu>:<externalId>   set of emails
//   history        <prefix>h:u:<bu>:<externalId>  list (h:l:<bu>:<email> for a lead); on a
//                  cluster <prefix>h:{<tag>}:u:... with the tag of the status hash's slot,
//                  so one script can write the hash and its history
//   events         <prefix>events                 stream of system events
//   address        <prefix>a:<CHANNEL>:<address>  hash, an address suppression (PROTOCOL.md
//                  11); the address in its stored form (common/rules/address.h)
//   tombstone      <prefix>t:<hash>               an erased identifier's tombstone (PROTOCOL.md
//                  13), keyed by the salted hash of the identifier
//
// Emails are normalised (trimmed, lower-cased) as identity requires (common/rules/
// identity.h). A business unit that breaks the identity rules (a ':' in it would make
// "<bu>:<id>" ambiguous between tenants) is refused with std::invalid_argument instead of
// building a key another tenant's person may own. The key builders write into `out`
// (cleared first) so the hot path can reuse one buffer.
class KeySchema {
 public:
  explicit KeySchema(std::string_view prefix, bool cluster = false);
  // The prefix and cluster mode (a non-empty `cluster` seed list) of the configuration.
  explicit KeySchema(const RedisConfig& config);

  void user(std::string& out, std::string_view bu, std::string_view external_id) const;
  void lead(std::string& out, std::string_view bu, std::string_view email) const;
  void link(std::string& out, std::string_view bu, std::string_view email) const;
  std::string linked_emails(std::string_view bu, std::string_view external_id) const;
  // A person's change history; `lead` selects the lead form, `who` is then an email.
  std::string history(bool lead, std::string_view bu, std::string_view who) const;
  const std::string& events() const noexcept { return events_; }
  // `channel` is the canonical channel name, `address` already in its stored form.
  void address(std::string& out, std::string_view channel, std::string_view address) const;
  // `hash` is the tombstone's salted identifier hash, as text.
  void tombstone(std::string& out, std::string_view hash) const;

  // Each kind's prefix, the configured prefix included ("gk:u:", ...): what the scripts
  // append "<bu>:<id>" to. The history prefixes are the single-server form.
  const std::string& user_prefix() const noexcept { return user_; }
  const std::string& lead_prefix() const noexcept { return lead_; }
  const std::string& link_prefix() const noexcept { return link_; }
  const std::string& linked_emails_prefix() const noexcept { return linked_emails_; }
  const std::string& user_history_prefix() const noexcept { return user_history_; }
  const std::string& lead_history_prefix() const noexcept { return lead_history_; }
  const std::string& address_prefix() const noexcept { return address_; }
  const std::string& tombstone_prefix() const noexcept { return tombstone_; }
  // What a reader must hear invalidations for: the keys a message's decision reads (user,
  // lead, link), for client-side tracking in broadcast mode.
  std::vector<std::string> tracking_prefixes() const { return {user_, lead_, link_}; }

  const std::string& prefix() const noexcept { return prefix_; }
  bool cluster() const noexcept { return cluster_; }

 private:
  std::string prefix_;
  bool cluster_;
  std::string user_, lead_, link_, linked_emails_, user_history_, lead_history_, history_, events_;
  std::string address_, tombstone_;
};

// A SCAN MATCH pattern for every key that starts with `prefix` (glob characters in it
// escaped): the prefix is configurable and may hold any of them.
std::string key_prefix_pattern(std::string_view prefix);

// Throws std::invalid_argument unless `bu` follows common/rules/identity.h; for code that
// builds keys elsewhere (the status scripts build them in Lua from the schema's prefixes).
void require_key_business_unit(std::string_view bu);

}  // namespace gk

#include "gatekeeper/management/change_request.h"

#include "common/rules/channels.h"

namespace gk {

ChangeRequest change_now(std::string bu, std::string external_id, std::string email,
                         std::string field, bool value, std::string_view source,
                         std::string_view event) {
  const EpochMs now = now_ms();
  ChangeRequest c;
  c.bu = std::move(bu);
  c.external_id = std::move(external_id);
  c.email = std::move(email);
  if (field.starts_with(kTopicFieldPrefix)) {
    c.topic = field.substr(kTopicFieldPrefix.size());
  } else if (field != kBlacklistField) {
    c.channel = field;
  }
  c.field = std::move(field);
  c.value = value;
  c.ts = now;
  c.received = now;
  c.source = std::string(source);
  c.event = std::string(event);
  return c;
}

}  // namespace gk

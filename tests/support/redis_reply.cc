#include "tests/support/redis_reply.h"

#include <stdexcept>

namespace gk::test {

std::optional<std::string> reply_text(const redisReply* reply) {
  if (reply == nullptr || reply->str == nullptr) return std::nullopt;
  switch (reply->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      return std::string(reply->str, reply->len);
    default:
      return std::nullopt;
  }
}

std::map<std::string, std::string> reply_fields(const redisReply* reply) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements % 2 != 0) {
    throw std::runtime_error("Redis reply is not a field/value array");
  }
  std::map<std::string, std::string> out;
  for (std::size_t i = 0; i + 1 < reply->elements; i += 2) {
    const auto field = reply_text(reply->element[i]);
    const auto value = reply_text(reply->element[i + 1]);
    if (!field || !value) throw std::runtime_error("Redis field/value array holds a non-string");
    out[*field] = *value;
  }
  return out;
}

}  // namespace gk::test

#pragma once

#include <map>
#include <optional>
#include <string>

#include <hiredis/hiredis.h>

namespace gk::test {

// The text of a string or status reply; nullopt for a nil, a number, an array, an
// error or no reply at all. Tests compare the optional, so a missing field is a failed
// check that prints "nullopt", never a null dereference that kills the test binary.
std::optional<std::string> reply_text(const redisReply* reply);

// A flat field/value array (HGETALL, one XRANGE entry's fields) as a map. Throws
// std::runtime_error (a failed test case, not a crash) when the reply has another shape.
std::map<std::string, std::string> reply_fields(const redisReply* reply);

}  // namespace gk::test

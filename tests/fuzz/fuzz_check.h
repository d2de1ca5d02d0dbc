#pragma once

#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common/rules/channels.h"

// An invariant of the code under fuzzing. A broken one aborts, which libFuzzer reports as a
// crash and saves the input, like a sanitizer finding.
#define GK_FUZZ_CHECK(cond)                                                             \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

namespace gk::fuzz {

// MAIL (alias EMAIL) and SMS: the channels the header and event-body targets decode against.
inline const ChannelRegistry& registry() {
  static const ChannelRegistry channels([] {
    ChannelConfig mail;
    mail.name = "MAIL";
    mail.aliases = {"EMAIL"};
    ChannelConfig sms;
    sms.name = "SMS";
    return std::vector<ChannelConfig>{mail, sms};
  }());
  return channels;
}

}  // namespace gk::fuzz

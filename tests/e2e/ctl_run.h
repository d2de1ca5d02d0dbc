#pragma once
// gatekeeper-ctl run once against a gatekeeper, for the bulk and erasure tests.
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace gk::test {

struct CtlRun {
  int status = -1;
  std::string out;
  std::string err;
};

// gatekeeper-ctl with stdout and stderr kept apart (a shell splits them); `token` is the
// gatekeeper's API token.
inline CtlRun ctl(TempDir& dir, const std::vector<std::string>& args, int http_port,
                  const std::string& token = "test-token") {
  static int runs = 0;  // files of their own per run: the harness appends to a log
  const std::string n = std::to_string(++runs);
  std::vector<std::string> argv = {"/usr/bin/env",
                                   "GK_CTL_ERR=" + dir.file("stderr" + n),
                                   "GATEKEEPER_TOKEN=" + token,
                                   "GATEKEEPER_HTTP=http://127.0.0.1:" + std::to_string(http_port),
                                   "/bin/sh",
                                   "-c",
                                   R"(exec "$0" "$@" 2>"$GK_CTL_ERR")",
                                   GK_CTL_PATH};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p(argv, dir.file("stdout" + n));
  CtlRun r;
  const auto status = p.wait(std::chrono::seconds(120));
  r.status = status ? *status : -1;
  r.out = p.log();
  std::ifstream err(dir.file("stderr" + n));
  r.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
  return r;
}

// How often `what` occurs in `text` (the lines of a report naming a thing).
inline std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

}  // namespace gk::test

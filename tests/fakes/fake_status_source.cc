#include "tests/fakes/fake_status_source.h"

namespace gk::test {

bool FakeStatusSource::resolve(const PersonRef& person, OptOutRecord& out) {
  const std::string user(person.user_id);
  if (!connected_ || !cached_.contains(user)) return false;
  const auto it = statuses_.find(user);
  out = it == statuses_.end() ? OptOutRecord{} : it->second;
  ++resolved_;
  return true;
}

void FakeStatusSource::want(const PersonRef& person) {
  wanted_.insert(std::string(person.user_id));
}

Status FakeStatusSource::fetch() {
  ++fetches_;
  if (!connected_ || fail_next_fetch_) {
    fail_next_fetch_ = false;
    connected_ = false;
    wanted_.clear();
    ++failed_fetches_;
    return gk::fail("fake store unreachable");
  }
  cached_.merge(wanted_);
  wanted_.clear();
  return {};
}

}  // namespace gk::test

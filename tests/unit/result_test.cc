// gk::Result, the one error type for fallible I/O (issue 15, item 4).
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <variant>

#include "common/util/result.h"

using namespace gk;

namespace {

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return fail(std::string("not a digit: ") + c);
  return c - '0';
}

Status check_positive(int n) {
  if (n <= 0) return fail("not positive: " + std::to_string(n));
  return {};
}

Result<std::unique_ptr<int>> make_owned(bool good) {
  if (!good) return fail("no value");
  auto p = std::make_unique<int>(7);
  return p;  // a move-only value is moved in
}

}  // namespace

TEST_CASE("result: a value is ok and has no error", "[util]") {
  const Result<int> r = parse_digit('4');
  CHECK(r.ok());
  CHECK(static_cast<bool>(r));
  CHECK(r.value() == 4);
  CHECK(*r == 4);
  CHECK(r.error().empty());
}

TEST_CASE("result: an error is not ok and keeps its message", "[util]") {
  const Result<int> r = parse_digit('x');
  CHECK_FALSE(r.ok());
  CHECK_FALSE(static_cast<bool>(r));
  CHECK(r.error() == "not a digit: x");
  SECTION("value() of an error is a guard, not garbage") {
    CHECK_THROWS_AS(r.value(), std::bad_variant_access);
  }
}

TEST_CASE("result: a string value is never taken for an error", "[util]") {
  const Result<std::string> value = std::string("boom");
  CHECK(value.ok());
  CHECK(value.value() == "boom");
  CHECK(value->size() == 4);
  const Result<std::string> error = fail("boom");
  CHECK_FALSE(error.ok());
  CHECK(error.error() == "boom");
}

TEST_CASE("result: holds move-only values and hands them out", "[util]") {
  Result<std::unique_ptr<int>> r = make_owned(true);
  REQUIRE(r.ok());
  std::unique_ptr<int> owned = std::move(r).value();
  REQUIRE(owned);
  CHECK(*owned == 7);
  CHECK(make_owned(false).error() == "no value");
}

TEST_CASE("result: Status is nothing or an error", "[util]") {
  const Status good = check_positive(3);
  CHECK(good.ok());
  CHECK(good.error().empty());
  const Status bad = check_positive(-1);
  CHECK_FALSE(bad.ok());
  CHECK_FALSE(static_cast<bool>(bad));
  CHECK(bad.error() == "not positive: -1");
}

TEST_CASE("result: an error passes up through a caller of another type", "[util]") {
  auto sum = [](char a, char b) -> Result<int> {
    const auto x = parse_digit(a);
    if (!x) return fail(x.error());
    const auto y = parse_digit(b);
    if (!y) return fail(y.error());
    return *x + *y;
  };
  CHECK(sum('2', '3').value() == 5);
  CHECK(sum('2', '?').error() == "not a digit: ?");
}

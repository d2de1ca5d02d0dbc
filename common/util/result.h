#pragma once

#include <concepts>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace gk {

// Why a fallible I/O call failed: a message for a log line or an API answer, naming what is
// wrong. Distinct from std::string so that a Result<std::string> cannot mistake one for the
// other.
struct Error {
  std::string message;
};

inline Error fail(std::string message) {
  return Error{std::move(message)};
}

// The outcome of a fallible I/O call (Redis, the status store): a value or an Error. The one
// error style for I/O (docs/ARCHITECTURE.md, "Errors"); hot-path checks return plain enums
// instead, and exceptions are for startup and last-line guards. C++20 has no std::expected,
// so this is the small part of it we need.
//
// value() on a failed Result is a bug in the caller: it throws std::bad_variant_access (a
// guard, caught at the thread's boundary) rather than reading garbage.
template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cvref_t<T>, Error>, "Result<Error> is ambiguous");

 public:
  // Implicit, so that `return value;` and `return fail("...");` both read naturally.
  template <typename U = T>
  requires std::constructible_from<T, U&&> &&(!std::is_same_v<std::remove_cvref_t<U>, Error>)&&(
      !std::is_same_v<std::remove_cvref_t<U>, Result>)Result(U&& value)
      : state_(std::in_place_index<0>, std::forward<U>(value)) {}
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // The message; empty when the call succeeded.
  const std::string& error() const noexcept {
    static const std::string none;
    return ok() ? none : std::get<1>(state_).message;
  }

 private:
  std::variant<T, Error> state_;
};

// Nothing, or an Error: for calls that only succeed or fail. `return {};` is success.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}

  bool ok() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return ok(); }

  const std::string& error() const noexcept {
    static const std::string none;
    return error_ ? error_->message : none;
  }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;

}  // namespace gk

// SPDX-License-Identifier: Apache-2.0
// Result<T>: a value of type T or the non-OK Status that explains why there is none (the
// std::expected of C++23, kept small). Accessing the value of an error Result is a programming
// error and aborts in every build, naming the Status; check first:
//
//   Result<Entry> e = cache->Get("user:1");
//   if (!e) {                                   // explicit operator bool: ok()
//     if (!e.status().IsNotFound()) return e.status();
//   }
//   std::string v = cache->Get("user:1").value_or(Entry{}).value;   // a default instead
//
// Thread-safety: a plain value, like Status.
#ifndef WALCACHE_RESULT_H_
#define WALCACHE_RESULT_H_

#include <cstdio>
#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

#include "walcache/status.h"

namespace walcache {

template <typename T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Status>, "use Status directly");

 public:
  Result(T value) : v_(std::in_place_index<1>, std::move(value)) {}  // NOLINT: implicit
  // REQUIRES: !status.ok().
  Result(Status status) : v_(std::in_place_index<0>, std::move(status)) {  // NOLINT: implicit
    if (std::get<0>(v_).ok()) Die("Result constructed from an OK Status");
  }

  bool ok() const { return v_.index() == 1; }
  // ok(): `if (r)`, `if (!r) return r.status();`. Explicit, so a Result never converts to bool
  // (or to int) by accident; for Result<bool>, `if (r)` still asks ok(), not the value.
  explicit operator bool() const { return ok(); }
  // OK when a value is held.
  Status status() const { return ok() ? Status::OK() : std::get<0>(v_); }

  T& value() & { return Checked(); }
  const T& value() const& { return const_cast<Result*>(this)->Checked(); }
  T&& value() && { return std::move(Checked()); }
  T* operator->() { return &Checked(); }
  const T* operator->() const { return &const_cast<Result*>(this)->Checked(); }
  T& operator*() & { return Checked(); }
  const T& operator*() const& { return const_cast<Result*>(this)->Checked(); }

  // The value if ok(), else `fallback` (converted to T). Never aborts.
  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? std::get<1>(v_) : static_cast<T>(std::forward<U>(fallback));
  }
  template <typename U>
  T value_or(U&& fallback) && {
    return ok() ? std::move(std::get<1>(v_)) : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  [[noreturn]] static void Die(const char* why) {
    std::fprintf(stderr, "walcache: %s\n", why);
    std::abort();
  }
  T& Checked() {
    if (!ok()) Die(("value() of an error Result: " + std::get<0>(v_).ToString()).c_str());
    return std::get<1>(v_);
  }

  std::variant<Status, T> v_;
};

}  // namespace walcache

#endif  // WALCACHE_RESULT_H_

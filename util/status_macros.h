// Internal helpers for propagating Status and Result values. Not installed.
#ifndef WALCACHE_UTIL_STATUS_MACROS_H_
#define WALCACHE_UTIL_STATUS_MACROS_H_

#include "walcache/result.h"
#include "walcache/status.h"

#define WALCACHE_CONCAT_INNER(a, b) a##b
#define WALCACHE_CONCAT(a, b) WALCACHE_CONCAT_INNER(a, b)

// Evaluates `expr` (a Status); returns it from the enclosing function unless OK.
#define WALCACHE_RETURN_IF_ERROR(expr)  \
  do {                                  \
    ::walcache::Status _wc_st = (expr); \
    if (!_wc_st.ok()) return _wc_st;    \
  } while (0)

// Evaluates `rexpr` (a Result<T>); returns its Status unless OK, else moves the value into `lhs`.
#define WALCACHE_ASSIGN_OR_RETURN(lhs, rexpr) \
  WALCACHE_ASSIGN_OR_RETURN_IMPL(WALCACHE_CONCAT(_wc_res_, __LINE__), lhs, rexpr)
#define WALCACHE_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                   \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(tmp).value()

#endif  // WALCACHE_UTIL_STATUS_MACROS_H_

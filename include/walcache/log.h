// SPDX-License-Identifier: Apache-2.0
// The logging hook (Options::log): where the library's own messages go, e.g. a related-key
// mismatch found by verify_related_on_read, a background checkpoint that failed, an error a
// destructor could not return. Without a hook they go to stderr, one line each, prefixed
// "walcache: ".
//
// Thread-safety: the hook is called from any of the cache's threads (a reader's, a committer's,
// the background maintenance thread, the thread destroying the Cache), possibly at once: it
// must be thread-safe. It must not call the Cache (it may run while the cache holds a lock) and
// should return quickly; it must not throw.
#ifndef WALCACHE_LOG_H_
#define WALCACHE_LOG_H_

#include <cstdint>
#include <functional>
#include <string_view>

#include "walcache/export.h"

namespace walcache {

enum class LogLevel : uint8_t {
  kInfo = 0,     // worth knowing, nothing wrong
  kWarning = 1,  // something went wrong and the cache handled it (a retry, a repair)
  kError = 2,    // an error no call returned (a background failure, a destructor's)
};

// "info", "warning", "error".
WALCACHE_EXPORT std::string_view LogLevelName(LogLevel level);

// Receives one message: a sentence naming the cache directory first, without a trailing newline.
using LogFunction = std::function<void(LogLevel level, std::string_view message)>;

}  // namespace walcache

#endif  // WALCACHE_LOG_H_

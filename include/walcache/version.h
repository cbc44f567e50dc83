// The version of the walcache library, as compiled into it (not into the caller).
// Thread-safe.
#ifndef WALCACHE_VERSION_H_
#define WALCACHE_VERSION_H_

#include <string_view>

#include "walcache/export.h"
namespace walcache {

// "MAJOR.MINOR.PATCH" of the linked library.
WALCACHE_EXPORT std::string_view Version();

// The newest WAL format version this build writes and reads (see docs/wal-format.md).
WALCACHE_EXPORT int WalFormatVersion();

}  // namespace walcache

#endif  // WALCACHE_VERSION_H_

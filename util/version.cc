// Version strings compiled into the library. Thread-safe.
#include "walcache/version.h"

#include "wal/format.h"

namespace walcache {

std::string_view Version() { return "0.1.0"; }

int WalFormatVersion() { return static_cast<int>(wal::kFormatVersion); }

}  // namespace walcache

// Version strings compiled into the library; in wal/ because the WAL format version is one of
// them (util/ may not include wal/). Thread-safe.
#include "walcache/version.h"

#include "wal/format.h"

namespace walcache {

std::string_view Version() { return "0.1.0"; }

int WalFormatVersion() { return static_cast<int>(wal::kFormatVersion); }

}  // namespace walcache

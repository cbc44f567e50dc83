// Seams: the file systems an engine runs over, passed in at open — as LevelDB passes
// Options::env — so that a test or the crash checker can wrap the real ones (a fault layer, a
// power-loss layer) for one cache, with nothing process-wide to set and forget. Users open a
// Cache with Cache::Open, which runs over the real ones.
//
// Thread-safety: a plain value; the file systems it names must be thread-safe and outlive every
// cache opened over them.
#ifndef WALCACHE_ENGINE_SEAMS_H_
#define WALCACHE_ENGINE_SEAMS_H_

#include <rocksdb/file_system.h>

#include <memory>
#include <string>

#include "util/file_system.h"
#include "walcache/cache.h"
#include "walcache/options.h"

namespace walcache::engine {

struct Seams {
  FileSystem* fs = nullptr;                       // walcache's own files; null: POSIX
  std::shared_ptr<rocksdb::FileSystem> rocks_fs;  // RocksDB's files; null: RocksDB's default
};

// Cache::Open over `seams`.
class CacheOpener {
 public:
  static Result<std::unique_ptr<Cache>> Open(const std::string& dir, const Options& options,
                                             const Seams& seams);
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_SEAMS_H_

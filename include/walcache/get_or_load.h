// SPDX-License-Identifier: Apache-2.0
// The types of Cache::GetOrLoad: a read that, on a miss, runs a loader once for all the callers
// missing on the same key, and stores what it loaded only if every source it read is still at
// the updateId it read (so a fill racing an invalidation never stores stale data).
//
//   auto page = cache->GetOrLoad("page:7", [&](walcache::LoadContext& ctx)
//                                              -> walcache::Result<std::string> {
//     auto user = ctx.Get("user:7");          // read, and recorded as a source
//     if (!user) return user.status();
//     return Render(user->value);
//   }, {.ttl_ms = 60'000});
//
// Thread-safety: a LoadContext belongs to the loader's call; the rest are plain values.
#ifndef WALCACHE_GET_OR_LOAD_H_
#define WALCACHE_GET_OR_LOAD_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "walcache/durability.h"
#include "walcache/export.h"
#include "walcache/result.h"
#include "walcache/types.h"

namespace walcache {

class Cache;

// What a loader reads its sources through. Each source read becomes a related key of the
// loaded entry, at the updateId read.
class WALCACHE_EXPORT LoadContext {
 public:
  LoadContext(const LoadContext&) = delete;
  LoadContext& operator=(const LoadContext&) = delete;

  // Cache::Get(key), recording `key` at the updateId read as a source of the loaded entry.
  // NotFound is recorded too: a value loaded after a source was found absent is returned but
  // not stored (nothing could invalidate it when the source appears).
  Result<Entry> Get(std::string_view key);
  // The sources read so far, in the order first read.
  const std::vector<RelatedKey>& sources() const { return sources_; }

 private:
  friend class Cache;
  explicit LoadContext(Cache* cache) : cache_(cache) {}
  Cache* const cache_;
  std::vector<RelatedKey> sources_;
  bool read_absent_ = false;  // a source was absent, or read at two updateIds
};

// Returns the value to store under the key, or an error, which GetOrLoad returns (and does not
// cache) to this caller and to every caller waiting on this load.
using Loader = std::function<Result<std::string>(LoadContext& ctx)>;

struct LoadOptions {
  // TTL of the stored entry (0: none); clamped to its sources' expiry like any derived entry.
  uint64_t ttl_ms = 0;
  // How many times one GetOrLoad may run the loader when sources change while it runs (each
  // change makes the commit conflict). At least 1. After the last, the value is returned
  // without being stored.
  int max_loads = 3;
  // Durability of the fill's commit; the cache's default if empty.
  std::optional<Durability> durability = std::nullopt;
};

struct Loaded {
  // The entry. If `stored`, as the cache holds it (update_id, expiry and related keys
  // included); otherwise the loaded value, update_id 0, and the sources it read as `related`.
  Entry entry;
  // The value came from a loader (this call's, or the one of a concurrent caller it waited for);
  // false for a hit.
  bool loaded = false;
  // `entry` was live in the cache when GetOrLoad returned it: a hit, or a fill that committed.
  bool stored = false;
  // The updateId of the fill that the load (this call's, or the one it waited for) committed;
  // 0 if none did. Set even when a later transaction replaced or removed the fill before it was
  // read back (then `entry` is that newer state, or unstored).
  uint64_t filled = 0;
};

}  // namespace walcache

#endif  // WALCACHE_GET_OR_LOAD_H_

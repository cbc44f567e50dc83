// BatchEffects: what a logged transaction does to the state, as a pure function of its WAL batch
// and the state before it. Replay (the engine's recovery) and the tools' read-only view of a
// directory both use it, so they agree by construction.
//
// Thread-safety: a pure function; `prior` is called on the caller's thread.
#ifndef WALCACHE_ENGINE_BATCH_EFFECTS_H_
#define WALCACHE_ENGINE_BATCH_EFFECTS_H_

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "engine/entry.h"
#include "wal/batch.h"

namespace walcache::engine {

// key -> its entry after the transaction, or empty for deleted/invalidated.
using Effects = std::map<std::string, std::optional<Entry>>;

// Fills *out with the effects of `batch` logged at `seq`. Only Touch reads prior state: `prior`
// returns a key's entry before the transaction (expired ones included), or empty.
Status BatchEffects(uint64_t seq, const wal::Batch& batch,
                    const std::function<Result<std::optional<Entry>>(const std::string&)>& prior,
                    Effects* out);

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_BATCH_EFFECTS_H_

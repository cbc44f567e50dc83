// The replay sink: Open replays each WAL record after the checkpoint through Apply, which
// installs what BatchEffects says the record does (see cache_impl.h).
#include "engine/batch_effects.h"
#include "engine/cache_impl.h"
#include "util/status_macros.h"

namespace walcache::engine {

Status CacheImpl::Apply(uint64_t seq, const wal::Batch& batch) {
  Effects effects;
  WALCACHE_RETURN_IF_ERROR(BatchEffects(
      seq, batch,
      [this](const std::string& key) {
        return ReadThrough(key, View::kLatest, /*cache=*/false);  // expired ones included
      },
      &effects));
  {
    MutexLock l(&commit_mu_);  // replay runs before any commit; the lock is for the analysis
    Install(std::move(effects), seq);
  }
  tracker_->Done(seq);
  return Status::OK();
}

}  // namespace walcache::engine

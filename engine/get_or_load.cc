// SPDX-License-Identifier: Apache-2.0
// Cache::GetOrLoad and LoadContext (include/walcache/get_or_load.h): a miss runs the loader
// once for all the callers missing on the key (engine/single_flight.h); the fill is an ordinary
// transaction whose Expects and related keys make it conflict, and store nothing, if a source
// or the key changed while the loader ran. A caller that joined a load begun before its miss
// takes that load's outcome only while it is current (Cache::GetOrLoad below).
//
// Thread-safety: as Cache; a LoadContext is used by the loader's thread only.
#include <algorithm>
#include <string>

#include "engine/cache_impl.h"
#include "util/injected_bug.h"
#include "util/kill_point.h"
#include "walcache/cache.h"

namespace walcache {

Result<Entry> LoadContext::Get(std::string_view key) {
  Result<Entry> e = cache_->Get(key);
  auto seen = std::find_if(sources_.begin(), sources_.end(),
                           [&](const RelatedKey& r) { return r.key == key; });
  if (!e.ok()) {
    if (e.status().IsNotFound()) read_absent_ = true;
    return e;
  }
  if (seen == sources_.end()) {
    sources_.push_back(RelatedKey{std::string(key), e->update_id});
  } else if (seen->update_id != e->update_id) {
    read_absent_ = true;  // it changed between two reads: the value mixes two states
  }
  return e;
}

Result<Loaded> Cache::GetOrLoad(std::string_view key, const Loader& loader, LoadOptions options) {
  if (impl_ == nullptr) return Status::Aborted("GetOrLoad: the Cache is closed");
  if (key.empty()) return Status::InvalidArgument("GetOrLoad of an empty key");
  if (options.max_loads < 1) {
    return Status::InvalidArgument("GetOrLoad: max_loads must be at least 1");
  }
  Result<Entry> hit = Get(key);
  if (hit.ok()) return Loaded{std::move(hit).value(), false, true};
  if (!hit.status().IsNotFound()) return hit.status();

  auto lead = [&]() -> Result<Loaded> {
    Loaded last;
    for (int attempt = 0; attempt < options.max_loads; ++attempt) {
      // Another caller may have filled it, or a writer written it, since the miss.
      Result<Entry> again = Get(key);
      if (again.ok()) return Loaded{std::move(again).value(), attempt > 0, true};
      if (!again.status().IsNotFound()) return again.status();

      LoadContext ctx(this);
      Result<std::string> value = loader(ctx);
      if (!value.ok()) return value.status();
      last = Loaded{Entry{std::move(value).value(), 0, 0, ctx.sources()}, true, false};
      if (ctx.read_absent_) return last;  // nothing could invalidate it later: never stored

      Transaction txn = Begin();
      txn.ExpectAbsent(key);
      if (BugInjected(InjectedBug::kFillWithoutSources)) {  // planted: a fill that can go stale
        txn.Put(key, last.entry.value, {.ttl_ms = options.ttl_ms});
      } else {
        for (const RelatedKey& r : ctx.sources()) txn.Expect(r.key, r.update_id);
        txn.Put(key, last.entry.value, {.ttl_ms = options.ttl_ms, .related = ctx.sources()});
      }
      Result<uint64_t> id = txn.Commit(options.durability);
      if (id.ok()) {
        last.filled = *id;
        Result<Entry> stored = Get(key);
        WALCACHE_KILL_POINT(kEngineFillReadBack);
        if (stored.ok()) return Loaded{std::move(stored).value(), true, true, *id};
        if (!stored.status().IsNotFound()) return stored.status();
        return last;  // gone already (deleted, invalidated or expired): returned, not stored
      }
      if (!id.status().IsConflict()) return id.status();
      // A source or the key changed while the loader ran: load again from the new state.
    }
    return last;
  };
  // A caller that waited for another's load may have missed after a write that the load, begun
  // earlier, did not see: the load's entry is its answer only if the cache still holds it (or
  // what replaced it) now.
  bool led = false;
  Result<Loaded> r = impl_->flights().Do(key, lead, &led);
  if (led || !r.ok() || BugInjected(InjectedBug::kFollowerTakesStaleLoad)) return r;
  if (r->stored) {
    Result<Entry> now = Get(key);
    if (now.ok()) {
      const bool same = now->update_id == r->filled;
      return Loaded{std::move(now).value(), r->loaded && same, true, r->filled};
    }
    if (!now.status().IsNotFound()) return now.status();
  }
  // Its entry is gone, or it stored nothing: its value may predate a write acknowledged before
  // this call. Run the flight once more: a load this call joins now began after its miss.
  return impl_->flights().Do(key, lead, &led);
}

}  // namespace walcache

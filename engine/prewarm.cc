// Prewarm: after recovery, the most recently updated stored entries are loaded into memory, up to
// Options::prewarm_bytes and what the memory budget has left after replay.
#include <algorithm>
#include <queue>

#include "engine/cache_impl.h"
#include "util/status_macros.h"

namespace walcache::engine {
namespace {

struct Candidate {
  uint64_t update_id;
  size_t charge;
  std::string key;
  Entry entry;
};
struct NewerFirst {  // a min-heap on update_id: the top is the oldest kept
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.update_id > b.update_id;
  }
};

}  // namespace

Status CacheImpl::Prewarm() {
  const size_t room = options_.memory_budget_bytes > mem_->bytes()
                          ? options_.memory_budget_bytes - mem_->bytes()
                          : 0;
  const size_t budget = std::min(options_.prewarm_bytes, room);
  if (budget == 0) return Status::OK();
  const uint64_t now = NowMs();
  std::priority_queue<Candidate, std::vector<Candidate>, NewerFirst> keep;
  size_t kept_bytes = 0;
  WALCACHE_RETURN_IF_ERROR(store_->Scan("", [&](std::string_view key, const Entry& e) {
    if (ExpiredAt(e, now)) return true;
    const size_t charge = MemTable::EntryCharge(key, e);
    if (charge > budget) return true;
    if (kept_bytes + charge > budget && !keep.empty() && keep.top().update_id >= e.update_id) {
      return true;  // older than everything kept, and no room
    }
    keep.push(Candidate{e.update_id, charge, std::string(key), e});
    kept_bytes += charge;
    while (kept_bytes > budget) {
      kept_bytes -= keep.top().charge;
      keep.pop();
    }
    return true;
  }));
  // Oldest first, so the newest are the last to be evicted among equals.
  while (!keep.empty()) {
    Candidate c = std::move(const_cast<Candidate&>(keep.top()));
    keep.pop();
    std::optional<Version> seen;
    const uint64_t gen = mem_->erase_generation(c.key);
    // Keys the WAL replay brought in are newer; Fill leaves them alone.
    if (mem_->Fill(c.key, std::move(c.entry), gen, &seen, /*warm=*/true) ==
        MemTable::FillResult::kCached) {
      recovery_.prewarmed_entries++;
      recovery_.prewarmed_bytes += c.charge;
    }
  }
  return Status::OK();
}

}  // namespace walcache::engine

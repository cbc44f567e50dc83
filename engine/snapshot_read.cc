// The snapshot read path: opening and closing read snapshots, reads in them, and Scan, which
// is a read in a snapshot of its own (see cache_impl.h and snapshots.h).
#include <map>

#include "engine/cache_impl.h"
#include "util/status_macros.h"

namespace walcache::engine {

Result<uint64_t> CacheImpl::OpenSnapshot(SnapshotPin* pin) {
  return snapshots_->Open([&]() -> Result<SnapshotPin> {
    // The view first: its checkpoint C is then at or below the watermark read after it.
    WALCACHE_ASSIGN_OR_RETURN(RocksStore::View view, store_->OpenView());
    pin->view = view.id;
    pin->checkpoint = view.checkpoint_seq;
    pin->seq = tracker_->visible();
    pin->now_ms = NowMs();
    return *pin;
  });
}

void CacheImpl::CloseSnapshot(uint64_t id) {
  const SnapshotPin pin = snapshots_->Close(id);
  if (pin.view != 0) store_->CloseView(pin.view);
}

Result<std::optional<Entry>> CacheImpl::SnapshotGet(const SnapshotPin& pin, std::string_view key) {
  std::optional<Entry> e;
  if (std::optional<Version> v = mem_->ReadAt(key, pin.seq, pin.checkpoint); v.has_value()) {
    e = std::move(v->entry);
  } else {
    WALCACHE_ASSIGN_OR_RETURN(e, store_->GetInView(pin.view, key));
  }
  if (e.has_value() && ExpiredAt(*e, pin.now_ms)) e.reset();
  return e;
}

Status CacheImpl::SnapshotScan(const SnapshotPin& pin, std::string_view prefix,
                               const std::function<bool(std::string_view, const Entry&)>& visit) {
  // Memory answers for the keys changed after the view's checkpoint; the view for the rest.
  std::map<std::string, std::optional<Entry>> merged;
  mem_->ForEachPrefixAt(
      prefix, pin.seq, pin.checkpoint,
      [&](const std::string& key, const Version& v) { merged.emplace(key, v.entry); });
  WALCACHE_RETURN_IF_ERROR(
      store_->ScanInView(pin.view, prefix, [&](std::string_view key, const Entry& e) {
        merged.emplace(std::string(key), e);  // no effect where memory already spoke
        return true;
      }));
  for (const auto& [key, e] : merged) {
    if (!e.has_value() || ExpiredAt(*e, pin.now_ms)) continue;
    if (!visit(key, *e)) break;
  }
  return Status::OK();
}

Status CacheImpl::Scan(std::string_view prefix,
                       const std::function<bool(std::string_view, const Entry&)>& visit) {
  SnapshotPin pin;
  WALCACHE_ASSIGN_OR_RETURN(uint64_t id, OpenSnapshot(&pin));
  const Status s = SnapshotScan(pin, prefix, visit);
  CloseSnapshot(id);
  return s;
}

}  // namespace walcache::engine

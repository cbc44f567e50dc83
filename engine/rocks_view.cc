// RocksStore's read views (see rocks_store.h): RocksDB snapshots with the checkpoint sequence
// each one holds, read from the snapshot itself so the two always agree.
//
// Thread-safety: views_mu_ guards views_ and next_view_; it is taken inside db_mu_ (shared for
// open, close and reads; exclusive in Recover, which ends every view).
#include <string>

#include "engine/rocks_store.h"
#include "engine/store_keys.h"
#include "util/coding.h"
#include "util/status_macros.h"

namespace walcache::engine {

Result<RocksStore::View> RocksStore::OpenView() {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (db_ == nullptr) return Closed();
  const rocksdb::Snapshot* snap = db_->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snap;
  std::string v;
  const rocksdb::Status g = db_->Get(ro, std::string(kMetaCheckpointSeq), &v);
  uint64_t seq = 0;
  if (!g.IsNotFound()) {
    std::string_view in = v;
    if (!g.ok() || !GetFixed64(&in, &seq) || !in.empty()) {
      db_->ReleaseSnapshot(snap);
      if (!g.ok()) return Status::IOError(path_ + ": read checkpoint_seq: " + g.ToString());
      return Status::Corruption(path_ + ": bad checkpoint_seq record");
    }
  }
  std::lock_guard<std::mutex> vl(views_mu_);
  const uint64_t id = next_view_++;
  views_.emplace(id, snap);
  return View{id, seq};
}

void RocksStore::CloseView(uint64_t id) {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  std::lock_guard<std::mutex> vl(views_mu_);
  auto it = views_.find(id);
  if (it == views_.end()) return;  // ended by a reopen
  if (db_ != nullptr) db_->ReleaseSnapshot(it->second);
  views_.erase(it);
}

void RocksStore::EndViews() {
  std::lock_guard<std::mutex> vl(views_mu_);
  if (db_ != nullptr) {
    for (const auto& [id, snap] : views_) db_->ReleaseSnapshot(snap);
  }
  views_.clear();
}

Result<rocksdb::ReadOptions> RocksStore::ViewReadOptions(uint64_t id) const {
  std::lock_guard<std::mutex> vl(views_mu_);
  auto it = views_.find(id);
  if (it == views_.end()) {
    return Status::Aborted(path_ +
                           ": the snapshot ended: the store was reopened after a write error");
  }
  rocksdb::ReadOptions ro;
  ro.snapshot = it->second;
  return ro;
}

Result<std::optional<Entry>> RocksStore::GetInView(uint64_t id, std::string_view key) const {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (db_ == nullptr) return Closed();
  WALCACHE_ASSIGN_OR_RETURN(rocksdb::ReadOptions ro, ViewReadOptions(id));
  return GetWith(ro, key);
}

Status RocksStore::ScanInView(
    uint64_t id, std::string_view prefix,
    const std::function<bool(std::string_view key, const Entry& e)>& visit) const {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (db_ == nullptr) return Closed();
  WALCACHE_ASSIGN_OR_RETURN(rocksdb::ReadOptions ro, ViewReadOptions(id));
  return ScanWith(ro, prefix, visit, nullptr);
}

}  // namespace walcache::engine

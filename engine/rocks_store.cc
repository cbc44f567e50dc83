// RocksStore (see rocks_store.h).
#include "engine/rocks_store.h"

#include <rocksdb/cache.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/table.h>

#include <algorithm>
#include <chrono>

#include "engine/expiry_filter.h"
#include "engine/owner_only_fs.h"
#include "engine/store_keys.h"
#include "util/coding.h"
#include "util/injected_bug.h"
#include "util/kill_point.h"
#include "util/status_macros.h"

namespace walcache::engine {
namespace {

class SilentLogger final : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

// `detail`, if any, follows RocksDB's message.
Status FromRocks(const rocksdb::Status& s, std::string_view what, const std::string& path,
                 const std::string& detail = "") {
  if (s.ok()) return Status::OK();
  std::string msg = std::string(what) + " " + path + ": " + s.ToString() + detail;
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsNotSupported()) return Status::NotSupported(msg);
  if (s.IsBusy() || s.IsTryAgain()) return Status::Busy(msg);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(msg);
  return Status::IOError(msg);
}

// With create_if_missing, RocksDB takes a directory without CURRENT for a new database: it writes
// a fresh MANIFEST and CURRENT even when it then refuses to open (it does, if a log file is
// there), and the next open starts empty and deletes the old tables as obsolete. A store that
// ever held data has a log or table files; there a missing CURRENT is damage, named as such,
// before RocksDB can write anything. (A crash while RocksDB created the store leaves neither.)
Status RefuseNewStoreOverData(rocksdb::Env* env, const std::string& path) {
  if (!env->FileExists(path + "/CURRENT").IsNotFound()) return Status::OK();
  std::vector<std::string> names;
  if (!env->GetChildren(path, &names).ok()) return Status::OK();  // none yet: a new store
  for (const std::string& name : names) {
    if (name.ends_with(".log") || name.ends_with(".sst")) {
      return Status::Corruption(path + "/CURRENT is missing, but the store holds data (" + name +
                                "); not creating a new store over it. CURRENT names the newest "
                                "MANIFEST-* file, on one line");
    }
  }
  return Status::OK();
}

// After a failed open: "; PATH/000012.sst does not open as a table: ..." for each table file of
// the store that does not. RocksDB blames the MANIFEST for a table whose footer is garbage
// ("Corrupt or unsupported format_version ... in file MANIFEST-..."); this names the table.
std::string UnreadableTables(const rocksdb::Options& opts, const std::string& path) {
  std::vector<std::string> names;
  if (!opts.env->GetChildren(path, &names).ok()) return "";
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& name : names) {
    if (!name.ends_with(".sst")) continue;
    rocksdb::SstFileReader table(opts);
    const rocksdb::Status s = table.Open(path + "/" + name);
    if (!s.ok()) out += "; " + path + "/" + name + " does not open as a table: " + s.ToString();
  }
  return out;
}

uint64_t SystemNowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

bool ExpiryFilter::Filter(int level, const rocksdb::Slice& key,
                          const rocksdb::Slice& existing_value, std::string* new_value,
                          bool* value_changed) const {
  if (key.size() == 0 || key[0] != kEntryPrefix) return false;
  uint64_t expires_at = 0;
  if (!PeekExpiresAt(std::string_view(existing_value.data(), existing_value.size()), &expires_at)) {
    return false;  // never drop what cannot be read: a reader will report it
  }
  const uint64_t limit = BugInjected(InjectedBug::kExpiryFilterUsesClock)
                             ? clock_ms_()
                             : horizon_ms_->load(std::memory_order_acquire);
  return expires_at != 0 && expires_at <= limit;
}

void RocksStore::Checkpoint::Put(std::string_view key, const Entry& e) {
  std::string value;
  EncodeEntry(e, &value);
  batch_.Put(EntryKey(key), value);
  ++ops_;
}

void RocksStore::Checkpoint::Delete(std::string_view key) {
  batch_.Delete(EntryKey(key));
  ++ops_;
}

void RocksStore::Checkpoint::AddDependent(std::string_view source, std::string_view dependent) {
  batch_.Put(DependentKey(source, dependent), rocksdb::Slice());
  ++ops_;
  if (marked_.find(source) == marked_.end()) {
    batch_.Put(SourceMarkerKey(source), rocksdb::Slice());
    marked_.emplace(source);
  }
}

void RocksStore::Checkpoint::RemoveDependent(std::string_view source, std::string_view dependent) {
  batch_.Delete(DependentKey(source, dependent));
  ++ops_;
}

std::string RocksStore::RecoveredLogsHint() const {
  if (logs_at_open_.empty()) {
    return "RocksDB found no log of its own (" + path_ +
           "/*.log) to recover checkpoints after seq " + std::to_string(checkpoint_seq()) + " from";
  }
  std::string names;
  for (const std::string& log : logs_at_open_) names += (names.empty() ? "" : ", ") + log;
  return "RocksDB recovered its newest checkpoints from " + names + ", and stopped at seq " +
         std::to_string(checkpoint_seq()) +
         (logs_at_open_.size() == 1 ? ": if that log is damaged" : ": if one of them is damaged") +
         ", the checkpoints after it were lost with it";
}

uint64_t RocksStore::IntProperty(const std::string& name) const {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  uint64_t v = 0;
  return db_ != nullptr && db_->GetIntProperty(name, &v) ? v : 0;
}

Status RocksStore::Closed() const {
  return Status::IOError(path_ + ": the store could not be reopened after a write error; reopen " +
                         "the cache");
}

Result<std::unique_ptr<RocksStore>> RocksStore::Open(const std::string& path,
                                                     const StoreOptions& options) {
  std::unique_ptr<RocksStore> store(new RocksStore());
  store->path_ = path;
  store->read_only_ = options.read_only;
  store->filter_ = std::make_unique<ExpiryFilter>(&store->expiry_horizon_,
                                                  options.now_ms ? options.now_ms : &SystemNowMs);

  rocksdb::Options opts;
  opts.create_if_missing = options.create_if_missing && !options.read_only;
  // Every file and directory RocksDB creates is owner-only, as walcache's own are.
  const std::shared_ptr<rocksdb::FileSystem>& base = options.file_system;
  store->env_ = rocksdb::NewCompositeEnv(
      std::make_shared<OwnerOnlyFs>(base != nullptr ? base : rocksdb::FileSystem::Default()));
  opts.env = store->env_.get();
  // Read-only opens write nothing, not even RocksDB's info LOG (tools inspect live directories).
  if (options.read_only) opts.info_log = std::make_shared<SilentLogger>();
  // RocksDB's info LOG keeps its header only. Debian's librocksdb 7.8 is built with assertions,
  // and once a write to its LOG failed (a full disk), the next line it logs — the error itself —
  // aborts the process (WritableFileWriter::AssertFalseAndGetStatusForPrevError). walcache
  // reports store errors itself: the Status, Stats().checkpoint_error, DIR/CHECKPOINT_FAILED.
  opts.info_log_level = rocksdb::InfoLogLevel::HEADER_LEVEL;
  // Every writable open rolls LOG over to LOG.old.<time>; keep one old one, not one per open.
  opts.keep_log_file_num = 1;
  opts.compaction_filter = store->filter_.get();
  opts.write_buffer_size = options.write_buffer_bytes;
  // A bloom filter over the memtable's whole keys too: a source marker looked up for a key that
  // has none (most writes) costs a filter probe, not a skiplist search (issue 14).
  opts.memtable_whole_key_filtering = true;
  opts.memtable_prefix_bloom_size_ratio = 0.02;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  // Whole-key bloom filters: a point read of a key the store does not hold (a read-through miss,
  // a source marker that is not there) costs no data block.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  store->opts_ = opts;
  if (std::vector<std::string> names; opts.env->GetChildren(path, &names).ok()) {
    for (const std::string& name : names) {
      if (name.ends_with(".log")) store->logs_at_open_.push_back(path + "/" + name);
    }
    std::sort(store->logs_at_open_.begin(), store->logs_at_open_.end());
  }
  if (opts.create_if_missing) {
    WALCACHE_RETURN_IF_ERROR(RefuseNewStoreOverData(opts.env, path));
  }
  // A store made before RocksDB's files were owner-only is narrowed at its first writable open,
  // before RocksDB opens it: once open, its background threads delete obsolete files while the
  // walk runs (a walk after DB::Open failed an open now and then with "stat …sst: No such file").
  if (!options.read_only) WALCACHE_RETURN_IF_ERROR(NarrowExisting(path));
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status s = options.read_only ? rocksdb::DB::OpenForReadOnly(opts, path, &raw)
                                              : rocksdb::DB::Open(opts, path, &raw);
  if (!s.ok()) {
    return FromRocks(s, "open RocksDB store", path,
                     s.IsCorruption() || s.IsIOError() ? UnreadableTables(opts, path) : "");
  }
  store->db_.reset(raw);

  WALCACHE_RETURN_IF_ERROR(store->CheckFormat(options.read_only));
  WALCACHE_RETURN_IF_ERROR(store->ReadCheckpointSeq());
  return store;
}

Status RocksStore::CheckFormat(bool read_only) {
  std::string v;
  const rocksdb::Status g = db_->Get(rocksdb::ReadOptions(), std::string(kMetaFormat), &v);
  if (g.IsNotFound()) {
    if (read_only) return Status::OK();  // an empty store, never opened writable
    std::string enc;
    PutFixed32(&enc, kStoreFormatVersion);
    rocksdb::WriteOptions wo;
    wo.sync = true;
    return FromRocks(db_->Put(wo, std::string(kMetaFormat), enc), "initialise store", path_);
  }
  WALCACHE_RETURN_IF_ERROR(FromRocks(g, "read store format of", path_));
  std::string_view in = v;
  uint32_t format = 0;
  if (!GetFixed32(&in, &format)) return Status::Corruption(path_ + ": bad format record");
  if (format == kStoreFormatVersion) return Status::OK();
  if (format != kStoreFormatWithoutMarkers) {
    return Status::NotSupported(path_ + ": store format version " + std::to_string(format) +
                                "; this build reads versions " +
                                std::to_string(kStoreFormatWithoutMarkers) + " and " +
                                std::to_string(kStoreFormatVersion));
  }
  markers_ = false;  // until the upgrade below: Dependents seeks for every source
  if (read_only) return Status::OK();
  return AddSourceMarkers();
}

Status RocksStore::AddSourceMarkers() {
  // One pass over the stored index (once in a store's life). Markers are written in batches; a
  // crash before the format record leaves version 1, and the next open writes them again.
  rocksdb::WriteBatch batch;
  std::string last;
  bool any = false;
  Status s = ForEachDependent([&](std::string_view source, std::string_view) {
    if (any && source == last) return;
    any = true;
    last.assign(source);
    batch.Put(SourceMarkerKey(source), rocksdb::Slice());
  });
  WALCACHE_RETURN_IF_ERROR(s);
  std::string enc;
  PutFixed32(&enc, kStoreFormatVersion);
  batch.Put(std::string(kMetaFormat), enc);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  WALCACHE_RETURN_IF_ERROR(
      FromRocks(db_->Write(wo, &batch), "upgrade to store format 2 (source markers)", path_));
  markers_ = true;
  return Status::OK();
}

Status RocksStore::ReadCheckpointSeq() {
  std::string v;
  const rocksdb::Status g = db_->Get(rocksdb::ReadOptions(), std::string(kMetaCheckpointSeq), &v);
  if (g.IsNotFound()) {
    checkpoint_seq_ = 0;
    return Status::OK();
  }
  WALCACHE_RETURN_IF_ERROR(FromRocks(g, "read checkpoint_seq of", path_));
  std::string_view in = v;
  uint64_t seq = 0;
  if (!GetFixed64(&in, &seq) || !in.empty()) {
    return Status::Corruption(path_ + ": bad checkpoint_seq record");
  }
  // The horizon came with the checkpoint that wrote it; a store from before it has none, and
  // then the filter drops nothing until the next checkpoint.
  std::string h;
  const rocksdb::Status hg = db_->Get(rocksdb::ReadOptions(), std::string(kMetaExpiryHorizon), &h);
  uint64_t horizon = 0;
  if (!hg.IsNotFound()) {
    WALCACHE_RETURN_IF_ERROR(FromRocks(hg, "read expiry_horizon of", path_));
    std::string_view hin = h;
    if (!GetFixed64(&hin, &horizon) || !hin.empty()) {
      return Status::Corruption(path_ + ": bad expiry_horizon record");
    }
  }
  checkpoint_seq_ = seq;
  expiry_horizon_.store(horizon, std::memory_order_release);
  return Status::OK();
}

Status RocksStore::Recover() {
  {
    std::shared_lock<std::shared_mutex> l(db_mu_);
    if (db_ != nullptr && db_->Resume().ok()) return Status::OK();
  }
  // RocksDB treats a failed write of its own WAL as fatal: only a reopen clears it. The DB
  // recovers whatever of the failed write is intact; either way the checkpoint sequence says
  // which state it holds.
  std::unique_lock<std::shared_mutex> l(db_mu_);
  EndViews();  // their snapshots belong to the DB that goes
  if (db_ != nullptr) (void)db_->Close();
  db_.reset();
  rocksdb::DB* raw = nullptr;
  WALCACHE_RETURN_IF_ERROR(
      FromRocks(rocksdb::DB::Open(opts_, path_, &raw), "reopen after a write error", path_));
  db_.reset(raw);
  return ReadCheckpointSeq();
}

RocksStore::~RocksStore() { (void)Close(); }

Status RocksStore::Close() {
  std::unique_lock<std::shared_mutex> l(db_mu_);
  EndViews();
  if (db_ == nullptr) return Status::OK();
  const rocksdb::Status s = db_->Close();
  db_.reset();  // before filter_, which the DB points to
  return FromRocks(s, "close", path_);
}

Result<std::optional<Entry>> RocksStore::Get(std::string_view key) const {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (db_ == nullptr) return Closed();
  return GetWith(rocksdb::ReadOptions(), key);
}

Result<std::optional<Entry>> RocksStore::GetWith(const rocksdb::ReadOptions& ro,
                                                 std::string_view key) const {
  std::string v;
  const rocksdb::Status s = db_->Get(ro, EntryKey(key), &v);
  if (s.IsNotFound()) return std::optional<Entry>();
  WALCACHE_RETURN_IF_ERROR(FromRocks(s, "read", path_));
  Result<Entry> e = DecodeEntry(v);
  if (!e.ok()) return e.status().WithContext(path_ + ": key '" + std::string(key) + "'");
  return std::optional<Entry>(std::move(e).value());
}

Result<std::vector<std::string>> RocksStore::Dependents(std::string_view source) const {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (db_ == nullptr) return Closed();
  std::vector<std::string> out;
  if (markers_) {
    std::string unused;
    const rocksdb::Status m = db_->Get(rocksdb::ReadOptions(), SourceMarkerKey(source), &unused);
    if (m.IsNotFound()) return out;
    WALCACHE_RETURN_IF_ERROR(FromRocks(m, "read source marker in", path_));
  }
  dependent_seeks_.fetch_add(1, std::memory_order_relaxed);
  const std::string prefix = DependentPrefix(source);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    out.emplace_back(it->key().data() + prefix.size(), it->key().size() - prefix.size());
  }
  WALCACHE_RETURN_IF_ERROR(FromRocks(it->status(), "scan dependents in", path_));
  return out;
}

Result<uint64_t> RocksStore::CountSourceMarkers() const {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (db_ == nullptr) return Closed();
  const std::string start(1, kSourceMarkerPrefix);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  uint64_t n = 0;
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) ++n;
  WALCACHE_RETURN_IF_ERROR(FromRocks(it->status(), "count source markers in", path_));
  return n;
}

Status RocksStore::ForEachDependent(
    const std::function<void(std::string_view, std::string_view)>& visit) const {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (db_ == nullptr) return Closed();
  const std::string start(1, kDependentPrefix);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    std::string_view rest(it->key().data() + 1, it->key().size() - 1);
    std::string_view source;
    if (!GetLengthPrefixed(&rest, &source)) {
      return Status::Corruption(path_ + ": malformed reverse-index key");
    }
    visit(source, rest);
  }
  return FromRocks(it->status(), "scan reverse index in", path_);
}

Status RocksStore::Scan(std::string_view prefix,
                        const std::function<bool(std::string_view, const Entry&)>& visit,
                        const OnDamaged& on_damaged) const {
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (db_ == nullptr) return Closed();
  return ScanWith(rocksdb::ReadOptions(), prefix, visit, on_damaged);
}

Status RocksStore::ScanWith(const rocksdb::ReadOptions& ro, std::string_view prefix,
                            const std::function<bool(std::string_view, const Entry&)>& visit,
                            const OnDamaged& on_damaged) const {
  const std::string start = EntryKey(prefix);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro));
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next()) {
    const std::string_view key(it->key().data() + 1, it->key().size() - 1);
    Result<Entry> e = DecodeEntry(std::string_view(it->value().data(), it->value().size()));
    if (!e.ok()) {
      Status bad = e.status().WithContext(path_ + ": key '" + std::string(key) + "'");
      if (!on_damaged) return bad;
      on_damaged(key, bad);
      continue;
    }
    if (!visit(key, *e)) break;
  }
  return FromRocks(it->status(), "scan", path_);
}

Status RocksStore::Apply(Checkpoint cp, uint64_t seq, uint64_t expiry_horizon_ms) {
  if (read_only_) return Status::Aborted(path_ + ": store is open read-only");
  if (seq < checkpoint_seq()) {
    return Status::InvalidArgument("checkpoint seq " + std::to_string(seq) + " is older than " +
                                   std::to_string(checkpoint_seq()));
  }
  if (needs_resume_) {
    WALCACHE_RETURN_IF_ERROR(Recover());
    needs_resume_ = false;
  }
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (db_ == nullptr) return Closed();
  std::string enc;
  PutFixed64(&enc, seq);
  rocksdb::WriteOptions wo;
  wo.sync = true;  // RocksDB's WAL is on: the batch is durable, and atomic, when Write returns
  if (BugInjected(InjectedBug::kCheckpointWithoutSync)) wo.sync = false;
  if (BugInjected(InjectedBug::kCheckpointMarkerBeforeData)) {
    WALCACHE_RETURN_IF_ERROR(FromRocks(db_->Put(wo, std::string(kMetaCheckpointSeq), enc),
                                       "checkpoint marker into", path_));
    WALCACHE_KILL_POINT(kCheckpointMarkerWritten);
  }
  cp.batch_.Put(std::string(kMetaCheckpointSeq), enc);
  // Never backwards: the old horizon still bounds every record after the new checkpoint.
  const uint64_t horizon = std::max(expiry_horizon_ms, expiry_horizon());
  std::string henc;
  PutFixed64(&henc, horizon);
  cp.batch_.Put(std::string(kMetaExpiryHorizon), henc);
  const Status w = FromRocks(db_->Write(wo, &cp.batch_), "checkpoint into", path_);
  if (!w.ok()) {
    needs_resume_ = true;
    return w;
  }
  checkpoint_seq_ = seq;
  // Only now, with the checkpoint durable, may compactions drop what expired before it.
  expiry_horizon_.store(horizon, std::memory_order_release);
  return Status::OK();
}

Status RocksStore::CompactAll() {
  if (read_only_) return Status::Aborted(path_ + ": store is open read-only");
  std::shared_lock<std::shared_mutex> l(db_mu_);
  if (db_ == nullptr) return Closed();
  rocksdb::CompactRangeOptions o;
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  return FromRocks(db_->CompactRange(o, nullptr, nullptr), "compact", path_);
}

}  // namespace walcache::engine

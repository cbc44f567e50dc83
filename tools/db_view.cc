// DbView (see db_view.h).
#include "tools/db_view.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "util/status_macros.h"
#include "wal/format.h"

namespace walcache::tools {

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

namespace {

// What a read found, when it is not a clean view: equal strings for two reads mean the same
// damage at the same place.
std::string Finding(const Result<std::unique_ptr<DbView>>& r) {
  if (!r.ok()) return "error: " + r.status().ToString();
  const DbView& v = **r;
  if (!v.wal_error().ok()) return "wal: " + v.wal_error().ToString();
  const wal::TailReport& t = v.tail();
  if (t.state == wal::TailState::kTorn) {
    return "torn: " + t.file + ":" + std::to_string(t.valid_end) + "+" +
           std::to_string(t.dropped_bytes);
  }
  return "";
}

constexpr int kMaxReads = 12;  // a live view that never settles is reported as found last

}  // namespace

Result<std::unique_ptr<DbView>> DbView::Open(const std::string& dir, bool keep_records,
                                             ProgressLine* progress) {
  std::string holder = LockHolder(dir);
  Result<std::unique_ptr<DbView>> r = OpenOnce(dir, keep_records, progress);
  std::string found = Finding(r);
  if (holder.empty()) holder = LockHolder(dir);  // a writer may have come meanwhile
  int reads = 1;
  // A quiet directory is read once. A held one is read again while what it shows is not clean
  // and differs from the read before: a writer's appends, rotations and checkpoints move it.
  std::string previous;
  bool settled = found.empty() || holder.empty();
  while (!settled && reads < kMaxReads) {
    previous = found;
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * std::min(reads, 5)));
    r = OpenOnce(dir, keep_records, progress);
    ++reads;
    found = Finding(r);
    settled = found.empty() || found == previous;
  }
  if (!r.ok()) return r;
  DbView& v = **r;
  v.holder_ = holder;
  v.reads_ = reads;
  // Torn at a different place on every read: the writer's appends, not damage.
  if (!settled && v.wal_error_.ok() && v.tail_.state == wal::TailState::kTorn) {
    v.tail_.state = wal::TailState::kClean;
    v.tail_.in_progress = true;
    v.tail_.dropped_bytes = 0;
    v.tail_.detail = "the tail moved on every one of " + std::to_string(reads) + " reads";
  }
  return r;
}

Result<std::unique_ptr<DbView>> DbView::OpenOnce(const std::string& dir, bool keep_records,
                                                 ProgressLine* progress) {
  FileSystem* fs = FileSystem::Posix();
  Status e = fs->Exists(dir);
  if (e.IsNotFound()) return Status::NotFound(dir + ": no such directory");
  WALCACHE_RETURN_IF_ERROR(e);
  Status rocks = fs->Exists(JoinPath(dir, "rocksdb"));
  if (!rocks.ok() && rocks.sys_errno() == ENOTDIR) {
    return Status::InvalidArgument(dir + " is a file, not a cache directory");
  }
  if (rocks.IsNotFound()) {
    return Status::InvalidArgument(dir + " is not a walcache directory (it has no rocksdb/)");
  }
  WALCACHE_RETURN_IF_ERROR(rocks);  // e.g. permission denied: say so, not "foreign"
  std::unique_ptr<DbView> v(new DbView());
  v->dir_ = dir;
  engine::StoreOptions so;
  so.create_if_missing = false;
  so.read_only = true;
  so.block_cache_bytes = 8 << 20;
  WALCACHE_ASSIGN_OR_RETURN(v->store_, engine::RocksStore::Open(JoinPath(dir, "rocksdb"), so));
  WALCACHE_RETURN_IF_ERROR(v->ReadWal(keep_records, progress));
  return v;
}

Status DbView::ReadWal(bool keep_records, ProgressLine* progress) {
  const uint64_t s0 = store_->checkpoint_seq();
  last_seq_ = s0;
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<wal::Reader> reader,
                            wal::Reader::Open(FileSystem::Posix(), JoinPath(dir_, "wal")));
  wal::WalRecord rec;
  uint64_t read = 0;
  while (true) {
    Result<bool> more = reader->Next(&rec);
    if (!more.ok()) {
      wal_error_ = more.status();
      break;
    }
    if (!*more) break;
    if (progress != nullptr) progress->Update(++read, "WAL records read");
    Result<wal::Batch> batch = wal::Batch::Decode(rec.batch);
    if (!batch.ok()) {  // the CRC held, so the writer wrote it so: corrupt all the same
      wal_error_ =
          batch.status().WithContext(rec.file + " at offset " + std::to_string(rec.offset));
      break;
    }
    if (keep_records) {
      WalRecordInfo info;
      info.file = RelativeTo(dir_, rec.file);
      info.offset = rec.offset;
      info.length = wal::kRecordHeaderSize + rec.stored_bytes;
      info.seq = rec.seq;
      info.ops = batch->ops().size();
      for (const wal::Op& op : batch->ops()) info.keys.push_back(op.key);
      info.raw_bytes = rec.batch.size();
      info.stored_bytes = rec.stored_bytes;
      info.compressed = rec.compressed;
      records_.push_back(std::move(info));
    }
    if (rec.seq <= s0) continue;  // the checkpoint holds it already
    engine::Effects fx;
    WALCACHE_RETURN_IF_ERROR(engine::BatchEffects(
        rec.seq, *batch, [this](const std::string& k) { return Get(k); }, &fx));
    for (auto& [k, v] : fx) overlay_[k] = std::move(v);
    last_seq_ = rec.seq;
    ++replayed_;
  }
  tail_ = reader->tail();
  segments_ = reader->segments();
  // The next open replays from checkpoint_seq + 1 and refuses a WAL that starts after it.
  if (wal_error_.ok() && !segments_.empty()) {
    wal_error_ = wal::CheckWalHoldsFrom(segments_.front(), s0 + 1)
                     .WithContext(JoinPath(dir_, "rocksdb") + " holds the checkpoint at seq " +
                                  std::to_string(s0));
    if (!wal_error_.ok()) {
      wal_error_ = Status::Corruption(wal_error_.message() + "; " + store_->RecoveredLogsHint());
    }
  }
  return Status::OK();
}

Result<std::optional<Entry>> DbView::Get(const std::string& key) const {
  auto it = overlay_.find(key);
  if (it != overlay_.end()) return it->second;
  return store_->Get(key);
}

Status DbView::Scan(const std::string& prefix,
                    const std::function<bool(const std::string&, const Entry&)>& visit,
                    const engine::RocksStore::OnDamaged& on_damaged) const {
  // Merge RocksDB's keys with the overlay's, both in order; the overlay wins on equal keys.
  auto it = overlay_.lower_bound(prefix);
  auto in_prefix = [&] { return it != overlay_.end() && it->first.starts_with(prefix); };
  bool go = true;
  auto overlay_below = [&](const std::string* bound) {
    for (; go && in_prefix() && (bound == nullptr || it->first < *bound); ++it) {
      if (it->second.has_value()) go = visit(it->first, *it->second);
    }
  };
  WALCACHE_RETURN_IF_ERROR(store_->Scan(
      prefix,
      [&](std::string_view k, const Entry& e) {
        const std::string key(k);
        overlay_below(&key);
        if (!go) return false;
        if (in_prefix() && it->first == key) {
          if (it->second.has_value()) go = visit(key, *it->second);
          ++it;
        } else {
          go = visit(key, e);
        }
        return go;
      },
      on_damaged));
  overlay_below(nullptr);
  return Status::OK();
}

std::string RelativeTo(const std::string& dir, const std::string& path) {
  if (!path.starts_with(dir)) return path;
  std::string r = path.substr(dir.size());
  while (!r.empty() && r.front() == '/') r.erase(0, 1);
  return r;
}

Result<IndexDiff> DiffDependentsIndex(const engine::RocksStore& store) {
  IndexDiff d;
  std::set<IndexEdge> have, need;
  WALCACHE_RETURN_IF_ERROR(store.ForEachDependent([&](std::string_view src, std::string_view dep) {
    have.emplace(std::string(src), std::string(dep));
  }));
  WALCACHE_RETURN_IF_ERROR(store.Scan(
      "",
      [&](std::string_view key, const Entry& e) {
        for (const RelatedKey& r : e.related) need.emplace(r.key, std::string(key));
        return true;
      },
      [](std::string_view, const Status&) {}));
  d.edges = have.size();
  std::set_difference(have.begin(), have.end(), need.begin(), need.end(),
                      std::inserter(d.stale, d.stale.end()));
  std::set_difference(need.begin(), need.end(), have.begin(), have.end(),
                      std::inserter(d.missing, d.missing.end()));
  return d;
}

std::string HeldBy(const DbView& v) {
  return v.holder().empty() ? "" : " (" + v.holder() + " holds the directory)";
}

std::string InProgressNote(const DbView& v, std::string_view cmd) {
  const wal::TailReport& t = v.tail();
  return "WAL tail: " + (v.holder().empty() ? std::string("a writer") : v.holder()) +
         " was appending at " + RelativeTo(v.dir(), t.file) + ":" + std::to_string(t.valid_end) +
         " while " + std::string(cmd) + " read the log; what it wrote from there on came after " +
         std::string(cmd) + " started and is not shown";
}

std::string TailWord(const wal::TailReport& t) {
  return t.in_progress ? "in progress" : std::string(wal::TailStateName(t.state));
}

std::string LockHolder(const std::string& dir) {
  struct stat st;
  if (::stat(JoinPath(dir, "LOCK").c_str(), &st) != 0) return "";
  // /proc/locks: "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF" (pid, then maj:min:inode).
  std::ifstream locks("/proc/locks");
  std::string line;
  while (std::getline(locks, line)) {
    std::istringstream in(line);
    std::string id, kind, advisory, mode, pid, where;
    if (!(in >> id >> kind)) continue;
    if (kind == "->") in >> kind;  // a blocked waiter
    if (!(in >> advisory >> mode >> pid >> where)) continue;
    if (kind != "FLOCK") continue;
    const size_t colon = where.rfind(':');
    if (colon == std::string::npos) continue;
    if (where.substr(colon + 1) == std::to_string(st.st_ino)) return "pid " + pid;
  }
  return "";
}

}  // namespace walcache::tools

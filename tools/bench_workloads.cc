// `walcache bench` workloads (see bench_workloads.h).
#include "tools/bench_workloads.h"

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/statistics.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "tools/bench_util.h"
#include "util/status_macros.h"
#include "wal/batch.h"
#include "wal/reader.h"
#include "wal/segment.h"
#include "wal/writer.h"

namespace walcache::tools {
namespace {

std::string KeyFor(int thread, uint64_t i) {
  return "bench:" + std::to_string(thread) + ":" + std::to_string(i);
}

}  // namespace

Result<WorkloadResult> RunWalWorkload(FileSystem* fs, const std::string& dir,
                                      const WorkloadSpec& spec) {
  const std::string wal_dir = JoinPath(dir, "wal");
  wal::WriterOptions opts;
  opts.segment_size = spec.segment_size;
  opts.compression.enabled = spec.compression;
  opts.max_group_wait = std::chrono::microseconds(spec.group_wait_us);
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<wal::Writer> writer,
                            wal::Writer::Open(fs, wal_dir, opts, 1));

  // Values are prepared up front so the timed loop measures the WAL, not the generator.
  std::vector<std::string> values(spec.threads);
  for (int t = 0; t < spec.threads; ++t) {
    std::mt19937_64 rng(static_cast<uint64_t>(t) + 1);
    values[t] = ValueFor(&rng, spec.value_size);
  }
  WorkloadResult r;
  std::vector<double> lat;
  WALCACHE_RETURN_IF_ERROR(
      RunThreads(spec.threads, spec.ops, &lat, &r.seconds, [&](int t, uint64_t i) -> Status {
        wal::Batch b;
        b.Put(KeyFor(t, i), values[t]);
        return writer->Append(b.Encode(), spec.durability).status();
      }));
  WALCACHE_RETURN_IF_ERROR(writer->Close());
  const wal::WriterStats ws = writer->stats();
  r.ops = lat.size();
  r.fsyncs = ws.fsyncs;
  r.groups = ws.groups;
  r.bytes = ws.record_bytes;
  r.segments = ws.segments_created;
  r.gathers = ws.gathers;
  r.overlapped_writes = ws.overlapped_writes;
  r.chained_syncs = ws.chained_syncs;
  Percentiles(&lat, &r);

  // Round trip: every record is back, dense from seq 1, and each batch is one of ours.
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<wal::Reader> reader, wal::Reader::Open(fs, wal_dir));
  std::vector<uint64_t> next_index(spec.threads, 0);
  wal::WalRecord rec;
  while (true) {
    WALCACHE_ASSIGN_OR_RETURN(bool more, reader->Next(&rec));
    if (!more) break;
    if (rec.seq != r.verified + 1) {
      return Status::Corruption("read back seq " + std::to_string(rec.seq) + " where " +
                                std::to_string(r.verified + 1) + " belongs");
    }
    WALCACHE_ASSIGN_OR_RETURN(wal::Batch b, wal::Batch::Decode(rec.batch));
    const std::string& key = b.ops().empty() ? std::string() : b.ops()[0].key;
    // Keys of one thread appear in the order that thread appended them.
    // Keys are "bench:<thread>:<index>" (KeyFor).
    int t = -1;
    if (key.starts_with("bench:")) {
      std::from_chars(key.data() + 6, key.data() + key.size(), t);
    }
    if (b.size() != 1 || t < 0 || t >= spec.threads || key != KeyFor(t, next_index[t]) ||
        b.ops()[0].value != values[t]) {
      return Status::Corruption("record seq " + std::to_string(rec.seq) + " holds an unexpected " +
                                "batch (key '" + key + "')");
    }
    ++next_index[t];
    ++r.verified;
  }
  if (reader->tail().state != wal::TailState::kClean || r.verified != r.ops) {
    return Status::Corruption("read back " + std::to_string(r.verified) + " of " +
                              std::to_string(r.ops) + " records; tail " +
                              std::string(wal::TailStateName(reader->tail().state)));
  }
  return r;
}

Result<WorkloadResult> RunRocksDbWorkload(const std::string& dir, const WorkloadSpec& spec) {
  const std::string path = JoinPath(dir, "rocksdb");
  rocksdb::Options options;
  options.create_if_missing = true;
  options.statistics = rocksdb::CreateDBStatistics();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status rs = rocksdb::DB::Open(options, path, &raw);
  if (!rs.ok()) return Status::IOError("RocksDB open " + path + ": " + rs.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::vector<std::string> values(spec.threads);
  for (int t = 0; t < spec.threads; ++t) {
    std::mt19937_64 rng(static_cast<uint64_t>(t) + 1);
    values[t] = ValueFor(&rng, spec.value_size);
  }
  rocksdb::WriteOptions wo;
  wo.sync = spec.durability == Durability::kSync;
  WorkloadResult r;
  std::vector<double> lat;
  WALCACHE_RETURN_IF_ERROR(
      RunThreads(spec.threads, spec.ops, &lat, &r.seconds, [&](int t, uint64_t i) -> Status {
        rocksdb::Status s = db->Put(wo, KeyFor(t, i), values[t]);
        return s.ok() ? Status::OK() : Status::IOError("RocksDB put: " + s.ToString());
      }));
  r.ops = lat.size();
  r.fsyncs = options.statistics->getTickerCount(rocksdb::WAL_FILE_SYNCED);
  r.bytes = options.statistics->getTickerCount(rocksdb::WAL_FILE_BYTES);
  Percentiles(&lat, &r);
  rs = db->Close();
  db.reset();
  if (!rs.ok()) return Status::IOError("RocksDB close: " + rs.ToString());

  rs = rocksdb::DB::Open(options, path, &raw);
  if (!rs.ok()) return Status::IOError("RocksDB reopen " + path + ": " + rs.ToString());
  db.reset(raw);
  for (int t = 0; t < spec.threads; ++t) {
    const uint64_t n =
        spec.ops / spec.threads + (static_cast<uint64_t>(t) < spec.ops % spec.threads);
    for (uint64_t i = 0; i < n; ++i) {
      std::string v;
      rs = db->Get(rocksdb::ReadOptions(), KeyFor(t, i), &v);
      if (!rs.ok() || v != values[t]) {
        return Status::Corruption("RocksDB lost " + KeyFor(t, i) + ": " + rs.ToString());
      }
      ++r.verified;
    }
  }
  return r;
}

Result<WorkloadResult> RunFsyncWorkload(FileSystem* fs, const std::string& dir,
                                        const WorkloadSpec& spec) {
  WALCACHE_RETURN_IF_ERROR(fs->CreateDir(dir));
  const uint64_t per_thread = spec.ops / spec.threads + 1;
  const uint64_t file_bytes = std::max<uint64_t>(per_thread * spec.value_size, 4096);
  std::vector<std::unique_ptr<WritableFile>> files;
  for (int t = 0; t < spec.threads; ++t) {
    WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f,
                              fs->OpenWritable(JoinPath(dir, "fsync-" + std::to_string(t) + ".dat"),
                                               OpenMode::kCreateNew));
    WALCACHE_RETURN_IF_ERROR(f->Allocate(0, file_bytes));
    WALCACHE_RETURN_IF_ERROR(f->Sync());
    files.push_back(std::move(f));
  }
  WALCACHE_RETURN_IF_ERROR(fs->SyncDir(dir));
  const std::string payload(spec.value_size, 'x');
  WorkloadResult r;
  std::vector<double> lat;
  WALCACHE_RETURN_IF_ERROR(
      RunThreads(spec.threads, spec.ops, &lat, &r.seconds, [&](int t, uint64_t i) -> Status {
        WALCACHE_RETURN_IF_ERROR(files[t]->Write(i * spec.value_size, payload));
        return files[t]->Sync();
      }));
  for (auto& f : files) WALCACHE_RETURN_IF_ERROR(f->Close());
  r.ops = lat.size();
  r.fsyncs = r.ops;
  r.bytes = r.ops * spec.value_size;
  Percentiles(&lat, &r);
  return r;
}

}  // namespace walcache::tools

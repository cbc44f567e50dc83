// walcache_microbench: Google Benchmark measurements of the CPU-side costs of the WAL — the
// checksum (hardware and portable), the batch codec, record preparation with LZ4, reading a
// WAL back (the replay rate that bounds recovery), and the group-commit pipeline against a
// disk whose fdatasync takes a fixed time. Disk-bound numbers come from `walcache bench`; these
// say how much of a commit or a recovery is CPU.
//
//   build/release/tools/walcache_microbench [--benchmark_filter=Reader]
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "util/crc32c.h"
#include "util/file_system.h"
#include "util/forwarding_file_system.h"
#include "util/forwarding_writable_file.h"
#include "util/status_macros.h"
#include "wal/batch.h"
#include "wal/reader.h"
#include "wal/record.h"
#include "wal/writer.h"

namespace walcache {
namespace {

std::string Bytes(size_t n, bool compressible) {
  std::mt19937_64 rng(n);
  std::string s(n, 'a');
  for (size_t i = 0; i < n; ++i) {
    s[i] = compressible ? static_cast<char>('a' + (rng() % 4)) : static_cast<char>(rng());
  }
  return s;
}

void BM_Crc32c(benchmark::State& state) {
  const std::string data = Bytes(static_cast<size_t>(state.range(0)), false);
  for (auto _ : state) benchmark::DoNotOptimize(crc32c::Value(data));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Crc32c)->Arg(64)->Arg(4096)->Arg(1 << 20);

void BM_Crc32cPortable(benchmark::State& state) {
  const std::string data = Bytes(static_cast<size_t>(state.range(0)), false);
  for (auto _ : state)
    benchmark::DoNotOptimize(crc32c::ExtendPortable(0, data.data(), data.size()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Crc32cPortable)->Arg(4096);

wal::Batch TypicalTransaction(size_t value_size) {
  wal::Batch b;
  b.Put("user:123", Bytes(value_size, true), 0, {});
  b.Put("profile:123", Bytes(value_size, true), 1700000000000, {{"user:123", 41}});
  b.Invalidate("feed:123");
  return b;
}

void BM_BatchEncode(benchmark::State& state) {
  const wal::Batch b = TypicalTransaction(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(b.Encode());
}
BENCHMARK(BM_BatchEncode)->Arg(100)->Arg(4096);

void BM_BatchDecode(benchmark::State& state) {
  const std::string enc = TypicalTransaction(static_cast<size_t>(state.range(0))).Encode();
  for (auto _ : state) benchmark::DoNotOptimize(wal::Batch::Decode(enc));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * enc.size()));
}
BENCHMARK(BM_BatchDecode)->Arg(100)->Arg(4096);

void BM_PrepareRecord(benchmark::State& state) {
  const std::string batch = TypicalTransaction(static_cast<size_t>(state.range(0))).Encode();
  wal::CompressionOptions opts;
  opts.enabled = state.range(1) != 0;
  for (auto _ : state) benchmark::DoNotOptimize(wal::PrepareRecord(batch, opts));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * batch.size()));
}
BENCHMARK(BM_PrepareRecord)->Args({100, 1})->Args({4096, 0})->Args({4096, 1});

// Replay rate: reads back a WAL of 64 MiB of 1 KiB transactions (page cache warm after the
// first pass) and decodes every batch, as recovery will.
void BM_ReaderReplay(benchmark::State& state) {
  namespace fs = std::filesystem;
  const std::string dir = (fs::temp_directory_path() / "walcache-microbench-replay").string();
  fs::remove_all(dir);
  {
    wal::WriterOptions o;
    o.sync_interval = std::chrono::milliseconds(0);
    auto w = wal::Writer::Open(FileSystem::Posix(), dir, o, 1);
    if (!w.ok()) {
      state.SkipWithError(w.status().ToString().c_str());
      return;
    }
    const std::string batch = TypicalTransaction(512).Encode();
    for (int i = 0; i < 64 * 1024; ++i) (void)(*w)->Append(batch, Durability::kBuffered);
    (void)(*w)->Close();
  }
  uint64_t bytes = 0;
  for (auto _ : state) {
    auto r = wal::Reader::Open(FileSystem::Posix(), dir);
    wal::WalRecord rec;
    while (r.ok() && *(*r)->Next(&rec)) {
      benchmark::DoNotOptimize(wal::Batch::Decode(rec.batch));
      bytes += rec.stored_bytes + wal::kRecordHeaderSize;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  fs::remove_all(dir);
}
BENCHMARK(BM_ReaderReplay)->Unit(benchmark::kMillisecond);

// A file system whose fdatasync is a sleep of a fixed time (writes go to the real files): the
// group commit's own overhead, without the disk's noise. Counts the time spent in Sync.
class FixedSyncFileSystem final : public ForwardingFileSystem {
 public:
  FixedSyncFileSystem(FileSystem* base, std::chrono::microseconds latency)
      : ForwardingFileSystem(base), latency_(latency) {}

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                     OpenMode mode) override {
    WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, base()->OpenWritable(path, mode));
    return std::unique_ptr<WritableFile>(new File(this, std::move(f)));
  }
  uint64_t sync_ns() const { return sync_ns_.load(); }

 private:
  class File final : public ForwardingWritableFile {
   public:
    File(FixedSyncFileSystem* fs, std::unique_ptr<WritableFile> base)
        : ForwardingWritableFile(std::move(base)), fs_(fs) {}
    Status Sync() override {
      const auto t0 = std::chrono::steady_clock::now();
      std::this_thread::sleep_for(fs_->latency_);
      fs_->sync_ns_ += static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                 std::chrono::steady_clock::now() - t0)
                                                 .count());
      return Status::OK();
    }

   private:
    FixedSyncFileSystem* const fs_;
  };

  const std::chrono::microseconds latency_;
  std::atomic<uint64_t> sync_ns_{0};
};

// Group commit: every thread appends one-put kSync records to one writer whose "disk" syncs in
// 250 us. Counters (from thread 0): records_per_sync, the group size; disk_busy, the fraction
// of the run spent inside an fdatasync (1.0: one always in flight, the physical limit).
struct GroupCommitRun {
  std::unique_ptr<FixedSyncFileSystem> fs;
  std::unique_ptr<wal::Writer> writer;
  std::string dir;
  std::chrono::steady_clock::time_point start;
};
GroupCommitRun* group_commit_run = nullptr;

void BM_GroupCommit(benchmark::State& state) {
  namespace fs = std::filesystem;
  if (state.thread_index() == 0) {
    group_commit_run = new GroupCommitRun;
    GroupCommitRun& run = *group_commit_run;
    run.dir = (fs::temp_directory_path() / "walcache-microbench-group-commit").string();
    fs::remove_all(run.dir);
    run.fs =
        std::make_unique<FixedSyncFileSystem>(FileSystem::Posix(), std::chrono::microseconds(250));
    wal::WriterOptions o;
    o.sync_interval = std::chrono::milliseconds(0);
    auto w = wal::Writer::Open(run.fs.get(), run.dir, o, 1);
    if (!w.ok()) {
      state.SkipWithError(w.status().ToString().c_str());
      return;
    }
    run.writer = std::move(*w);
  }
  wal::Batch b;
  b.Put("key:" + std::to_string(state.thread_index()), std::string(100, 'v'));
  const std::string batch = b.Encode();
  bool first = true;
  for (auto _ : state) {
    if (first && state.thread_index() == 0)
      group_commit_run->start = std::chrono::steady_clock::now();
    first = false;
    if (!group_commit_run->writer->Append(batch, Durability::kSync).ok()) {
      state.SkipWithError("append failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    GroupCommitRun& run = *group_commit_run;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - run.start).count();
    const uint64_t sync_ns = run.fs->sync_ns();  // before Close's own fdatasync
    const wal::WriterStats st = run.writer->stats();
    (void)run.writer->Close();
    state.counters["records_per_sync"] =
        st.fsyncs > 0 ? static_cast<double>(st.records) / static_cast<double>(st.fsyncs) : 0;
    state.counters["disk_busy"] = seconds > 0 ? static_cast<double>(sync_ns) / 1e9 / seconds : 0;
    run.writer.reset();
    fs::remove_all(run.dir);
    delete group_commit_run;
    group_commit_run = nullptr;
  }
}
BENCHMARK(BM_GroupCommit)->ThreadRange(1, 8)->UseRealTime()->MinTime(1.0);

}  // namespace
}  // namespace walcache

BENCHMARK_MAIN();

// walcache_microbench: Google Benchmark measurements of the CPU-side costs of the WAL — the
// checksum (hardware and portable), the batch codec, record preparation with LZ4, and reading
// a WAL back (the replay rate that bounds recovery). Disk-bound numbers come from
// `walcache bench`; these say how much of a commit or a recovery is CPU.
//
//   build/release/tools/walcache_microbench [--benchmark_filter=Reader]
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>
#include <string>

#include "util/crc32c.h"
#include "util/file_system.h"
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

}  // namespace
}  // namespace walcache

BENCHMARK_MAIN();

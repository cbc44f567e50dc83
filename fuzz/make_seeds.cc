// walcache_fuzz_seeds OUT_DIR: writes the seed corpus of every fuzz target to OUT_DIR/<target>/
// (the committed one is fuzz/corpus/) from walcache's own code, so that every seed is a real
// file: batches encoded by wal::Batch, segments and their headers written by wal::Writer,
// payloads prepared by wal::PrepareRecord, and cache directories written by a Cache and copied
// while it was open (as a crash would leave them). Deterministic (a fixed clock, no background
// checkpoints): run again, it writes the same bytes. Zeros preallocated at the end of a segment
// are trimmed (the reader takes them and the end of the file alike), which keeps each file at
// a few hundred bytes.
//
//   build/release/fuzz/walcache_fuzz_seeds fuzz/corpus
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "fuzz/wal_dir_input.h"
#include "util/file_system.h"
#include "wal/batch.h"
#include "wal/format.h"
#include "wal/newest.h"
#include "wal/reader.h"
#include "wal/record.h"
#include "wal/segment.h"
#include "wal/writer.h"
#include "walcache/cache.h"

namespace walcache::fuzz {
namespace {

FileSystem* const fs = FileSystem::Posix();
std::string work_dir;  // scratch, removed at exit

void RemoveWorkDir() {
  std::error_code ec;
  if (!work_dir.empty()) std::filesystem::remove_all(work_dir, ec);
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "walcache_fuzz_seeds: %s\n", what.c_str());
  std::exit(1);
}

void Check(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.ToString());
}

template <typename T>
T Take(Result<T> r, const std::string& what) {
  Check(r.status(), what);
  return std::move(r).value();
}

std::string ReadWhole(const std::string& path) {
  auto file = Take(fs->OpenReadable(path), "open " + path);
  std::string bytes(Take(file->Size(), "size of " + path), '\0');
  size_t got = 0;
  Check(file->Read(0, bytes.size(), bytes.data(), &got), "read " + path);
  bytes.resize(got);
  return bytes;
}

std::string TrimZeros(std::string s) {
  const size_t end = s.find_last_not_of('\0');
  s.resize(end == std::string::npos ? 0 : end + 1);
  return s;
}

// Writes OUT/target/name, replacing any older file.
void Emit(const std::string& out, const std::string& target, const std::string& name,
          const std::string& bytes) {
  const std::string dir = JoinPath(out, target);
  Check(fs->CreateDir(dir), "create " + dir);
  const std::string path = JoinPath(dir, name);
  if (fs->Exists(path).ok()) Check(fs->DeleteFile(path), "replace " + path);
  auto file = Take(fs->OpenWritable(path, OpenMode::kCreateNew), "create " + path);
  Check(file->Write(0, bytes), "write " + path);
  Check(file->Close(), "close " + path);
  std::printf("%s/%s: %zu bytes\n", target.c_str(), name.c_str(), bytes.size());
}

wal::Batch Batch1() {  // a source
  wal::Batch b;
  b.Put("user:1", "alice");
  return b;
}

wal::Batch Batch2() {  // a derived entry with an expiry
  wal::Batch b;
  b.Put("profile:1", "<p>alice</p>", kClockMs + 3'600'000, {{"user:1", 1}});
  return b;
}

wal::Batch Batch3() {  // the other op types
  wal::Batch b;
  b.Delete("user:2");
  b.Invalidate("profile:2");
  b.Touch("user:1", kClockMs + 60'000);
  return b;
}

std::string Page() {  // a value that LZ4 compresses
  std::string page;
  for (int i = 0; i < 20; ++i) page += "<li>item " + std::to_string(i % 4) + " of the feed</li>";
  return page;
}

wal::Batch BigBatch() {
  wal::Batch b;
  b.Put("page:1", Page(), 0, {{"user:1", 1}, {"profile:1", 2}});
  return b;
}

// Writes `batches` as records of a new WAL in `wal_dir`, from seq `next_seq`.
void WriteWal(const std::string& wal_dir, const std::vector<wal::Batch>& batches, uint64_t next_seq,
              uint64_t segment_size, bool preallocate) {
  wal::WriterOptions o;
  o.segment_size = segment_size;
  o.preallocate = preallocate;
  o.sync_interval = std::chrono::milliseconds(0);
  o.max_group_wait = std::chrono::microseconds(0);
  auto writer = Take(wal::Writer::Open(fs, wal_dir, o, next_seq), "open writer " + wal_dir);
  for (const wal::Batch& b : batches) {
    Check(writer->Append(b.Encode(), Durability::kBuffered).status(), "append");
  }
  Check(writer->Close(), "close writer");
}

std::string Segment(const std::string& wal_dir, uint64_t number) {
  return ReadWhole(JoinPath(wal_dir, wal::SegmentFileName(number)));
}

void BatchSeeds(const std::string& out) {
  Emit(out, "batch_decode", "put.batch", Batch1().Encode());
  Emit(out, "batch_decode", "put-related-ttl.batch", Batch2().Encode());
  Emit(out, "batch_decode", "delete-invalidate-touch.batch", Batch3().Encode());
  Emit(out, "batch_decode", "empty.batch", wal::Batch().Encode());
}

void PayloadSeeds(const std::string& out) {
  const wal::CompressionOptions always{.enabled = true, .threshold = 0};
  const wal::PreparedRecord batch = wal::PrepareRecord(BigBatch().Encode(), always);
  std::string text;
  for (int i = 0; i < 12; ++i) text += "the quick brown fox jumps over the lazy dog ";
  const wal::PreparedRecord plain = wal::PrepareRecord(text, always);
  if (batch.flags != wal::kFlagLz4 || plain.flags != wal::kFlagLz4) Die("LZ4 did not pay");
  Emit(out, "record_payload", "lz4-batch.payload", batch.payload);
  Emit(out, "record_payload", "lz4-text.payload", plain.payload);
}

void SegmentSeeds(const std::string& out, const std::string& work) {
  const std::string three = JoinPath(work, "three");
  WriteWal(three, {Batch1(), Batch2(), Batch3()}, 1, 1 << 20, false);
  const std::string records = Segment(three, 1);
  Emit(out, "record_reader", "three-records.wal", records);
  Emit(out, "record_reader", "torn-tail.wal", records.substr(0, records.size() - 10));
  std::string damaged = records;
  damaged[wal::kSegmentHeaderSize + wal::kRecordHeaderSize + 2] ^= 0x10;  // record 1's payload
  Emit(out, "record_reader", "corrupt-then-valid.wal", damaged);

  const std::string compressed = JoinPath(work, "compressed");
  WriteWal(compressed, {BigBatch(), Batch1()}, 41, 1 << 20, false);
  Emit(out, "record_reader", "compressed-record.wal", Segment(compressed, 1));

  const std::string empty = JoinPath(work, "empty");
  WriteWal(empty, {}, 7, 1 << 20, false);
  Emit(out, "record_reader", "header-only.wal", Segment(empty, 1));

  const std::string prealloc = JoinPath(work, "prealloc");
  WriteWal(prealloc, {Batch1()}, 1, 256, true);
  Emit(out, "record_reader", "preallocated.wal", Segment(prealloc, 1));

  // A recycled file: segment 1, then records that segment 2 holds (stale here: they name 2).
  const std::string rotated = JoinPath(work, "rotated");
  WriteWal(rotated, {Batch1(), Batch2(), Batch3(), Batch1()}, 1, 160, false);
  const std::string second = Segment(rotated, 2);
  Emit(out, "record_reader", "stale-records.wal",
       Segment(rotated, 1) + second.substr(wal::kSegmentHeaderSize));

  Emit(out, "segment_header", "first-segment.hdr", records.substr(0, wal::kSegmentHeaderSize));
  Emit(out, "segment_header", "rotated-segment.hdr", second.substr(0, wal::kSegmentHeaderSize));
  Emit(out, "segment_header", "header-only-seq-7.hdr", Segment(empty, 1));
}

// The cache directory `dir` as a crash would leave it now: its checkpoint seq and its segments.
WalDirInput Snapshot(Cache* cache, const std::string& dir) {
  WalDirInput in;
  in.checkpoint_seq = cache->Stats().checkpoint_seq;
  const std::string wal_dir = JoinPath(dir, "wal");
  // The witness first, so that it survives kMaxSegments (fuzz/wal_dir_input.h: number 0).
  in.segments.push_back({0, ReadWhole(JoinPath(wal_dir, wal::kNewestFileName))});
  for (const wal::SegmentFile& f : Take(wal::ListSegments(fs, wal_dir), "list " + wal_dir)) {
    in.segments.push_back({static_cast<uint16_t>(f.number), TrimZeros(ReadWhole(f.path))});
  }
  return in;
}

// The batch of the record with the most ops in `wal_dir` (one the engine computed: cascades).
std::string BiggestBatch(const std::string& wal_dir) {
  auto reader = Take(wal::Reader::Open(fs, wal_dir), "read " + wal_dir);
  std::string best;
  size_t best_ops = 0;
  wal::WalRecord rec;
  while (Take(reader->Next(&rec), "read " + wal_dir)) {
    const size_t ops = Take(wal::Batch::Decode(rec.batch), "decode").size();
    if (ops > best_ops) best = rec.batch, best_ops = ops;
  }
  return best;
}

void Commit(Transaction txn) { Check(txn.Commit().status(), "commit"); }

void RecoverySeeds(const std::string& out, const std::string& work) {
  const std::string dir = JoinPath(work, "cache");
  Options options;
  options.clock_ms = [] { return kClockMs; };
  options.wal_segment_size = 256;      // a few records a segment
  options.checkpoint_dirty_bytes = 0;  // checkpoints only where this program asks
  options.checkpoint_wal_bytes = 0;
  options.checkpoint_interval = std::chrono::milliseconds(0);
  auto cache = Take(Cache::Open(dir, options), "open cache " + dir);
  const uint64_t u1 = Take(cache->Put("user:1", "alice"), "put");
  Check(cache->Put("profile:1", "<p>alice</p>", {.ttl_ms = 3'600'000, .related = {{"user:1", u1}}})
            .status(),
        "put");
  Check(cache->Put("page:1", Page(), {.related = {{"user:1", u1}}}).status(), "put");
  const uint64_t u2 = Take(cache->Put("user:1", "bob"), "put");  // invalidates both dependents
  Transaction txn = cache->Begin();
  txn.Expect("user:1", u2);
  txn.Put("feed:1", "bob's feed", {.ttl_ms = 60'000, .related = {{"user:1", u2}}});
  txn.Put("user:2", "carol");
  txn.Delete("user:3");
  Commit(std::move(txn));
  Check(cache->Touch("user:1", 30'000).status(), "touch");  // clamps feed:1
  WalDirInput crashed = Snapshot(cache.get(), dir);
  const std::string cascade = BiggestBatch(JoinPath(dir, "wal"));

  Check(cache->Checkpoint(), "checkpoint");
  Check(cache->Delete("user:2").status(), "delete");
  Check(cache->Put("user:4", Page()).status(), "put");
  const WalDirInput checkpointed = Snapshot(cache.get(), dir);
  if (crashed.segments.size() < 2 || checkpointed.checkpoint_seq == 0) {
    Die("the cache did not rotate its WAL (" + std::to_string(crashed.segments.size()) +
        " segments) or checkpoint (seq " + std::to_string(checkpointed.checkpoint_seq) + ")");
  }
  cache.reset();

  std::string packed;
  PackWalDir(crashed, &packed);
  Emit(out, "recovery", "no-checkpoint.dir", packed);
  packed.clear();
  PackWalDir(checkpointed, &packed);
  Emit(out, "recovery", "after-checkpoint.dir", packed);
  std::string& last = crashed.segments.back().bytes;
  last.resize(last.size() - 7);  // the newest record cut short
  packed.clear();
  PackWalDir(crashed, &packed);
  Emit(out, "recovery", "torn-tail.dir", packed);
  Emit(out, "batch_decode", "cascade-from-engine.batch", cascade);
}

}  // namespace
}  // namespace walcache::fuzz

int main(int argc, char** argv) {
  using namespace walcache::fuzz;  // NOLINT: main
  if (argc != 2) {
    std::fprintf(stderr, "usage: walcache_fuzz_seeds OUT_DIR   (e.g. fuzz/corpus)\n");
    return 2;
  }
  const std::string out = argv[1];
  char work_template[] = "/tmp/walcache-fuzz-seeds-XXXXXX";
  if (mkdtemp(work_template) == nullptr) Die("cannot create a work directory");
  work_dir = work_template;
  std::atexit(RemoveWorkDir);
  const std::string& work = work_dir;
  Check(fs->CreateDir(out), "create " + out);
  BatchSeeds(out);
  PayloadSeeds(out);
  SegmentSeeds(out, work);
  RecoverySeeds(out, work);
  return 0;
}

// Fuzz target: recovery of a whole cache directory. The input is unpacked (fuzz/wal_dir_input.h)
// into WAL segment files, the newest-segment witness, and a RocksDB store that holds only the
// checkpoint marker, set through the engine's own RocksStore::Apply; then Cache::Open recovers it
// read-only, read-write, and read-only again after the writable cache closed, scanning everything
// each time. Properties: every failure is a Status, never a crash, hang or leak; a directory that a
// read-only open accepts, a writable open accepts too, and both see the same entries (tail repair
// drops nothing valid); and after a writable open closes, a read-only open succeeds and sees
// exactly what the writable one saw (its checkpoint and WAL agree).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/rocks_store.h"
#include "fuzz/fuzz_util.h"
#include "fuzz/wal_dir_input.h"
#include "util/file_system.h"
#include "wal/newest.h"
#include "wal/segment.h"
#include "walcache/cache.h"

namespace walcache::fuzz {
namespace {

using Entries = std::vector<std::pair<std::string, Entry>>;

// Builds the directory `dir` that `in` describes.
void MakeDir(const WalDirInput& in, const std::string& dir) {
  FileSystem* fs = FileSystem::Posix();
  const std::string wal_dir = JoinPath(dir, "wal");
  Status s = fs->CreateDir(dir);
  if (s.ok()) s = fs->CreateDir(wal_dir);
  FUZZ_CHECK(s.ok(), "scratch: " + s.ToString());
  for (const WalDirInput::Segment& seg : in.segments) {
    const std::string name =
        seg.number == 0 ? std::string(wal::kNewestFileName) : wal::SegmentFileName(seg.number);
    WriteWholeFile(JoinPath(wal_dir, name), seg.bytes);
  }
  if (in.checkpoint_seq == 0) return;
  engine::StoreOptions so;
  so.block_cache_bytes = 1 << 20;
  auto store = engine::RocksStore::Open(JoinPath(dir, "rocksdb"), so);
  FUZZ_CHECK(store.ok(), "scratch store: " + store.status().ToString());
  s = (*store)->Apply(engine::RocksStore::Checkpoint(), in.checkpoint_seq, 0);
  FUZZ_CHECK(s.ok(), "scratch store: " + s.ToString());
}

// Opens the cache in `dir`, scans it whole and closes it: the entries, or the first error.
Result<Entries> OpenAndScan(const std::string& dir, bool read_only) {
  Options options;
  options.read_only = read_only;
  options.clock_ms = [] { return kClockMs; };
  options.wal_segment_size = 64 << 10;  // each writable open preallocates a new segment
  options.block_cache_bytes = 1 << 20;
  auto cache = Cache::Open(dir, options);
  if (!cache.ok()) return cache.status();
  Entries entries;
  Status s = (*cache)->Scan("", [&entries](std::string_view key, const Entry& e) {
    entries.emplace_back(std::string(key), e);
    return true;
  });
  if (!s.ok()) return s;
  return entries;
}

void FuzzOne(std::string_view input) {
  const std::string dir = FreshScratchPath("cache");
  MakeDir(UnpackWalDir(input), dir);
  const Result<Entries> before = OpenAndScan(dir, /*read_only=*/true);
  const Result<Entries> writable = OpenAndScan(dir, /*read_only=*/false);
  if (before.ok()) {
    FUZZ_CHECK(writable.ok(), "a writable open fails where a read-only one succeeded: " +
                                  writable.status().ToString());
    FUZZ_CHECK(*writable == *before, "the writable open sees other entries than the read-only");
  }
  if (!writable.ok()) return;
  const Result<Entries> after = OpenAndScan(dir, /*read_only=*/true);
  FUZZ_CHECK(after.ok(),
             "a read-only open after a clean close fails: " + after.status().ToString());
  FUZZ_CHECK(*after == *writable, "the entries changed across a clean close and reopen");
}

}  // namespace
}  // namespace walcache::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  walcache::fuzz::FuzzOne(walcache::fuzz::AsBytes(data, size));
  return 0;
}

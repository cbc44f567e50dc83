// Injected I/O faults under the cache (the FaultFileSystem over the real files, installed as the
// process's file system): EIO on write, fdatasync, preallocation and directory fsync; ENOSPC on
// write and preallocation; short writes; EIO on read during recovery. For each: the commit in
// flight fails with the error; nothing unacknowledged is reported as committed; the cache
// refuses every later write with that error (a failed fdatasync leaves the segment's unsynced
// bytes unknown, so it is never retried as if it had worked); reopening without the fault
// recovers every acknowledged transaction and the related-key invariant holds.
#include <gtest/gtest.h>
#include <rocksdb/file_system.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "engine/checkpoint_failure.h"
#include "engine/seams.h"
#include "tests/child_process.h"
#include "tests/failing_rocks_fs.h"
#include "tests/fault_file_system.h"
#include "tests/test_util.h"
#include "walcache/cache.h"

namespace walcache {
namespace {

constexpr int kEIO = 5, kENOSPC = 28;

struct FaultCase {
  const char* name;
  FaultOp op;
  int err;
  const char* path_contains;  // "" for every path
  size_t short_write_bytes = 0;
};

void PrintTo(const FaultCase& c, std::ostream* os) { *os << c.name; }

class CacheFaultTest : public ::testing::TestWithParam<FaultCase> {
 protected:
  // Every cache of these tests runs over the fault layer (engine/seams.h).
  Result<std::unique_ptr<Cache>> Open(const Options& o) {
    return engine::CacheOpener::Open(dir_.path(), o, engine::Seams{&faults_, nullptr});
  }

  Options SmallSegments() const {
    Options o;
    o.wal_segment_size = 64 << 10;  // rotation (a new file, preallocation, a dir fsync) often
    o.compression = false;          // the values are runs of one letter
    o.checkpoint_interval = std::chrono::milliseconds(0);
    o.checkpoint_dirty_bytes = 0;
    o.checkpoint_wal_bytes = 0;
    return o;
  }

  FaultFileSystem faults_{FileSystem::Posix()};
  test::ScratchDir dir_;
};

// Each acknowledged commit: key -> (value, update_id). The source s<i%8> and a derived d<i%8>.
using Acked = std::map<std::string, std::pair<std::string, uint64_t>>;

// Commits until one fails; returns its status. `acked` gets what was acknowledged.
Status CommitUntilFailure(Cache* c, Acked* acked, int max_txns) {
  for (int i = 0; i < max_txns; ++i) {
    const std::string s = "s" + std::to_string(i % 8), d = "d" + std::to_string(i % 8);
    const std::string value(700 + i % 300, static_cast<char>('a' + i % 26));
    Transaction t = c->Begin();
    t.Put(s, value);
    t.Put(d, value + "!", PutOptions{0, {RelatedKey{s, 0}}});
    Result<uint64_t> r = t.Commit(i % 2 == 0 ? Durability::kSync : Durability::kBuffered);
    if (!r.ok()) return r.status();
    (*acked)[s] = {value, *r};
    (*acked)[d] = {value + "!", *r};
  }
  return Status::OK();
}

TEST_P(CacheFaultTest, TheCommitFailsWritesStopAndReopeningRecoversEveryAcknowledgedCommit) {
  const FaultCase& fc = GetParam();
  Acked acked;
  {
    auto c = Open(SmallSegments());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_TRUE(CommitUntilFailure(c->get(), &acked, 40).ok());
    FaultRule rule;
    rule.op = fc.op;
    rule.error = Status::IOError(std::string("injected ") + fc.name, fc.err);
    rule.path_contains = fc.path_contains;
    rule.short_write_bytes = fc.short_write_bytes;
    faults_.AddRule(rule);

    Status failed = CommitUntilFailure(c->get(), &acked, 2000);
    ASSERT_FALSE(failed.ok()) << "the fault was never hit";
    EXPECT_TRUE(failed.IsIOError()) << failed.ToString();
    EXPECT_EQ(failed.IsNoSpace(), fc.err == kENOSPC) << failed.ToString();
    EXPECT_NE(failed.ToString().find(std::string("injected ") + fc.name), std::string::npos)
        << failed.ToString();
    EXPECT_GT(faults_.Injected(fc.op), 0u);

    // The cache refuses further writes with the same error, even with the fault gone: what the
    // failed call left on disk is unknown until recovery reads it back.
    faults_.ClearRules();
    EXPECT_FALSE((*c)->health().ok());
    Result<uint64_t> again = (*c)->Put("after", "x");
    ASSERT_FALSE(again.ok());
    EXPECT_TRUE(again.status().IsIOError()) << again.status().ToString();
    EXPECT_FALSE((*c)->Checkpoint().ok()) << "no checkpoint from a failed cache";
    // Reads still answer from what was acknowledged.
    for (const auto& [k, v] : acked) {
      Result<Entry> e = (*c)->Get(k);
      ASSERT_TRUE(e.ok()) << k << ": " << e.status().ToString();
      EXPECT_EQ(e->update_id, v.second) << k;
    }
  }
  auto c = Open(SmallSegments());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE((*c)->health().ok());
  for (const auto& [k, v] : acked) {
    Result<Entry> e = (*c)->Get(k);
    ASSERT_TRUE(e.ok()) << k << " acknowledged at " << v.second << ": " << e.status().ToString();
    EXPECT_GE(e->update_id, v.second) << k;  // the failed commit may have landed after all
    if (e->update_id == v.second) {
      EXPECT_EQ(e->value, v.first) << k;
    }
  }
  // I1 over everything recovered, and the cache takes writes again.
  Status scan = (*c)->Scan("d", [&](std::string_view key, const Entry& e) {
    for (const RelatedKey& r : e.related) {
      Result<Entry> src = (*c)->Get(r.key);
      EXPECT_TRUE(src.ok() && src->update_id == r.update_id) << key << " <- " << r.key;
    }
    return true;
  });
  EXPECT_TRUE(scan.ok()) << scan.ToString();
  EXPECT_TRUE((*c)->Put("after", "x").ok());
}

INSTANTIATE_TEST_SUITE_P(
    Faults, CacheFaultTest,
    ::testing::Values(FaultCase{"eio_on_write", FaultOp::kWrite, kEIO, ".wal"},
                      FaultCase{"enospc_on_write", FaultOp::kWrite, kENOSPC, ".wal"},
                      FaultCase{"short_write", FaultOp::kWrite, kEIO, ".wal", 100},
                      FaultCase{"eio_on_fdatasync", FaultOp::kSync, kEIO, ".wal"},
                      FaultCase{"eio_on_preallocation", FaultOp::kAllocate, kEIO, ".wal"},
                      FaultCase{"enospc_on_preallocation", FaultOp::kAllocate, kENOSPC, ".wal"},
                      FaultCase{"eio_on_directory_fsync", FaultOp::kSyncDir, kEIO, "wal"},
                      FaultCase{"eio_on_segment_create", FaultOp::kOpen, kEIO, ".wal"}),
    [](const ::testing::TestParamInfo<FaultCase>& i) { return std::string(i.param.name); });

// EIO on read while recovering: the open fails, naming the file, and changes nothing; without the
// fault the same directory opens with everything in it.
TEST(CacheFaultRecoveryTest, EioOnReadDuringRecoveryFailsTheOpenNamingTheFile) {
  test::ScratchDir dir;
  constexpr int kTxns = 30;
  // The child commits, then dies without a checkpoint: recovery has a WAL to read.
  const test::ChildExit e = test::RunInChild([&]() -> int {
    Options o;
    o.checkpoint_interval = std::chrono::milliseconds(0);
    auto c = Cache::Open(dir.path(), o);
    Acked ignored;
    ::_exit(c.ok() && CommitUntilFailure(c->get(), &ignored, kTxns).ok() ? 0 : 1);
  });
  ASSERT_TRUE(e.ok()) << e;

  FaultFileSystem faults(FileSystem::Posix());
  const engine::Seams over_faults{&faults, nullptr};
  FaultRule rule;
  rule.op = FaultOp::kRead;
  rule.error = Status::IOError("injected eio on read", kEIO);
  rule.path_contains = ".wal";
  faults.AddRule(rule);
  const std::string segment = test::SegmentPaths(dir.Join("wal")).front();
  const std::string before = test::ReadFile(segment);
  auto failed = engine::CacheOpener::Open(dir.path(), Options(), over_faults);
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(failed.status().IsIOError()) << failed.status().ToString();
  EXPECT_NE(failed.status().ToString().find(segment.substr(segment.rfind('/') + 1)),
            std::string::npos)
      << failed.status().ToString();
  EXPECT_EQ(test::ReadFile(segment), before);

  faults.ClearRules();
  auto c = engine::CacheOpener::Open(dir.path(), Options(), over_faults);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  for (int i = kTxns - 8; i < kTxns; ++i) {  // the last write of each source: update_id i + 1
    Result<Entry> e = (*c)->Get("s" + std::to_string(i % 8));
    ASSERT_TRUE(e.ok()) << i;
    EXPECT_EQ(e->update_id, static_cast<uint64_t>(i + 1));
  }
  c->reset();
}

// A checkpoint whose RocksDB write fails loses nothing: the error is returned and shown in
// Stats, commits go on into the WAL, no segment is deleted, and the next checkpoint after the
// fault clears succeeds and truncates the WAL. Closed while checkpoints fail, the cache reopens
// from the WAL with everything.
TEST(CacheCheckpointFaultTest, AFailedCheckpointKeepsTheWalUntilALaterOneSucceeds) {
  auto rocks = std::make_shared<FailingRocksFs>(rocksdb::FileSystem::Default());
  const engine::Seams over_rocks{nullptr, rocks};
  test::ScratchDir dir;
  Options o;
  o.wal_segment_size = 64 << 10;
  o.compression = false;
  o.checkpoint_interval = std::chrono::milliseconds(0);
  o.checkpoint_dirty_bytes = 0;
  o.checkpoint_wal_bytes = 0;
  Acked acked;
  {
    auto c = engine::CacheOpener::Open(dir.path(), o, over_rocks);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_TRUE(CommitUntilFailure(c->get(), &acked, 200).ok());
    const size_t segments = test::SegmentPaths(dir.Join("wal")).size();
    ASSERT_GT(segments, 1u);

    rocks->armed = true;
    Status failed = (*c)->Checkpoint();
    ASSERT_FALSE(failed.ok());
    EXPECT_TRUE(failed.IsIOError()) << failed.ToString();
    EXPECT_GT(rocks->injected.load(), 0u);
    CacheStats st = (*c)->Stats();
    EXPECT_EQ(st.checkpoint_failures, 1u);
    EXPECT_NE(st.checkpoint_error.find("injected EIO in RocksDB"), std::string::npos)
        << st.checkpoint_error;
    EXPECT_EQ(st.checkpoint_seq, 0u);
    // The tools see it too (walcache inspect reads DIR/CHECKPOINT_FAILED).
    Result<engine::CheckpointFailure> shown =
        engine::ReadCheckpointFailure(FileSystem::Posix(), dir.path());
    ASSERT_TRUE(shown.ok()) << shown.status().ToString();
    EXPECT_EQ(shown->failures, 1u);
    EXPECT_EQ(shown->error, st.checkpoint_error);
    struct stat marker {};
    ASSERT_EQ(::stat(dir.Join("CHECKPOINT_FAILED").c_str(), &marker), 0);
    EXPECT_EQ(marker.st_mode & 07777, 0600u) << "owner-only, like every file walcache makes";
    EXPECT_TRUE((*c)->health().ok()) << "the WAL still works: commits go on";
    EXPECT_EQ(test::SegmentPaths(dir.Join("wal")).size(), segments) << "no segment deleted";
    ASSERT_TRUE(CommitUntilFailure(c->get(), &acked, 50).ok());
    EXPECT_FALSE((*c)->Checkpoint().ok()) << "still failing while the fault lasts";
    EXPECT_EQ((*c)->Stats().checkpoint_failures, 2u);

    rocks->armed = false;
    Status ok = (*c)->Checkpoint();
    ASSERT_TRUE(ok.ok()) << "after the fault clears: " << ok.ToString();
    st = (*c)->Stats();
    EXPECT_EQ(st.checkpoint_seq, st.last_seq);
    EXPECT_TRUE(st.checkpoint_error.empty()) << st.checkpoint_error;
    EXPECT_TRUE(
        engine::ReadCheckpointFailure(FileSystem::Posix(), dir.path()).status().IsNotFound());
    EXPECT_LT(test::SegmentPaths(dir.Join("wal")).size(), segments) << "covered segments went";
    ASSERT_TRUE(CommitUntilFailure(c->get(), &acked, 50).ok());
    rocks->armed = true;  // failing again, and still when the cache closes
    EXPECT_FALSE((*c)->Checkpoint().ok());
  }
  // The close's checkpoint failed too: the WAL still holds everything since the last good one.
  rocks->armed = false;
  ASSERT_TRUE(engine::ReadCheckpointFailure(FileSystem::Posix(), dir.path()).ok())
      << "left by the process that closed while failing";

  auto c = Cache::Open(dir.path(), o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  for (const auto& [k, v] : acked) {
    Result<Entry> e = (*c)->Get(k);
    ASSERT_TRUE(e.ok()) << k;
    EXPECT_EQ(e->update_id, v.second) << k;
    EXPECT_EQ(e->value, v.first) << k;
  }
  // The next process's first good checkpoint clears what the last one left.
  ASSERT_TRUE((*c)->Checkpoint().ok());
  EXPECT_TRUE(engine::ReadCheckpointFailure(FileSystem::Posix(), dir.path()).status().IsNotFound());
}

// A real full disk: a 6 MiB tmpfs with 2 MiB of ballast, filled by distinct keys until a commit
// fails (in the WAL, or in a checkpoint first). The failure says "no space"; after the ballast
// goes, the directory reopens with every acknowledged commit and takes writes again.
TEST(CacheFullDiskTest, AFullDiskFailsCommitsCleanlyAndFreeingSpaceLosesNothing) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  test::ScratchDir scratch;
  const std::string mnt = scratch.Join("small");
  ASSERT_EQ(::mkdir(mnt.c_str(), 0700), 0);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=6m,mode=0700") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt};
  const std::string ballast = mnt + "/ballast";
  test::WriteFile(ballast, std::string(2 << 20, 'b'));
  const std::string dir = mnt + "/cache";
  Options o;
  o.wal_segment_size = 256 << 10;
  o.compression = false;
  o.checkpoint_wal_bytes = 512 << 10;  // checkpoints move the data into RocksDB as it grows
  std::map<std::string, uint64_t> acked;
  Status failed;
  {
    auto c = Cache::Open(dir, o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    for (int i = 0; i < 20000 && failed.ok(); ++i) {
      const std::string key = "k" + std::to_string(i);
      Result<uint64_t> r = (*c)->Put(key, std::string(4000, static_cast<char>('a' + i % 26)));
      if (r.ok()) {
        acked[key] = *r;
      } else {
        failed = r.status();
      }
    }
    ASSERT_FALSE(failed.ok()) << "6 MiB never filled";
    const std::string why = failed.ToString() + " / " + (*c)->Stats().checkpoint_error;
    EXPECT_TRUE(failed.IsNoSpace() || why.find("No space") != std::string::npos) << why;
    EXPECT_GT(acked.size(), 100u);
    std::cout << "full after " << acked.size() << " commits: " << why << std::endl;
    ASSERT_EQ(::unlink(ballast.c_str()), 0);
  }
  auto c = Cache::Open(dir, o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  for (const auto& [key, uid] : acked) {
    Result<Entry> e = (*c)->Get(key);
    ASSERT_TRUE(e.ok()) << key << ": " << e.status().ToString();
    EXPECT_EQ(e->update_id, uid) << key;
  }
  EXPECT_TRUE((*c)->Put("after", "x").ok());
}

}  // namespace
}  // namespace walcache

// File modes: every file walcache or its RocksDB store creates in DIR is owner-only (0600), and
// every directory 0700, whatever the process's umask — a cache holds other people's data.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include "engine/owner_only_fs.h"
#include "tests/test_util.h"
#include "walcache/cache.h"

namespace walcache {
namespace {

namespace fs = std::filesystem;

// Sets the process umask for the scope (0: nothing masked, so only the creator's mode counts).
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t m) : old_(::umask(m)) {}
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

mode_t ModeOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// Every entry under `dir`, and `dir` itself: files 0600, directories 0700. Returns the number of
// regular files seen.
int ExpectOwnerOnly(const fs::path& dir) {
  EXPECT_EQ(ModeOf(dir), 0700u) << dir;
  int files = 0;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_directory()) {
      EXPECT_EQ(ModeOf(e.path()), 0700u) << e.path();
    } else {
      ++files;
      EXPECT_TRUE(e.is_regular_file()) << e.path();
      EXPECT_EQ(ModeOf(e.path()), 0600u) << std::oct << ModeOf(e.path()) << " " << e.path();
    }
  }
  return files;
}

TEST(FileModesTest, EveryFileAndDirectoryIsOwnerOnlyWhateverTheUmask) {
  test::ScratchDir scratch;
  const fs::path dir = fs::path(scratch.path()) / "db";
  ScopedUmask none(0);
  Options o;
  o.wal_segment_size = 64 << 10;  // several segments
  {
    auto c = Cache::Open(dir.string(), o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    const std::string value(1000, 'v');
    for (int i = 0; i < 300; ++i) {
      ASSERT_TRUE((*c)->Put("k" + std::to_string(i), value).ok());
    }
    ASSERT_TRUE((*c)->Checkpoint().ok());
    for (int i = 0; i < 200; ++i) {
      ASSERT_TRUE((*c)->Put("k" + std::to_string(i), value + "2").ok());
    }
    ASSERT_TRUE((*c)->Compact().ok());  // SST files and a new MANIFEST
    ExpectOwnerOnly(dir);
  }
  // A reopen (recovery, LAST_RECOVERY, RocksDB's new logs and OPTIONS) creates more files.
  auto c = Cache::Open(dir.string(), o);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_TRUE((*c)->Put("after", "reopen").ok());
  const int files = ExpectOwnerOnly(dir);
  EXPECT_GE(files, 10);  // the WAL, LOCK, LAST_RECOVERY and RocksDB's own were all looked at
  bool saw_sst = false;
  for (const fs::directory_entry& e : fs::recursive_directory_iterator(dir)) {
    saw_sst = saw_sst || e.path().extension() == ".sst";
  }
  EXPECT_TRUE(saw_sst);
}

// A store whose RocksDB files were made wider (by a build before they were owner-only) keeps
// them through read-only opens, which change nothing, and is narrowed at its next writable open.
TEST(FileModesTest, AStoreMadeBeforeIsNarrowedAtItsNextWritableOpenOnly) {
  test::ScratchDir scratch;
  const fs::path dir = fs::path(scratch.path()) / "db";
  {
    auto c = Cache::Open(dir.string(), Options());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_TRUE((*c)->Put("k", "v").ok());
  }
  const fs::path rocks = dir / "rocksdb";
  ASSERT_EQ(::chmod(rocks.c_str(), 0755), 0);
  int widened = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(rocks)) {
    if (e.is_regular_file()) widened += ::chmod(e.path().c_str(), 0644) == 0;
  }
  ASSERT_GE(widened, 5);
  {
    Options ro;
    ro.read_only = true;
    auto c = Cache::Open(dir.string(), ro);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_TRUE((*c)->Get("k").ok());
  }
  EXPECT_EQ(ModeOf(rocks), 0755u) << "a read-only open changed a mode";
  {
    auto c = Cache::Open(dir.string(), Options());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
  }
  ExpectOwnerOnly(dir);
}

// A directory that already exists keeps the mode its owner gave it; what walcache creates in it
// is still owner-only.
// A crash-test cycle under load once failed to open a cache: "stat …/rocksdb/001616.sst: No such
// file" — the walk ran after RocksDB had opened, and RocksDB's background threads deleted an
// obsolete file between the walk's listing and its look at it. A file that goes during the walk
// needs no narrowing; here another thread deletes every file as the walk runs.
TEST(FileModesTest, AFileDeletedDuringTheWalkIsNoError) {
  test::ScratchDir dir;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 2000; ++i) {
      const std::string p = dir.Join("f" + std::to_string(i));
      std::FILE* f = std::fopen(p.c_str(), "w");
      ASSERT_NE(f, nullptr);
      std::fclose(f);
      ASSERT_EQ(::chmod(p.c_str(), 0644), 0);
    }
    std::thread deleter([&] {
      DIR* d = ::opendir(dir.path().c_str());
      while (dirent* e = d != nullptr ? ::readdir(d) : nullptr) {
        if (e->d_name[0] == 'f') (void)::unlink(dir.Join(e->d_name).c_str());
      }
      if (d != nullptr) ::closedir(d);
    });
    const Status s = engine::NarrowExisting(dir.path());
    deleter.join();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_TRUE(engine::NarrowExisting(dir.Join("missing")).ok()) << "nothing to narrow";
}

TEST(FileModesTest, AnExistingDirectoryKeepsItsMode) {
  test::ScratchDir scratch;
  const fs::path dir = fs::path(scratch.path()) / "shared";
  ASSERT_EQ(::mkdir(dir.c_str(), 0750), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0750), 0);
  ScopedUmask none(0);
  {
    auto c = Cache::Open(dir.string(), Options());
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_TRUE((*c)->Put("k", "v").ok());
  }
  EXPECT_EQ(ModeOf(dir), 0750u);
  for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
    if (e.is_directory()) {
      ExpectOwnerOnly(e.path());
    } else {
      EXPECT_EQ(ModeOf(e.path()), 0600u) << e.path();
    }
  }
}

}  // namespace
}  // namespace walcache

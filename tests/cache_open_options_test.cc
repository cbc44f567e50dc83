// Tests of what Cache::Open creates: Options::create_if_missing and error_if_exists, missing
// parent directories, and a plain file where the directory belongs (include/walcache/options.h).
// Thread-safety: not thread-safe; one test at a time.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/test_util.h"
#include "walcache/cache.h"

namespace walcache {
namespace {

namespace fs = std::filesystem;

Options Quiet() {
  Options o;
  o.wal_segment_size = 64 << 10;
  o.checkpoint_interval = std::chrono::milliseconds(0);
  return o;
}

TEST(CacheOpenOptions, ByDefaultOpenCreatesTheDirectoryAndItsMissingParents) {
  test::ScratchDir scratch;
  const std::string dir = scratch.Join("a/b/cache");
  auto c = Cache::Open(dir, Quiet());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(fs::is_directory(dir + "/rocksdb"));
  EXPECT_EQ(fs::status(scratch.Join("a")).permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST(CacheOpenOptions, WithoutCreateIfMissingOpenTakesOnlyAnExistingCache) {
  test::ScratchDir scratch;
  Options o = Quiet();
  o.create_if_missing = false;
  const std::string missing = scratch.Join("missing");
  auto m = Cache::Open(missing, o);
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(m.status().IsNotFound()) << m.status().ToString();
  EXPECT_FALSE(fs::exists(missing));

  const std::string plain = scratch.Join("plain");
  fs::create_directory(plain);
  test::WriteFile(plain + "/notes.txt", "not a cache");
  auto p = Cache::Open(plain, o);
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(p.status().IsInvalidArgument()) << p.status().ToString();
  EXPECT_NE(p.status().message().find("not a walcache directory"), std::string::npos);
  EXPECT_FALSE(fs::exists(plain + "/rocksdb")) << "it was turned into a cache";
  EXPECT_FALSE(fs::exists(plain + "/LOCK"));

  const std::string cache = scratch.Join("cache");
  { ASSERT_TRUE(Cache::Open(cache, Quiet()).ok()); }
  auto again = Cache::Open(cache, o);
  EXPECT_TRUE(again.ok()) << again.status().ToString();
}

TEST(CacheOpenOptions, ErrorIfExistsRefusesAnExistingCacheButCreatesANewOne) {
  test::ScratchDir scratch;
  Options o = Quiet();
  o.error_if_exists = true;
  const std::string dir = scratch.Join("cache");
  { ASSERT_TRUE(Cache::Open(dir, o).ok()) << "a new cache is fine"; }
  auto second = Cache::Open(dir, o);
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsInvalidArgument()) << second.status().ToString();
  EXPECT_NE(second.status().message().find("already holds a cache"), std::string::npos);
}

TEST(CacheOpenOptions, APlainFileWhereTheDirectoryBelongsIsAClearError) {
  test::ScratchDir scratch;
  const std::string file = scratch.Join("file");
  test::WriteFile(file, "x");
  auto c = Cache::Open(file, Quiet());
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.status().IsInvalidArgument()) << c.status().ToString();
  EXPECT_EQ(c.status().message(), file + " is a file, not a cache directory");
  auto under = Cache::Open(file + "/cache", Quiet());
  ASSERT_FALSE(under.ok());
  EXPECT_NE(under.status().message().find("is a file, not a directory"), std::string::npos)
      << under.status().ToString();
  EXPECT_EQ(test::ReadFile(file), "x");
}

}  // namespace
}  // namespace walcache

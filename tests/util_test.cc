// util/: byte coding, CRC32C, Status/Result, the POSIX file seam and the fault layer over it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <random>
#include <string>

#include "tests/child_process.h"
#include "tests/fault_file_system.h"
#include "tests/test_util.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/file_system.h"
#include "walcache/result.h"
#include "walcache/status.h"

namespace walcache {
namespace {

TEST(Coding, FixedRoundTripIsLittleEndian) {
  std::string s;
  PutFixed32(&s, 0x04030201);
  PutFixed64(&s, 0x0807060504030201ull);
  ASSERT_EQ(s.size(), 12u);
  EXPECT_EQ(s[0], 1);
  EXPECT_EQ(s[4], 1);
  EXPECT_EQ(s[11], 8);
  std::string_view in = s;
  uint32_t a = 0;
  uint64_t b = 0;
  ASSERT_TRUE(GetFixed32(&in, &a));
  ASSERT_TRUE(GetFixed64(&in, &b));
  EXPECT_EQ(a, 0x04030201u);
  EXPECT_EQ(b, 0x0807060504030201ull);
  EXPECT_TRUE(in.empty());
  EXPECT_FALSE(GetFixed32(&in, &a));
}

TEST(Coding, VarintRoundTripAtEveryBoundary) {
  std::vector<uint64_t> values = {0, 1, 127, 128, 16383, 16384, UINT32_MAX, UINT64_MAX};
  for (int shift = 0; shift < 64; ++shift) {
    values.push_back(1ull << shift);
    values.push_back((1ull << shift) - 1);
  }
  for (uint64_t v : values) {
    std::string s;
    PutVarint64(&s, v);
    EXPECT_EQ(s.size(), VarintLength(v)) << v;
    std::string_view in = s;
    uint64_t got = 0;
    ASSERT_TRUE(GetVarint64(&in, &got)) << v;
    EXPECT_EQ(got, v);
    EXPECT_TRUE(in.empty());
    // Every strict prefix is rejected and leaves the input untouched.
    for (size_t n = 0; n < s.size(); ++n) {
      std::string_view part(s.data(), n);
      EXPECT_FALSE(GetVarint64(&part, &got));
      EXPECT_EQ(part.size(), n);
    }
  }
}

TEST(Coding, VarintRejectsOverflow) {
  // 2^32 does not fit a varint32; an 11-byte or overflowing 10-byte varint64 is rejected.
  std::string s;
  PutVarint64(&s, 1ull << 32);
  std::string_view in = s;
  uint32_t v32 = 0;
  EXPECT_FALSE(GetVarint32(&in, &v32));
  const std::string too_long(10, '\xff');
  in = too_long;
  uint64_t v64 = 0;
  EXPECT_FALSE(GetVarint64(&in, &v64));
  const std::string overflow = std::string(9, '\xff') + '\x02';
  in = overflow;
  EXPECT_FALSE(GetVarint64(&in, &v64));
}

TEST(Coding, LengthPrefixedRejectsLengthBeyondInput) {
  std::string s;
  PutLengthPrefixed(&s, "hello");
  std::string_view in = s;
  std::string_view out;
  ASSERT_TRUE(GetLengthPrefixed(&in, &out));
  EXPECT_EQ(out, "hello");
  std::string lying;
  PutVarint32(&lying, 1000);
  lying += "short";
  in = lying;
  EXPECT_FALSE(GetLengthPrefixed(&in, &out));
  EXPECT_EQ(in.size(), lying.size());
}

TEST(Crc32c, MatchesPublishedVectors) {
  // RFC 3720 appendix B.4 and the common "123456789" check value.
  EXPECT_EQ(crc32c::Value("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c::Value(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c::Value(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending;
  for (int i = 0; i < 32; ++i) ascending.push_back(static_cast<char>(i));
  EXPECT_EQ(crc32c::Value(ascending), 0x46DD794Eu);
}

TEST(Crc32c, HardwareAndPortableAgreeAndExtendComposes) {
  std::mt19937_64 rng(7);
  for (size_t n : {0, 1, 7, 8, 9, 63, 64, 65, 1000, 4097}) {
    std::string data(n, '\0');
    for (char& c : data) c = static_cast<char>(rng());
    const uint32_t whole = crc32c::Value(data);
    EXPECT_EQ(whole, crc32c::ExtendPortable(0, data.data(), n)) << n;
    for (size_t split : {size_t{0}, n / 3, n}) {
      EXPECT_EQ(whole,
                crc32c::Extend(crc32c::Value(data.data(), split), data.data() + split, n - split));
    }
  }
}

TEST(StatusTest, ToStringNamesCodeMessageAndErrno) {
  EXPECT_EQ(Status::OK().ToString(), "OK");
  EXPECT_EQ(Status::Corruption("f at offset 3").ToString(), "Corruption: f at offset 3");
  const Status io = Status::IOError("write /x", ENOSPC);
  EXPECT_TRUE(io.IsNoSpace());
  EXPECT_NE(io.ToString().find("errno 28"), std::string::npos) << io.ToString();
  EXPECT_EQ(io.WithContext("wal").message(), "wal: write /x");
  EXPECT_EQ(io.WithContext("wal").sys_errno(), ENOSPC);
  EXPECT_FALSE(Status::IOError("x", EIO).IsNoSpace());
}

TEST(ResultTest, HoldsValueOrError) {
  Result<std::string> good = std::string("v");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, "v");
  EXPECT_TRUE(good.status().ok());
  Result<std::string> bad = Status::NotFound("k");
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(bad.status().IsNotFound());
  EXPECT_DEATH((void)bad.value(), "value\\(\\) of an error Result");
}

class FileSystemTest : public ::testing::Test {
 protected:
  test::ScratchDir dir_;
  FileSystem* fs_ = FileSystem::Posix();
};

TEST(PathTest, DirOfAndJoinPath) {
  EXPECT_EQ(DirOf("/a/b/c.wal"), "/a/b");
  EXPECT_EQ(DirOf("/top"), "/") << "a file in the root: its directory is the root";
  EXPECT_EQ(DirOf("name"), ".");
  EXPECT_EQ(DirOf("rel/name"), "rel");
  EXPECT_EQ(JoinPath("/a", "b"), "/a/b");
  EXPECT_EQ(JoinPath("/a/", "b"), "/a/b");
}

TEST_F(FileSystemTest, CreateNewRefusesExistingFileAndAllocateReadsAsZeros) {
  const std::string path = dir_.Join("f");
  auto f = fs_->OpenWritable(path, OpenMode::kCreateNew);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_TRUE((*f)->Allocate(0, 8192).ok());
  ASSERT_TRUE((*f)->Write(100, "abc").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  ASSERT_TRUE((*f)->Close().ok());
  const auto again = fs_->OpenWritable(path, OpenMode::kCreateNew);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().sys_errno(), EEXIST);
  EXPECT_NE(again.status().message().find(path), std::string::npos);

  auto r = fs_->OpenReadable(path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*(*r)->Size(), 8192u);
  std::string buf(200, 'x');
  size_t got = 0;
  ASSERT_TRUE((*r)->Read(0, buf.size(), buf.data(), &got).ok());
  EXPECT_EQ(got, 200u);
  EXPECT_EQ(buf.substr(0, 100), std::string(100, '\0'));
  EXPECT_EQ(buf.substr(100, 3), "abc");
  ASSERT_TRUE((*r)->Read(8190, 10, buf.data(), &got).ok());
  EXPECT_EQ(got, 2u);  // short only at end of file
}

TEST_F(FileSystemTest, ListDirDeleteRenameAndSyncDir) {
  ASSERT_TRUE(fs_->CreateDir(dir_.Join("sub")).ok());
  ASSERT_TRUE(fs_->CreateDir(dir_.Join("sub")).ok());  // existing directory is fine
  test::WriteFile(dir_.Join("sub/a"), "1");
  ASSERT_TRUE(fs_->RenameFile(dir_.Join("sub/a"), dir_.Join("sub/b")).ok());
  ASSERT_TRUE(fs_->SyncDir(dir_.Join("sub")).ok());
  auto names = fs_->ListDir(dir_.Join("sub"));
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"b"});
  EXPECT_TRUE(fs_->Exists(dir_.Join("sub/b")).ok());
  EXPECT_TRUE(fs_->Exists(dir_.Join("sub/a")).IsNotFound());
  ASSERT_TRUE(fs_->DeleteFile(dir_.Join("sub/b")).ok());
  EXPECT_EQ(fs_->DeleteFile(dir_.Join("sub/b")).sys_errno(), ENOENT);
  EXPECT_TRUE(fs_->ListDir(dir_.Join("missing")).status().IsIOError());
}

TEST_F(FileSystemTest, FaultRulesSkipCountFilterAndShortWrite) {
  FaultFileSystem faults(fs_);
  faults.AddRule({.op = FaultOp::kSync,
                  .error = Status::IOError("disk", EIO),
                  .path_contains = "victim",
                  .skip = 1,
                  .times = 2});
  auto victim = faults.OpenWritable(dir_.Join("victim"), OpenMode::kCreateNew);
  auto other = faults.OpenWritable(dir_.Join("other"), OpenMode::kCreateNew);
  ASSERT_TRUE(victim.ok() && other.ok());
  EXPECT_TRUE((*victim)->Sync().ok());  // skipped
  EXPECT_EQ((*victim)->Sync().sys_errno(), EIO);
  EXPECT_EQ((*victim)->Sync().sys_errno(), EIO);
  EXPECT_TRUE((*victim)->Sync().ok());  // times exhausted
  EXPECT_TRUE((*other)->Sync().ok());   // path filter
  EXPECT_EQ(faults.Calls(FaultOp::kSync), 5u);
  EXPECT_EQ(faults.Injected(FaultOp::kSync), 2u);

  faults.AddRule({.op = FaultOp::kWrite,
                  .error = Status::IOError("full", ENOSPC),
                  .path_contains = "other",
                  .short_write_bytes = 3});
  const Status s = (*other)->Write(0, "abcdef");
  EXPECT_TRUE(s.IsNoSpace());
  EXPECT_NE(s.message().find("other"), std::string::npos);
  ASSERT_TRUE((*other)->Close().ok());
  EXPECT_EQ(test::ReadFile(dir_.Join("other")), "abc");  // the prefix landed for real

  faults.ClearRules();
  EXPECT_TRUE((*victim)->Write(0, "x").ok());
}

TEST_F(FileSystemTest, SecondLockOfTheSameFileIsBusyAndNamesTheHolder) {
  const std::string path = dir_.Join("LOCK");
  auto first = fs_->LockFile(path);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // The same process, through a second open: refused at once, naming path and holder.
  auto second = fs_->LockFile(path);
  ASSERT_TRUE(second.status().IsBusy()) << second.status().ToString();
  EXPECT_NE(second.status().message().find(path), std::string::npos);
  EXPECT_NE(second.status().message().find("pid " + std::to_string(::getpid())), std::string::npos)
      << second.status().message();
  first->reset();
  EXPECT_TRUE(fs_->LockFile(path).ok()) << "released with the object";
}

TEST_F(FileSystemTest, LockHeldByAnotherProcessIsBusyUntilItDies) {
  const std::string path = dir_.Join("LOCK");
  int ready[2];
  int release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  test::Child child([&]() -> int {
    auto lock = FileSystem::Posix()->LockFile(path);
    const char c = lock.ok() ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    char wait;
    (void)!::read(release[0], &wait, 1);
    ::_exit(0);  // dies (_exit) holding the lock: the OS releases it
  });
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(c, 'y');
  auto busy = fs_->LockFile(path);
  ASSERT_TRUE(busy.status().IsBusy()) << busy.status().ToString();
  EXPECT_NE(busy.status().message().find("pid " + std::to_string(child.pid())), std::string::npos)
      << busy.status().message();
  (void)!::write(release[1], "x", 1);
  ASSERT_TRUE(child.Wait().exited());
  EXPECT_TRUE(fs_->LockFile(path).ok());
  for (int fd : {ready[0], ready[1], release[0], release[1]}) ::close(fd);
}

}  // namespace
}  // namespace walcache

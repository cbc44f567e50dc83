// wal::NonZeroEnd (wal/tail_scan.h) over a preallocated segment: it finds the last non-zero byte
// wherever it lies — in written space, deep inside fallocated space, across read-ahead chunks —
// exactly as a scan of every byte does, while reading only what the file system does not know
// to be zeros (lseek's SEEK_DATA/SEEK_HOLE; a file that reports no holes is read whole).
#include "wal/tail_scan.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/test_util.h"
#include "util/file_system.h"

namespace walcache::wal {
namespace {

// Passes reads to the real file and counts their bytes; with `holes` false it reports none
// (ReadableFile's default), so every byte is read.
class CountingFile final : public ReadableFile {
 public:
  CountingFile(std::unique_ptr<ReadableFile> base, bool holes)
      : base_(std::move(base)), holes_(holes) {}
  Status Read(uint64_t offset, size_t n, char* scratch, size_t* got) const override {
    Status s = base_->Read(offset, n, scratch, got);
    read_ += *got;
    return s;
  }
  Result<uint64_t> Size() const override { return base_->Size(); }
  Status DataRange(uint64_t offset, uint64_t* data, uint64_t* hole) const override {
    return holes_ ? base_->DataRange(offset, data, hole)
                  : ReadableFile::DataRange(offset, data, hole);
  }
  const std::string& path() const override { return base_->path(); }
  uint64_t read() const { return read_; }

 private:
  const std::unique_ptr<ReadableFile> base_;
  const bool holes_;
  mutable uint64_t read_ = 0;
};

constexpr uint64_t kSize = 16 << 20;

struct Scan {
  uint64_t end = 0;
  uint64_t read = 0;
};

Scan NonZeroEndOf(const std::string& path, uint64_t from, bool holes) {
  auto f = FileSystem::Posix()->OpenReadable(path);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  CountingFile file(std::move(*f), holes);
  SegmentView view(&file, kSize);
  Result<uint64_t> end = NonZeroEnd(&view, from);
  EXPECT_TRUE(end.ok()) << end.status().ToString();
  return Scan{end.ok() ? *end : 0, file.read()};
}

// A file of kSize bytes, fallocated, with `len` bytes of 0x5a written at each offset.
std::string Preallocated(const test::ScratchDir& dir, const std::vector<uint64_t>& offsets,
                         size_t len) {
  const std::string path = dir.Join("segment");
  auto w = FileSystem::Posix()->OpenWritable(path, OpenMode::kCreateNew);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_TRUE((*w)->Allocate(0, kSize).ok());
  for (uint64_t off : offsets) EXPECT_TRUE((*w)->Write(off, std::string(len, '\x5a')).ok());
  EXPECT_TRUE((*w)->Close().ok());
  return path;
}

TEST(TailScanTest, FindsTheLastNonZeroByteWhereverItIsAndReadsOnlyData) {
  const std::vector<std::vector<uint64_t>> cases = {
      {},                                      // all zeros
      {0},                                     // written at the start only
      {4096 * 3 + 17},                         // inside the first pages
      {0, (1 << 20) - 3},                      // across a read-ahead chunk's end
      {0, 9 * (1 << 20) + 4095},               // deep in the reserved space, across a page
      {0, 2 << 20, kSize - 1},                 // the last byte of the file
      {100, 5 << 20, (5 << 20) + 8192, 7777},  // several data ranges
  };
  bool holes_known = false;  // does this file system report fallocated space as a hole?
  {
    test::ScratchDir dir;
    auto f = FileSystem::Posix()->OpenReadable(Preallocated(dir, {}, 0));
    ASSERT_TRUE(f.ok());
    uint64_t data = 0, hole = 0;
    ASSERT_TRUE((*f)->DataRange(0, &data, &hole).ok());
    holes_known = data == UINT64_MAX;
  }
  for (const auto& offsets : cases) {
    test::ScratchDir dir;
    const std::string path = Preallocated(dir, offsets, 2);
    for (uint64_t from : {uint64_t{0}, uint64_t{50}, uint64_t{3} << 20}) {
      // Twice: a scan reads no zero pages of fallocated space into the page cache, where the
      // file system would count them as data for the next one.
      const Scan data = NonZeroEndOf(path, from, /*holes=*/true);
      const Scan again = NonZeroEndOf(path, from, /*holes=*/true);
      const Scan every = NonZeroEndOf(path, from, /*holes=*/false);
      EXPECT_EQ(data.end, every.end) << "from " << from << ", " << offsets.size() << " writes";
      EXPECT_EQ(again.end, every.end);
      EXPECT_EQ(every.read, kSize - from);
      // Where fallocated space nobody wrote is a hole (ext4, xfs), only the pages written are
      // read: two bytes each, in at most two pages.
      if (holes_known && from == 0) {
        EXPECT_LE(data.read, offsets.size() * 8192) << offsets.size() << " writes";
        EXPECT_EQ(again.read, data.read);
      }
    }
  }
}

}  // namespace
}  // namespace walcache::wal

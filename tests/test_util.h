// Test helpers shared by the suites: scratch directories, and tools that break WAL bytes on
// purpose (flip a bit, truncate, zero a range, overwrite) so that exactly the intended damage is
// done. Not thread-safe.
#ifndef WALCACHE_TESTS_TEST_UTIL_H_
#define WALCACHE_TESTS_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace walcache::test {

// A fresh directory under the test temp dir, removed (recursively) on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Whole-file helpers; each fails the current test (ADD_FAILURE) on an I/O error.
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& data);
uint64_t FileSize(const std::string& path);
void TruncateFile(const std::string& path, uint64_t size);
void FlipBit(const std::string& path, uint64_t offset, int bit);
void ZeroRange(const std::string& path, uint64_t offset, uint64_t len);
void Overwrite(const std::string& path, uint64_t offset, const std::string& bytes);
void CopyFile(const std::string& from, const std::string& to);

// Sorted paths of the *.wal segments in `wal_dir`.
std::vector<std::string> SegmentPaths(const std::string& wal_dir);

}  // namespace walcache::test

#endif  // WALCACHE_TESTS_TEST_UTIL_H_

// Test helpers (see test_util.h).
#include "tests/test_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace walcache::test {

namespace fs = std::filesystem;

ScratchDir::ScratchDir() {
  static std::atomic<int> counter{0};
  const char* base = std::getenv("TEST_TMPDIR");
  const fs::path root = base != nullptr ? fs::path(base) : fs::temp_directory_path();
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info != nullptr ? std::string(info->test_suite_name()) + "." + info->name()
                                     : std::string("walcache");
  std::replace(name.begin(), name.end(), '/', '_');
  path_ = (root / ("walcache-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
                   "-" + name))
              .string();
  fs::remove_all(path_);
  fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) ADD_FAILURE() << "cannot read " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

uint64_t FileSize(const std::string& path) { return fs::file_size(path); }

void TruncateFile(const std::string& path, uint64_t size) {
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
    ADD_FAILURE() << "cannot truncate " << path;
  }
}

void FlipBit(const std::string& path, uint64_t offset, int bit) {
  std::string data = ReadFile(path);
  ASSERT_LT(offset, data.size());
  data[offset] = static_cast<char>(data[offset] ^ (1 << bit));
  WriteFile(path, data);
}

void ZeroRange(const std::string& path, uint64_t offset, uint64_t len) {
  Overwrite(path, offset, std::string(len, '\0'));
}

void Overwrite(const std::string& path, uint64_t offset, const std::string& bytes) {
  std::string data = ReadFile(path);
  if (data.size() < offset + bytes.size()) data.resize(offset + bytes.size(), '\0');
  data.replace(offset, bytes.size(), bytes);
  WriteFile(path, data);
}

void CopyFile(const std::string& from, const std::string& to) { WriteFile(to, ReadFile(from)); }

std::vector<std::string> SegmentPaths(const std::string& wal_dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(wal_dir)) {
    if (e.path().extension() == ".wal") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace walcache::test

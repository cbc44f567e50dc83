// SPDX-License-Identifier: Apache-2.0
// A cache directory as files, for tests that check what a command changed or left alone: every
// file's mode, size and hash (Snapshot), the bytes under a path, the WAL's file names.
//
// Thread-safety: not thread-safe; one test at a time.
#ifndef WALCACHE_TESTS_DIR_SNAPSHOT_H_
#define WALCACHE_TESTS_DIR_SNAPSHOT_H_

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace walcache::cli_test {

namespace fs = std::filesystem;

inline bool IsRocksDbInfoLog(const fs::path& p) { return p.filename().string().starts_with("LOG"); }

// Relative path -> "mode size hash" of every file under `dir` ("mode dir" for directories, "mode
// unreadable" for a file this process cannot read), so that a change to any byte, permission or
// name shows. RocksDB's info logs are left out unless `with_info_logs` (RocksDB may append to them
// at any time while a process holds the directory); LOCK too unless `with_lock`.
inline std::map<std::string, std::string> Snapshot(const std::string& dir, bool with_lock = true,
                                                   bool with_info_logs = false) {
  std::map<std::string, std::string> snap;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string rel = fs::relative(it->path(), dir).string();
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0) {
      snap[rel] = "vanished";
      continue;
    }
    std::ostringstream mode;
    mode << std::oct << st.st_mode << " ";
    if (S_ISDIR(st.st_mode)) {
      snap[rel] = mode.str() + "dir";
    } else if ((with_info_logs || !IsRocksDbInfoLog(it->path())) && (with_lock || rel != "LOCK")) {
      std::ifstream in(it->path(), std::ios::binary);
      const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
      if (!in.is_open() || in.bad()) {
        snap[rel] = mode.str() + "unreadable";
        continue;
      }
      snap[rel] = mode.str() + std::to_string(bytes.size()) + " " +
                  std::to_string(std::hash<std::string_view>()(bytes));
    }
  }
  if (ec) ADD_FAILURE() << "cannot list " << dir << ": " << ec.message();
  return snap;
}

// Bytes of the regular files under `path`, RocksDB's info logs excepted (as `compact` counts).
inline uint64_t TreeBytes(const std::string& path) {
  uint64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(path)) {
    if (e.is_regular_file() && !IsRocksDbInfoLog(e.path())) n += e.file_size();
  }
  return n;
}

inline std::vector<std::string> WalFiles(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir + "/wal")) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace walcache::cli_test

#endif  // WALCACHE_TESTS_DIR_SNAPSHOT_H_

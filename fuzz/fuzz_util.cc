// Fuzz target helpers (see fuzz_util.h).
#include "fuzz/fuzz_util.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <system_error>
#include <vector>

#include "util/file_system.h"

namespace walcache::fuzz {
namespace {

std::string* process_dir = nullptr;  // created on first use, removed at exit

void RemoveTree(const std::string& path) {
  std::error_code ec;  // the non-throwing overload: a leftover is not worth a crash
  std::filesystem::remove_all(path, ec);
}

bool IsDir(const char* path) {
  struct stat st;
  return path != nullptr && *path != '\0' && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const std::string& ProcessDir() {
  if (process_dir != nullptr) return *process_dir;
  const char* base = getenv("WALCACHE_FUZZ_TMPDIR");
  if (!IsDir(base)) base = IsDir("/dev/shm") ? "/dev/shm" : getenv("TMPDIR");
  if (!IsDir(base)) base = "/tmp";
  std::string templ = std::string(base) + "/walcache-fuzz-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    PropertyViolated(__FILE__, __LINE__, "cannot create a scratch directory under " + templ);
  }
  process_dir = new std::string(templ);
  atexit([] { RemoveTree(*process_dir); });
  return *process_dir;
}

}  // namespace

std::string FreshScratchPath(std::string_view name) {
  const std::string& dir = ProcessDir();
  Result<std::vector<std::string>> names = FileSystem::Posix()->ListDir(dir);
  FUZZ_CHECK(names.ok(), "scratch: " + names.status().ToString());
  for (const std::string& n : *names) RemoveTree(JoinPath(dir, n));
  return JoinPath(dir, name);
}

void WriteWholeFile(const std::string& path, std::string_view data) {
  auto file = FileSystem::Posix()->OpenWritable(path, OpenMode::kCreateNew);
  FUZZ_CHECK(file.ok(), "scratch file: " + file.status().ToString());
  Status s = (*file)->Write(0, data);
  if (s.ok()) s = (*file)->Close();
  FUZZ_CHECK(s.ok(), "scratch file: " + s.ToString());
}

void PropertyViolated(const char* file, int line, const std::string& what) {
  std::fprintf(stderr, "fuzz property violated at %s:%d: %s\n", file, line, what.c_str());
  std::abort();
}

}  // namespace walcache::fuzz

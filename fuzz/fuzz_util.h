// Helpers shared by the fuzz targets (docs/fuzzing.md): a scratch directory for the files one
// input becomes, on a fast file system, and FUZZ_CHECK, which stops the process with a message
// when a property does not hold (libFuzzer and the regression driver both report it as a crash).
//
// Thread-safety: not thread-safe; a fuzz target runs one input at a time.
#ifndef WALCACHE_FUZZ_FUZZ_UTIL_H_
#define WALCACHE_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace walcache::fuzz {

// Empties this process's scratch directory (what the previous input left) and returns the path
// of `name` inside it, not yet created. The directory lies in $WALCACHE_FUZZ_TMPDIR, else
// /dev/shm (fsync is free there, which keeps runs that open RocksDB fast), else $TMPDIR, else
// /tmp, and is removed when the process exits.
std::string FreshScratchPath(std::string_view name);

// Creates `path` holding exactly `data` (through walcache's FileSystem). Fails the run on error:
// the scratch directory is ours, so an error there is the harness's fault, not the input's.
void WriteWholeFile(const std::string& path, std::string_view data);

// The input as a string_view.
inline std::string_view AsBytes(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// Prints "fuzz property violated at FILE:LINE: WHAT" and aborts.
[[noreturn]] void PropertyViolated(const char* file, int line, const std::string& what);

}  // namespace walcache::fuzz

// Aborts with `what` (a std::string expression, evaluated only on failure) unless `cond`.
#define FUZZ_CHECK(cond, what)                                                   \
  do {                                                                           \
    if (!(cond)) ::walcache::fuzz::PropertyViolated(__FILE__, __LINE__, (what)); \
  } while (0)

#endif  // WALCACHE_FUZZ_FUZZ_UTIL_H_

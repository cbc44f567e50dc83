// ProgressLine: one line on stderr, redrawn in place, for the admin commands' long work (verify,
// scan, repair, compact, inspect --exact). Shown only when stderr is a terminal, never with
// --json, and only once the work has run longer than a second (WALCACHE_PROGRESS_AFTER_MS
// overrides the delay; tests set it to 0); erased when the work ends, so what the command prints
// afterwards starts on a clean line. Redrawn at most every 100 ms.
//
// Thread-safety: not thread-safe; one thread updates one ProgressLine.
#ifndef WALCACHE_TOOLS_PROGRESS_H_
#define WALCACHE_TOOLS_PROGRESS_H_

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

namespace walcache::tools {

class ProgressLine {
 public:
  // `cmd` names the command ("verify"). `quiet` (e.g. --json, or stdout on the same terminal
  // carrying the command's own lines) turns it off.
  ProgressLine(std::string_view cmd, bool quiet)
      : cmd_(cmd),
        on_(!quiet && ::isatty(STDERR_FILENO) != 0),
        start_(std::chrono::steady_clock::now()) {
    if (const char* after = std::getenv("WALCACHE_PROGRESS_AFTER_MS"); after != nullptr) {
      after_ = std::chrono::milliseconds(std::strtoll(after, nullptr, 10));
    }
  }
  ~ProgressLine() { Done(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // "walcache verify: 1200000 entries read" (`n` and `what`), if it is time to redraw.
  void Update(uint64_t n, std::string_view what) {
    if (!on_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - start_ < after_ || (shown_ && now - last_ < std::chrono::milliseconds(100))) return;
    last_ = now;
    shown_ = true;
    std::cerr << "\rwalcache " << cmd_ << ": " << n << " " << what << "\x1b[K" << std::flush;
  }

  // Erases the line (if it was shown); later Updates are ignored.
  void Done() {
    if (shown_) std::cerr << "\r\x1b[K" << std::flush;
    shown_ = false;
    on_ = false;
  }

 private:
  const std::string cmd_;
  bool on_;
  bool shown_ = false;
  const std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
  std::chrono::milliseconds after_{1000};
};

}  // namespace walcache::tools

#endif  // WALCACHE_TOOLS_PROGRESS_H_

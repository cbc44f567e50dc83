// Shared pieces of the `walcache bench` workloads that run steps in child processes (scale,
// crash-open): the binary's own path, running a child and taking its output, the clock and the
// RSS. Header-only; used by tools/ only. Thread-safety: none needed (called from one thread).
#ifndef WALCACHE_TOOLS_BENCH_CHILD_H_
#define WALCACHE_TOOLS_BENCH_CHILD_H_

#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "walcache/result.h"

namespace walcache::tools {

inline double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// VmRSS of this process, 0 where /proc is missing.
inline uint64_t RssBytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

// The walcache binary running now, to run again as a child.
inline Result<std::string> SelfPath() {
  std::error_code ec;
  std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) return Status::IOError("cannot find this binary: " + ec.message());
  return self;
}

// Runs `cmd` through the shell and returns what it printed to stdout; an error unless it exited
// 0, or (with `killed_is_ok`) died of SIGKILL.
inline Result<std::string> RunBenchChild(const std::string& cmd, bool killed_is_ok = false) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return Status::IOError("cannot run " + cmd);
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  const int rc = ::pclose(p);
  // The shell reports a child's death by signal N as 128 + N (or execs it: then it is the status).
  const bool killed = (WIFSIGNALED(rc) && WTERMSIG(rc) == SIGKILL) ||
                      (WIFEXITED(rc) && WEXITSTATUS(rc) == 128 + SIGKILL);
  if (rc != 0 && !(killed_is_ok && killed)) {
    return Status::IOError("'" + cmd + "' failed (status " + std::to_string(rc) + "): " + out);
  }
  return out;
}

}  // namespace walcache::tools

#endif  // WALCACHE_TOOLS_BENCH_CHILD_H_

// SPDX-License-Identifier: Apache-2.0
// Running the `walcache` binary in the CLI's end-to-end tests (tests/cli_*_test.cc,
// damaged_dir_test.cc): fork and exec with stdin given and stdout, stderr (a pipe or a
// pseudo-terminal) and the exit code captured, optionally as another user; and reading what it
// printed (its JSON document, parsed by nlohmann-json; a "NAME=" number; its one-line error).
//
// Thread-safety: not thread-safe; one test at a time.
#ifndef WALCACHE_TESTS_CLI_RUN_H_
#define WALCACHE_TESTS_CLI_RUN_H_

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pty.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "tests/child_process.h"

#ifndef WALCACHE_CLI
#error "WALCACHE_CLI must be the path of the walcache binary (see tests/CMakeLists.txt)"
#endif

namespace walcache::cli_test {

// A parsed --json document. Reading a member that is absent (at) or of another type (get)
// throws, which fails the test that read it.
using Json = nlohmann::json;

struct CliRun {
  int code = -1;  // the exit status; 128 + N if killed by signal N
  std::string out, err;
};

inline std::ostream& operator<<(std::ostream& os, const CliRun& r) {
  return os << "exit " << r.code << "\n--- stdout\n" << r.out << "--- stderr\n" << r.err;
}

constexpr int kCannotDropPrivileges = 126;
// The child could not execute the binary (e.g. as another user, from a checkout inside a
// directory only its owner may enter, such as /root). walcache itself never exits 125.
constexpr int kCannotExec = 125;

// Runs `walcache ARGS...` with `input` on its stdin (then EOF); as user and group `as` if given
// (exit kCannotDropPrivileges if that fails). With `terminal`, stderr is a pseudo-terminal (what
// it showed lands in `err`) and the progress line's delay is 0 (tools/progress.h).
inline CliRun Cli(const std::vector<std::string>& args, const std::string& input = "",
                  std::optional<std::pair<uid_t, gid_t>> as = std::nullopt, bool terminal = false) {
  static const bool ignore_sigpipe = (::signal(SIGPIPE, SIG_IGN), true);
  (void)ignore_sigpipe;
  CliRun r;
  int in[2], out[2], err[2];
  const bool piped = ::pipe2(in, O_CLOEXEC) == 0 && ::pipe2(out, O_CLOEXEC) == 0 &&
                     (terminal ? ::openpty(&err[0], &err[1], nullptr, nullptr, nullptr) == 0
                               : ::pipe2(err, O_CLOEXEC) == 0);
  if (!piped) {
    ADD_FAILURE() << "pipe2/openpty: " << std::strerror(errno);
    return r;
  }
  if (terminal) {  // openpty's descriptors are inherited by exec unless told otherwise
    ::fcntl(err[0], F_SETFD, FD_CLOEXEC);
    ::fcntl(err[1], F_SETFD, FD_CLOEXEC);
  }
  std::vector<std::string> words = {WALCACHE_CLI};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  test::Child child([&] {
    ::dup2(in[0], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    if (terminal) ::setenv("WALCACHE_PROGRESS_AFTER_MS", "0", 1);
    if (as.has_value() &&
        (::setgroups(0, nullptr) != 0 || ::setresgid(as->second, as->second, as->second) != 0 ||
         ::setresuid(as->first, as->first, as->first) != 0)) {
      return kCannotDropPrivileges;
    }
    ::execv(argv[0], argv.data());
    return kCannotExec;
  });
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  if (!input.empty()) (void)!::write(in[1], input.data(), input.size());
  ::close(in[1]);
  if (!test::DrainUntil({{out[0], &r.out}, {err[0], &r.err}}, std::chrono::seconds(60))) {
    ADD_FAILURE() << "walcache did not finish in 60 s; killed";
    child.Kill(SIGKILL);
  }
  r.code = child.Wait().shell_code();
  // In a sanitized build a report may exit 1, which could pass for "found a problem".
  for (const char* report : {"Sanitizer", "runtime error:"}) {
    if (r.err.find(report) != std::string::npos) ADD_FAILURE() << "sanitizer report:\n" << r;
  }
  return r;
}

// The JSON document a command printed on stdout (null, and a failure, if it is not one).
// Strict: trailing text after the document is an error too.
inline Json ParseJson(const CliRun& r) {
  try {
    return Json::parse(r.out);
  } catch (const Json::parse_error& e) {
    ADD_FAILURE() << "not JSON (" << e.what() << "):\n" << r;
    return Json();
  }
}

// stderr is exactly one line, and it names `path`.
inline ::testing::AssertionResult OneLineNaming(const CliRun& r, const std::string& path) {
  if (r.err.empty() || r.err.back() != '\n' || r.err.find('\n') != r.err.size() - 1) {
    return ::testing::AssertionFailure() << "stderr is not one line:\n" << r;
  }
  if (r.err.find(path) == std::string::npos) {
    return ::testing::AssertionFailure() << "stderr does not name " << path << ":\n" << r;
  }
  return ::testing::AssertionSuccess();
}

// The number after "NAME=" in `text`, or UINT64_MAX.
inline uint64_t Field(const std::string& text, const std::string& name) {
  const size_t at = text.find(" " + name + "=");
  if (at == std::string::npos) return UINT64_MAX;
  const size_t start = at + name.size() + 2;
  const size_t end = text.find_first_not_of("0123456789", start);
  if (end == start) return UINT64_MAX;
  return std::stoull(text.substr(start, end - start));
}

// Why the CLI cannot be run as `as` (empty: it can): dropping privileges failed, or that identity
// may not execute the binary. Tests that change identity skip with this reason.
inline std::string CannotRunAs(std::optional<std::pair<uid_t, gid_t>> as) {
  if (!as.has_value()) return "";
  const CliRun r = Cli({"--version"}, "", as);
  if (r.code == kCannotDropPrivileges) {
    return "cannot switch to uid " + std::to_string(as->first) + " (not root?)";
  }
  if (r.code == kCannotExec) {
    return "uid " + std::to_string(as->first) + " cannot execute " + std::string(WALCACHE_CLI) +
           " (is the checkout inside a directory other users cannot enter, such as /root?)";
  }
  return "";
}

}  // namespace walcache::cli_test

#endif  // WALCACHE_TESTS_CLI_RUN_H_

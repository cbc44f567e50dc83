// SPDX-License-Identifier: Apache-2.0
// Child processes for tests: fork, run a function in the child, _exit with what it returned,
// wait, and say how it ended. The one place the suites fork (crash-like deaths, a second process
// holding a lock or a directory, the CLI run with exec).
//
// The child ends with _exit: no atexit handler or static destructor runs, and no stdio buffer is
// flushed. The function's own locals are destroyed when it returns, as any function's are, so a
// Cache it still holds would close (and checkpoint) first: a child that must die holding what it
// opened, as a crashed process does, calls ::_exit itself before they go out of scope. A Child
// not waited for is killed (SIGKILL) and reaped when destroyed, so a test that returns early
// leaves no process behind.
//
// Thread-safety: not thread-safe; fork only from a test's main thread. A child forked after the
// test process used RocksDB may wait forever for RocksDB's threads, which it does not inherit.
#ifndef WALCACHE_TESTS_CHILD_PROCESS_H_
#define WALCACHE_TESTS_CHILD_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace walcache::test {

// How a child process ended, decoded from waitpid's status.
class ChildExit {
 public:
  ChildExit() = default;  // not waited for
  explicit ChildExit(int wait_status) : waited_(true), status_(wait_status) {}

  bool waited() const { return waited_; }
  bool exited() const;    // by _exit or exit
  int code() const;       // the exit code if exited(), else -1
  bool signaled() const;  // killed by a signal
  int signal() const;     // that signal, else 0
  bool ok() const { return exited() && code() == 0; }
  // The exit code a shell would report: code(), or 128 + signal(); -1 if not waited for.
  int shell_code() const;
  std::string ToString() const;  // "exit 3", "killed by signal 9 (Killed)", "not waited for"

 private:
  bool waited_ = false;
  int status_ = 0;
};
std::ostream& operator<<(std::ostream& os, const ChildExit& e);

// A forked child running `body`; it _exits with body's return value (unless body _exits first).
class Child {
 public:
  // Forks. If fork fails, the test fails (ADD_FAILURE) and pid() is -1.
  explicit Child(const std::function<int()>& body);
  ~Child();  // kills and reaps a child not waited for
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  // Waits for the child to end (once; later calls return the same). The test fails
  // (ADD_FAILURE) if waitpid does.
  ChildExit Wait();
  // Sends `sig` to a child not yet waited for.
  void Kill(int sig);

 private:
  pid_t pid_ = -1;
  ChildExit exit_;
};

// Forks, runs `body` in the child, and waits for it.
ChildExit RunInChild(const std::function<int()>& body);

// Reads each fd (a child's pipe) into its string until every one reaches EOF (true) or `timeout`
// passes (false), then closes them all.
bool DrainUntil(std::vector<std::pair<int, std::string*>> sinks, std::chrono::milliseconds timeout);

}  // namespace walcache::test

#endif  // WALCACHE_TESTS_CHILD_PROCESS_H_

// SPDX-License-Identifier: Apache-2.0
// Child processes for tests (see child_process.h).
#include "tests/child_process.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace walcache::test {

bool ChildExit::exited() const { return waited_ && WIFEXITED(status_); }
int ChildExit::code() const { return exited() ? WEXITSTATUS(status_) : -1; }
bool ChildExit::signaled() const { return waited_ && WIFSIGNALED(status_); }
int ChildExit::signal() const { return signaled() ? WTERMSIG(status_) : 0; }
int ChildExit::shell_code() const {
  if (exited()) return code();
  return signaled() ? 128 + signal() : -1;
}

std::string ChildExit::ToString() const {
  if (exited()) return "exit " + std::to_string(code());
  if (signaled()) {
    return "killed by signal " + std::to_string(signal()) + " (" + ::strsignal(signal()) + ")";
  }
  return waited_ ? "wait status " + std::to_string(status_) : "not waited for";
}

std::ostream& operator<<(std::ostream& os, const ChildExit& e) { return os << e.ToString(); }

Child::Child(const std::function<int()>& body) {
  pid_ = ::fork();
  if (pid_ == 0) ::_exit(body());
  if (pid_ < 0) ADD_FAILURE() << "fork: " << std::strerror(errno);
}

Child::~Child() {
  if (pid_ > 0 && !exit_.waited()) {
    ::kill(pid_, SIGKILL);
    Wait();
  }
}

ChildExit Child::Wait() {
  if (pid_ <= 0 || exit_.waited()) return exit_;
  int status = 0;
  pid_t r;
  while ((r = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
  }
  if (r != pid_) {
    ADD_FAILURE() << "waitpid(" << pid_ << "): " << std::strerror(errno);
    pid_ = -1;  // not ours to wait for again
    return exit_;
  }
  exit_ = ChildExit(status);
  return exit_;
}

void Child::Kill(int sig) {
  if (pid_ > 0 && !exit_.waited()) ::kill(pid_, sig);
}

ChildExit RunInChild(const std::function<int()>& body) { return Child(body).Wait(); }

bool DrainUntil(std::vector<std::pair<int, std::string*>> sinks,
                std::chrono::milliseconds timeout) {
  std::vector<pollfd> fds;
  for (const auto& s : sinks) fds.push_back({s.first, POLLIN, 0});
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t open_fds = fds.size();
  bool finished = true;
  while (open_fds > 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      finished = false;
      break;
    }
    if (::poll(fds.data(), fds.size(), static_cast<int>(left.count())) < 0 && errno != EINTR) {
      break;
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
      if (n > 0) {
        sinks[i].second->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (const pollfd& p : fds) {
    if (p.fd >= 0) ::close(p.fd);
  }
  return finished;
}

}  // namespace walcache::test

// Planted lock mistakes for the thread-safety check's own test (tools/dev, `thread_safety`):
// compiled with clang -Wthread-safety -Werror, this file must be rejected, at both marked lines.
// Never part of a build.
#include "util/mutex.h"

namespace {

class Counter {
 public:
  void Good() EXCLUDES(mu_) {
    walcache::MutexLock l(&mu_);
    ++n_;
  }
  int ReadsUnlocked() { return n_; }  // PLANTED: n_ is GUARDED_BY(mu_)
  void Helper() REQUIRES(mu_) { ++n_; }
  void CallsHelperUnlocked() { Helper(); }  // PLANTED: Helper REQUIRES(mu_)

 private:
  walcache::Mutex mu_;
  int n_ GUARDED_BY(mu_) = 0;
};

}  // namespace

int main() {
  Counter c;
  c.Good();
  c.CallsHelperUnlocked();
  return c.ReadsUnlocked();
}

// Mutex, MutexLock and CondVar: std::mutex and std::condition_variable with Clang's
// thread-safety annotations (util/thread_annotations.h), so that members marked GUARDED_BY(mu)
// and functions marked REQUIRES(mu) are checked by the compiler (LevelDB's port::Mutex is the
// model). libstdc++'s own types carry no annotations, so they cannot be checked.
//
//   Mutex mu_;
//   uint64_t count_ GUARDED_BY(mu_);
//   void Bump() EXCLUDES(mu_) { MutexLock l(&mu_); ++count_; }
//
// Thread-safety: Mutex and CondVar are thread-safe; a MutexLock belongs to one thread.
#ifndef WALCACHE_UTIL_MUTEX_H_
#define WALCACHE_UTIL_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>

#include "util/thread_annotations.h"

namespace walcache {

class CondVar;

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  // Tells the analysis what the caller knows (no runtime check).
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `mu` for its scope; Unlock() ends that early (and the destructor then does nothing).
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() {
    if (held_) mu_->Unlock();
  }
  void Unlock() RELEASE() {
    held_ = false;
    mu_->Unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
  bool held_ = true;
};

// A condition variable bound to one Mutex. Wait and WaitFor take that mutex, held (the analysis
// checks the caller holds the one it names; `mu` must be the one bound, else they abort), release
// it while they sleep and hold it again when they return; spurious wake-ups happen, so wait in
// a loop on the condition.
class CondVar {
 public:
  explicit CondVar(Mutex* mu) : mu_(mu) {}
  void Wait(Mutex* mu) REQUIRES(mu) {
    Bound(mu);
    std::unique_lock<std::mutex> l(mu_->mu_, std::adopt_lock);
    cv_.wait(l);
    l.release();
  }
  // Returns false if `timeout` passed without a wake-up.
  template <class Rep, class Period>
  bool WaitFor(Mutex* mu, std::chrono::duration<Rep, Period> timeout) REQUIRES(mu) {
    Bound(mu);
    std::unique_lock<std::mutex> l(mu_->mu_, std::adopt_lock);
    const bool woken = cv_.wait_for(l, timeout) == std::cv_status::no_timeout;
    l.release();
    return woken;
  }
  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  void Bound(const Mutex* mu) const {
    if (mu != mu_) std::abort();  // a wait on another mutex would corrupt both
  }

  Mutex* const mu_;
  std::condition_variable cv_;
};

}  // namespace walcache

#endif  // WALCACHE_UTIL_MUTEX_H_

// SingleFlight: one call at a time per key, the others waiting for and sharing its outcome
// (Cache::GetOrLoad's loads, engine/get_or_load.cc).
//
// Thread-safety: thread-safe. Its lock is held only to find, publish and wait for a flight, never
// while `lead` runs, so `lead` may use the cache (and SingleFlight, for other keys).
#ifndef WALCACHE_ENGINE_SINGLE_FLIGHT_H_
#define WALCACHE_ENGINE_SINGLE_FLIGHT_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "util/mutex.h"
#include "util/thread_annotations.h"
#include "walcache/get_or_load.h"
#include "walcache/result.h"

namespace walcache::engine {

class SingleFlight {
 public:
  // Runs `lead` unless a call for `key` is in flight on another thread, and then waits for that
  // call's outcome instead; *led says which. InvalidArgument if this thread is inside `lead` of
  // `key` already (it would wait for itself). If `lead` exits by an exception, the waiters get
  // Aborted and the exception goes on.
  Result<Loaded> Do(std::string_view key, const std::function<Result<Loaded>()>& lead, bool* led)
      EXCLUDES(mu_);
  // Keys with a call in flight (for tests and stats).
  size_t in_flight() const EXCLUDES(mu_);

 private:
  struct Flight {
    std::optional<Result<Loaded>> outcome;  // set once, under mu_
  };
  void Finish(const std::string& key, const std::shared_ptr<Flight>& f, Result<Loaded> outcome)
      EXCLUDES(mu_);

  mutable Mutex mu_;
  CondVar done_{&mu_};
  std::unordered_map<std::string, std::shared_ptr<Flight>> flights_ GUARDED_BY(mu_);
};

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_SINGLE_FLIGHT_H_

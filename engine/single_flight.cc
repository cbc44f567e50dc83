// SingleFlight (see single_flight.h).
#include "engine/single_flight.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace walcache::engine {
namespace {

// The (SingleFlight, key) pairs whose `lead` this thread is running, innermost last.
thread_local std::vector<std::pair<const void*, std::string>> leading_here;

}  // namespace

Result<Loaded> SingleFlight::Do(std::string_view key, const std::function<Result<Loaded>()>& lead,
                                bool* led) {
  const bool recursive = std::any_of(leading_here.begin(), leading_here.end(), [&](const auto& p) {
    return p.first == this && p.second == key;
  });
  if (recursive) {
    return Status::InvalidArgument("GetOrLoad('" + std::string(key) +
                                   "') called by its own loader: it would wait for itself");
  }
  std::shared_ptr<Flight> f;
  {
    MutexLock l(&mu_);
    auto it = flights_.find(std::string(key));
    if (it != flights_.end()) {
      f = it->second;
      while (!f->outcome.has_value()) done_.Wait(&mu_);
      *led = false;
      return *f->outcome;
    }
    f = std::make_shared<Flight>();
    flights_.emplace(std::string(key), f);
  }
  *led = true;
  const std::string k(key);
  leading_here.emplace_back(this, k);
  // Publishes on every way out, an exception included, so no waiter waits forever.
  struct Publish {
    SingleFlight* self;
    const std::string& key;
    const std::shared_ptr<Flight>& f;
    std::optional<Result<Loaded>> outcome;
    ~Publish() {
      leading_here.pop_back();
      self->Finish(key, f,
                   outcome.has_value()
                       ? std::move(*outcome)
                       : Result<Loaded>(Status::Aborted("the loader of '" + key +
                                                        "' exited by an exception")));
    }
  } publish{this, k, f, std::nullopt};
  publish.outcome = lead();
  return *publish.outcome;
}

void SingleFlight::Finish(const std::string& key, const std::shared_ptr<Flight>& f,
                          Result<Loaded> outcome) {
  MutexLock l(&mu_);
  f->outcome = std::move(outcome);
  flights_.erase(key);
  done_.SignalAll();
}

size_t SingleFlight::in_flight() const {
  MutexLock l(&mu_);
  return flights_.size();
}

}  // namespace walcache::engine

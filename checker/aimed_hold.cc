// The aimed hold (see aimed_hold.h).
#include "checker/aimed_hold.h"

#include <cstring>

namespace walcache::checker {
namespace {

// The calling thread's target, until its first pass through its point.
thread_local AimedHold* tl_hold = nullptr;
thread_local const char* tl_point = nullptr;

}  // namespace

AimedHold::Target::Target(AimedHold* hold, KillPoint point) : hold_(hold) {
  tl_hold = hold;
  tl_point = KillPointName(point);
}

AimedHold::Target::~Target() {
  tl_hold = nullptr;
  tl_point = nullptr;
  std::lock_guard<std::mutex> l(hold_->mu_);
  hold_->ended_ = true;
  hold_->cv_.notify_all();
}

void AimedHold::Arm(std::chrono::milliseconds max_hold) {
  std::lock_guard<std::mutex> l(mu_);
  held_ = released_ = ended_ = false;
  max_hold_ = max_hold;
}

bool AimedHold::WaitHeld(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, timeout, [this] { return held_ || ended_; });
  return held_ && !released_;
}

bool AimedHold::Release() {
  std::lock_guard<std::mutex> l(mu_);
  const bool in_time = !released_;
  released_ = true;
  cv_.notify_all();
  return in_time;
}

void AimedHold::Hold() {
  std::unique_lock<std::mutex> l(mu_);
  if (released_) return;  // a late target finds the window closed
  held_ = true;
  cv_.notify_all();
  cv_.wait_for(l, max_hold_, [this] { return released_; });
  released_ = true;
}

void AimedHold::AtKillPoint(const char* name) {
  if (tl_hold == nullptr || std::strcmp(name, tl_point) != 0) return;
  AimedHold* hold = tl_hold;
  tl_hold = nullptr;  // the first pass only
  tl_point = nullptr;
  hold->Hold();
}

}  // namespace walcache::checker

// Health (see health.h).
#include "engine/health.h"

namespace walcache::engine {

Status Health::status() const {
  MutexLock l(&mu_);
  return failed_;
}

void Health::Fail(const Status& s) {
  MutexLock l(&mu_);
  if (failed_.ok()) failed_ = s;
}

Health::Noted Health::NoteCheckpoint(const Status& s) {
  MutexLock l(&mu_);
  // The first success also clears a file that an earlier process left when it died failing.
  const bool was_failing = !checkpoint_error_.empty() || !checkpoint_file_checked_;
  checkpoint_file_checked_ = checkpoint_file_checked_ || s.ok();
  if (s.ok()) {
    checkpoint_error_.clear();
    return Noted{was_failing ? Record::kClear : Record::kNone, checkpoint_failures_};
  }
  checkpoint_failures_++;
  checkpoint_error_ = s.ToString();
  return Noted{Record::kWrite, checkpoint_failures_};
}

uint64_t Health::checkpoint_failures() const {
  MutexLock l(&mu_);
  return checkpoint_failures_;
}

std::string Health::checkpoint_error() const {
  MutexLock l(&mu_);
  return checkpoint_error_;
}

}  // namespace walcache::engine

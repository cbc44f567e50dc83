// SPDX-License-Identifier: Apache-2.0
// The public Cache, Transaction and KeyLock, forwarding to CacheImpl through the Lifeline
// (engine/lifeline.h) where they may outlive the Cache.
//
// Thread-safety: Lifeline::mu guards Lifeline::impl (engine/lifeline.h). Commit() and a KeyLock's
// release hold it shared while they use the impl; Close (and ~Cache through it) holds it
// exclusively to clear the pointer, so it waits for those calls and none starts on a closed impl.
// The Cache's own methods read impl_ unlocked: they must not run concurrently with Close (cache.h).
#include "walcache/cache.h"

#include <mutex>
#include <shared_mutex>

#include "engine/cache_impl.h"
#include "engine/lifeline.h"
#include "engine/log.h"
#include "engine/metrics_text.h"
#include "engine/seams.h"
#include "engine/txn_op.h"

namespace walcache {

using engine::CacheImpl;
using engine::Lifeline;
using Kind = Transaction::Op::Kind;

struct Transaction::State {
  std::shared_ptr<Lifeline> life;
  std::vector<Op> ops;
  bool spent = false;  // Commit() was called
};

Transaction::Transaction(std::shared_ptr<Lifeline> life) : state_(std::make_unique<State>()) {
  state_->life = std::move(life);
}
Transaction::Transaction(Transaction&&) noexcept = default;
Transaction& Transaction::operator=(Transaction&&) noexcept = default;
Transaction::~Transaction() = default;

void Transaction::Record(Op op) {
  if (state_ != nullptr && !state_->spent) state_->ops.push_back(std::move(op));
}

void Transaction::Put(std::string_view key, std::string_view value, PutOptions options) {
  Record(Op{Kind::kPut, std::string(key), std::string(value), options.ttl_ms, 0,
            std::move(options.related)});
}
void Transaction::Delete(std::string_view key) {
  Record(Op{Kind::kDelete, std::string(key), {}, 0, 0, {}});
}
void Transaction::Invalidate(std::string_view key) {
  Record(Op{Kind::kInvalidate, std::string(key), {}, 0, 0, {}});
}
void Transaction::Touch(std::string_view key, uint64_t ttl_ms) {
  Record(Op{Kind::kTouch, std::string(key), {}, ttl_ms, 0, {}});
}
void Transaction::Expect(std::string_view key, uint64_t update_id) {
  Record(Op{Kind::kExpect, std::string(key), {}, 0, update_id, {}});
}
void Transaction::ExpectAbsent(std::string_view key) {
  Record(Op{Kind::kExpectAbsent, std::string(key), {}, 0, 0, {}});
}

Result<uint64_t> Transaction::Commit(std::optional<Durability> durability) {
  if (state_ == nullptr) {
    return Status::InvalidArgument("Commit() of a moved-from Transaction");
  }
  if (state_->spent) {
    return Status::InvalidArgument(
        "Commit() called again on a Transaction that was already committed; nothing written "
        "(begin a new one)");
  }
  state_->spent = true;
  std::vector<Op> ops = std::move(state_->ops);
  state_->ops.clear();
  std::shared_lock<std::shared_mutex> l(state_->life->mu);
  CacheImpl* impl = state_->life->impl;
  if (impl == nullptr) {
    return Status::Aborted(
        "Commit() of a Transaction whose Cache was closed or destroyed; nothing written");
  }
  return impl->Commit(ops, durability.value_or(impl->options().durability));
}

KeyLock::KeyLock(std::shared_ptr<Lifeline> life, std::string key)
    : life_(std::move(life)), key_(std::move(key)) {}
KeyLock::KeyLock(KeyLock&& o) noexcept = default;
KeyLock& KeyLock::operator=(KeyLock&& o) noexcept {
  if (this != &o) {
    (void)Unlock();
    life_ = std::move(o.life_);
    key_ = std::move(o.key_);
  }
  return *this;
}
KeyLock::~KeyLock() { (void)Unlock(); }

Status KeyLock::Unlock() {
  if (life_ == nullptr) return Status::InvalidArgument("KeyLock holds no lock");
  std::shared_ptr<Lifeline> life = std::move(life_);
  life_ = nullptr;
  std::shared_lock<std::shared_mutex> l(life->mu);
  if (life->impl == nullptr) {
    return Status::Aborted("KeyLock of '" + key_ +
                           "' outlived its Cache (closed or destroyed); the lock ended with it");
  }
  life->impl->key_locks().Unlock(key_);
  return Status::OK();
}

bool KeyLock::held() const {
  if (life_ == nullptr) return false;
  std::shared_lock<std::shared_mutex> l(life_->mu);
  return life_->impl != nullptr;
}

Cache::Cache(std::unique_ptr<CacheImpl> impl)
    : impl_(std::move(impl)), life_(std::make_shared<Lifeline>()) {
  life_->impl = impl_.get();
}

Cache::~Cache() {
  if (impl_ == nullptr) return;  // closed: nothing more to do
  const LogFunction log = impl_->options().log;
  const std::string dir = impl_->dir();
  const Status s = Close();
  if (!s.ok()) engine::Log(log, LogLevel::kError, dir + ": close failed: " + s.ToString());
}

Status Cache::Close() {
  if (impl_ == nullptr) return close_status_;
  {
    std::unique_lock<std::shared_mutex> l(life_->mu);  // waits for running Commit() calls
    life_->impl = nullptr;
  }
  closed_recovery_ = impl_->LastRecovery();
  close_status_ = impl_->Close(&closed_stats_);
  impl_.reset();
  return close_status_;
}

namespace {

Status Closed() { return Status::Aborted("the Cache is closed"); }

}  // namespace

Result<std::unique_ptr<Cache>> Cache::Open(const std::string& dir, const Options& options) {
  return engine::CacheOpener::Open(dir, options, engine::Seams{});
}

Result<std::unique_ptr<Cache>> engine::CacheOpener::Open(const std::string& dir,
                                                         const Options& options,
                                                         const Seams& seams) {
  auto impl = CacheImpl::Open(dir, options, seams);
  if (!impl.ok()) return impl.status();
  return std::unique_ptr<Cache>(new Cache(std::move(impl).value()));
}

Result<Entry> Cache::Get(std::string_view key) {
  if (impl_ == nullptr) return Closed();
  return impl_->Get(key);
}

Result<uint64_t> Cache::Put(std::string_view key, std::string_view value, PutOptions options) {
  Transaction t = Begin();
  t.Put(key, value, std::move(options));
  return t.Commit();
}

Result<uint64_t> Cache::Delete(std::string_view key) {
  Transaction t = Begin();
  t.Delete(key);
  return t.Commit();
}

Result<uint64_t> Cache::Touch(std::string_view key, uint64_t ttl_ms) {
  Transaction t = Begin();
  t.Touch(key, ttl_ms);
  return t.Commit();
}

Transaction Cache::Begin() { return Transaction(life_); }

KeyLock Cache::Lock(std::string_view key) {
  // Closed: a KeyLock whose Cache is gone, which holds nothing.
  if (impl_ != nullptr) impl_->key_locks().Lock(key);
  return KeyLock(life_, std::string(key));
}

Status Cache::Scan(std::string_view prefix,
                   const std::function<bool(std::string_view, const Entry&)>& visit) {
  if (impl_ == nullptr) return Closed();
  return impl_->Scan(prefix, visit);
}

Status Cache::Checkpoint() { return impl_ == nullptr ? Closed() : impl_->Checkpoint(); }
Status Cache::Compact() { return impl_ == nullptr ? Closed() : impl_->Compact(); }
CacheStats Cache::Stats() const { return impl_ == nullptr ? closed_stats_ : impl_->Stats(); }
std::string Cache::MetricsText() const { return engine::MetricsText(Stats()); }
RecoveryInfo Cache::LastRecovery() const {
  return impl_ == nullptr ? closed_recovery_ : impl_->LastRecovery();
}
Status Cache::health() const { return impl_ == nullptr ? Closed() : impl_->health(); }
Result<ChangeBatch> Cache::Changes(uint64_t from_update_id, size_t max_txns, uint64_t history) {
  if (impl_ == nullptr) return Closed();
  return impl_->Changes(from_update_id, max_txns, history);
}
Status Cache::SetFeedPosition(std::string_view consumer, uint64_t update_id) {
  return impl_ == nullptr ? Closed() : impl_->SetFeedPosition(consumer, update_id);
}
Status Cache::RemoveFeedConsumer(std::string_view consumer) {
  return impl_ == nullptr ? Closed() : impl_->RemoveFeedConsumer(consumer);
}
std::vector<std::pair<std::string, uint64_t>> Cache::FeedConsumers() const {
  if (impl_ == nullptr) return {};
  return impl_->FeedConsumers();
}

}  // namespace walcache

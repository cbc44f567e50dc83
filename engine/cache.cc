// SPDX-License-Identifier: Apache-2.0
// The public Cache, Transaction and KeyLock, forwarding to CacheImpl; and the Lifeline that
// lets a Transaction or KeyLock outlive its Cache and fail cleanly instead of touching freed
// memory.
//
// Thread-safety: Lifeline::mu guards Lifeline::impl. Commit() and a KeyLock's release hold it
// shared while they use the impl; ~Cache holds it exclusively to clear the pointer, so it waits
// for those calls and none starts on a destroyed impl.
#include "walcache/cache.h"

#include <mutex>
#include <shared_mutex>

#include "engine/cache_impl.h"
#include "engine/seams.h"
#include "engine/txn_op.h"

namespace walcache {
namespace engine {

struct Lifeline {
  std::shared_mutex mu;
  CacheImpl* impl = nullptr;  // null once the Cache is destroyed
};

}  // namespace engine

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
    return Status::Aborted("Commit() of a Transaction whose Cache was destroyed; nothing written");
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
    return Status::Aborted("KeyLock of '" + key_ + "' outlived its Cache; the lock ended with it");
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
  {
    std::unique_lock<std::shared_mutex> l(life_->mu);  // waits for running Commit() calls
    life_->impl = nullptr;
  }
  impl_.reset();
}

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

Result<Entry> Cache::Get(std::string_view key) { return impl_->Get(key); }

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
  impl_->key_locks().Lock(key);
  return KeyLock(life_, std::string(key));
}

Status Cache::Scan(std::string_view prefix,
                   const std::function<bool(std::string_view, const Entry&)>& visit) {
  return impl_->Scan(prefix, visit);
}

Status Cache::Checkpoint() { return impl_->Checkpoint(); }
Status Cache::Compact() { return impl_->Compact(); }
Result<ChangeBatch> Cache::Changes(uint64_t from_update_id, size_t max_txns) {
  return impl_->Changes(from_update_id, max_txns);
}
Status Cache::SetFeedPosition(std::string_view consumer, uint64_t update_id) {
  return impl_->SetFeedPosition(consumer, update_id);
}
Status Cache::RemoveFeedConsumer(std::string_view consumer) {
  return impl_->RemoveFeedConsumer(consumer);
}
std::vector<std::pair<std::string, uint64_t>> Cache::FeedConsumers() const {
  return impl_->FeedConsumers();
}
CacheStats Cache::Stats() const { return impl_->Stats(); }
RecoveryInfo Cache::LastRecovery() const { return impl_->LastRecovery(); }
Status Cache::health() const { return impl_->health(); }

}  // namespace walcache

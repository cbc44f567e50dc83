// The public Cache, Transaction and KeyLock, forwarding to CacheImpl.
#include "walcache/cache.h"

#include "engine/cache_impl.h"
#include "engine/txn_op.h"

namespace walcache {

using engine::CacheImpl;
using Kind = Transaction::Op::Kind;

Transaction::Transaction(CacheImpl* impl)
    : impl_(impl), ops_(std::make_unique<std::vector<Op>>()) {}
Transaction::Transaction(Transaction&&) noexcept = default;
Transaction& Transaction::operator=(Transaction&&) noexcept = default;
Transaction::~Transaction() = default;

void Transaction::Put(std::string_view key, std::string_view value, PutOptions options) {
  ops_->push_back(Op{Kind::kPut, std::string(key), std::string(value), options.ttl_ms, 0,
                     std::move(options.related)});
}
void Transaction::Delete(std::string_view key) {
  ops_->push_back(Op{Kind::kDelete, std::string(key), {}, 0, 0, {}});
}
void Transaction::Invalidate(std::string_view key) {
  ops_->push_back(Op{Kind::kInvalidate, std::string(key), {}, 0, 0, {}});
}
void Transaction::Touch(std::string_view key, uint64_t ttl_ms) {
  ops_->push_back(Op{Kind::kTouch, std::string(key), {}, ttl_ms, 0, {}});
}
void Transaction::Expect(std::string_view key, uint64_t update_id) {
  ops_->push_back(Op{Kind::kExpect, std::string(key), {}, 0, update_id, {}});
}
void Transaction::ExpectAbsent(std::string_view key) {
  ops_->push_back(Op{Kind::kExpectAbsent, std::string(key), {}, 0, 0, {}});
}

Result<uint64_t> Transaction::Commit(std::optional<Durability> durability) {
  return impl_->Commit(*ops_, durability.value_or(impl_->options().durability));
}

KeyLock::KeyLock(KeyLock&& o) noexcept : unlock_(std::move(o.unlock_)) { o.unlock_ = nullptr; }
KeyLock& KeyLock::operator=(KeyLock&& o) noexcept {
  if (this != &o) {
    if (unlock_) unlock_();
    unlock_ = std::move(o.unlock_);
    o.unlock_ = nullptr;
  }
  return *this;
}
KeyLock::~KeyLock() {
  if (unlock_) unlock_();
}

Cache::Cache(std::unique_ptr<CacheImpl> impl) : impl_(std::move(impl)) {}
Cache::~Cache() = default;

Result<std::unique_ptr<Cache>> Cache::Open(const std::string& dir, const Options& options) {
  auto impl = CacheImpl::Open(dir, options);
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

Transaction Cache::Begin() { return Transaction(impl_.get()); }

KeyLock Cache::Lock(std::string_view key) {
  impl_->key_locks().Lock(key);
  std::string k(key);
  engine::KeyLocks* locks = &impl_->key_locks();
  return KeyLock([locks, k] { locks->Unlock(k); });
}

Status Cache::Scan(std::string_view prefix,
                   const std::function<bool(std::string_view, const Entry&)>& visit) {
  return impl_->Scan(prefix, visit);
}

Status Cache::Checkpoint() { return impl_->Checkpoint(); }
Status Cache::Compact() { return impl_->Compact(); }
CacheStats Cache::Stats() const { return impl_->Stats(); }
RecoveryInfo Cache::LastRecovery() const { return impl_->LastRecovery(); }
Status Cache::health() const { return impl_->health(); }

}  // namespace walcache

// FeedRetention (feed_retention.h): DIR/FEED, consumer positions and reader pins.
#include "engine/feed_retention.h"

#include <algorithm>

#include "util/fields_file.h"
#include "util/status_macros.h"

namespace walcache::engine {
namespace {

constexpr std::string_view kConsumerPrefix = "consumer:";

}  // namespace

std::string FeedRetention::Path() const { return dir_ + "/FEED"; }

bool FeedRetention::ValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

Result<std::unique_ptr<FeedRetention>> FeedRetention::Open(FileSystem* fs, std::string dir,
                                                           std::optional<uint64_t> set_bytes,
                                                           bool read_only) {
  std::unique_ptr<FeedRetention> r(new FeedRetention(fs, std::move(dir)));
  MutexLock l(&r->mu_);
  const std::string path = r->Path();
  Result<Fields> fields = ReadFieldsFile(fs, path);
  if (!fields.ok() && !fields.status().IsNotFound()) return fields.status();
  if (fields.ok()) {
    for (const auto& field : *fields) {
      if (field.first == "retain_bytes") {
        WALCACHE_RETURN_IF_ERROR(ParseField(path, field, &r->retain_bytes_));
      } else if (field.first.starts_with(kConsumerPrefix)) {
        const std::string name = field.first.substr(kConsumerPrefix.size());
        if (!ValidName(name)) return Status::Corruption(path + ": bad consumer name " + name);
        uint64_t seq = 0;
        WALCACHE_RETURN_IF_ERROR(ParseField(path, field, &seq));
        r->consumers_[name] = seq;
      }
    }
  }
  // Read-only: nothing is checkpointed, so nothing to keep; the setting stays as stored.
  if (set_bytes.has_value() && *set_bytes != r->retain_bytes_ && !read_only) {
    WALCACHE_RETURN_IF_ERROR(r->Write(*set_bytes, r->consumers_));
    r->retain_bytes_ = *set_bytes;
  }
  return r;
}

Status FeedRetention::Write(uint64_t bytes,
                            const std::map<std::string, uint64_t, std::less<>>& consumers) {
  Fields fields;
  fields.emplace_back("retain_bytes", std::to_string(bytes));
  for (const auto& [name, seq] : consumers) {
    fields.emplace_back(std::string(kConsumerPrefix) + name, std::to_string(seq));
  }
  return WriteFieldsFile(fs_, Path(), fields);
}

FeedRetention::Pin::~Pin() {
  if (owner_ == nullptr) return;
  MutexLock l(&owner_->mu_);
  owner_->pins_.erase(owner_->pins_.find(from_));
}

FeedRetention::Pin FeedRetention::PinFrom(uint64_t from) {
  MutexLock l(&mu_);
  pins_.insert(from);
  return Pin(this, from);
}

Status FeedRetention::SetPosition(std::string_view name, uint64_t update_id) {
  if (!ValidName(name)) {
    return Status::InvalidArgument("feed consumer name must be 1 to 64 of [A-Za-z0-9_.-]: " +
                                   std::string(name));
  }
  MutexLock l(&mu_);
  auto next = consumers_;
  next[std::string(name)] = update_id;
  WALCACHE_RETURN_IF_ERROR(Write(retain_bytes_, next));
  consumers_ = std::move(next);
  return Status::OK();
}

Status FeedRetention::Remove(std::string_view name) {
  MutexLock l(&mu_);
  auto next = consumers_;
  auto it = next.find(name);
  if (it == next.end()) return Status::NotFound("no feed consumer " + std::string(name));
  next.erase(it);
  WALCACHE_RETURN_IF_ERROR(Write(retain_bytes_, next));
  consumers_ = std::move(next);
  return Status::OK();
}

std::vector<std::pair<std::string, uint64_t>> FeedRetention::Consumers() const {
  MutexLock l(&mu_);
  return {consumers_.begin(), consumers_.end()};
}

uint64_t FeedRetention::retain_bytes() const {
  MutexLock l(&mu_);
  return retain_bytes_;
}

Result<uint64_t> FeedRetention::DeleteSegments(
    uint64_t checkpoint_seq,
    const std::function<Result<uint64_t>(uint64_t covered, uint64_t retain_bytes)>& del) {
  MutexLock l(&mu_);
  uint64_t covered = checkpoint_seq;
  for (const auto& [name, seq] : consumers_) covered = std::min(covered, seq);
  if (!pins_.empty()) covered = std::min(covered, *pins_.begin());
  return del(covered, retain_bytes_);
}

}  // namespace walcache::engine

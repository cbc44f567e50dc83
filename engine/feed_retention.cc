// FeedRetention (feed_retention.h): DIR/FEED, consumer positions and reader pins.
#include "engine/feed_retention.h"

#include <algorithm>
#include <random>

#include "util/crc32c.h"
#include "util/fields_file.h"
#include "util/injected_bug.h"
#include "util/status_macros.h"

namespace walcache::engine {
namespace {

constexpr std::string_view kConsumerPrefix = "consumer:";
constexpr std::string_view kEarlierPrefix = "history_from:";
constexpr size_t kMaxEarlier = 16;
constexpr std::string_view kCheckField = "crc32c";

// The checksum the last field of DIR/FEED carries: CRC-32C of every field before it, each as
// "name value\n".
uint32_t Checksum(const Fields& fields, size_t n) {
  uint32_t crc = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::string line = fields[i].first + " " + fields[i].second + "\n";
    crc = crc32c::Extend(crc, line.data(), line.size());
  }
  return crc;
}

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
  std::unique_ptr<FeedRetention> r(new FeedRetention(fs, std::move(dir), read_only));
  MutexLock l(&r->mu_);
  const std::string path = r->Path();
  Result<Fields> fields = ReadFieldsFile(fs, path);
  if (!fields.ok() && !fields.status().IsNotFound()) return fields.status();
  Stored& st = r->stored_;
  if (fields.ok()) {
    // A damaged file must not read as a shorter one (a consumer or the history silently gone):
    // its last field checks the others.
    uint64_t check = 0;
    if (fields->empty() || fields->back().first != kCheckField ||
        !ParseField(path, fields->back(), &check).ok() ||
        check != Checksum(*fields, fields->size() - 1)) {
      return Status::Corruption(path + ": damaged (its " + std::string(kCheckField) +
                                " line is missing or does not match)");
    }
    fields->pop_back();
    for (const auto& field : *fields) {
      if (field.first == "retain_bytes") {
        WALCACHE_RETURN_IF_ERROR(ParseField(path, field, &st.retain_bytes));
      } else if (field.first.starts_with(kConsumerPrefix)) {
        const std::string name = field.first.substr(kConsumerPrefix.size());
        if (!ValidName(name)) return Status::Corruption(path + ": bad consumer name " + name);
        uint64_t seq = 0;
        WALCACHE_RETURN_IF_ERROR(ParseField(path, field, &seq));
        st.consumers[name] = seq;
      } else if (field.first == "history") {
        WALCACHE_RETURN_IF_ERROR(ParseField(path, field, &st.history));
        if (st.history == 0) return Status::Corruption(path + ": history 0");
      } else if (field.first.starts_with(kEarlierPrefix)) {
        uint64_t id = 0, seq = 0;
        const std::pair<std::string, std::string> id_field{
            field.first, field.first.substr(kEarlierPrefix.size())};
        WALCACHE_RETURN_IF_ERROR(ParseField(path, id_field, &id));
        WALCACHE_RETURN_IF_ERROR(ParseField(path, field, &seq));
        st.earlier[id] = seq;
      }
    }
  }
  // Read-only: nothing is checkpointed, so nothing to keep; the setting stays as stored.
  if (set_bytes.has_value() && *set_bytes != st.retain_bytes && !read_only) {
    Stored next = st;
    next.retain_bytes = *set_bytes;
    WALCACHE_RETURN_IF_ERROR(r->Replace(std::move(next)));
  }
  return r;
}

Status FeedRetention::Replace(Stored next) {
  Fields fields;
  fields.emplace_back("retain_bytes", std::to_string(next.retain_bytes));
  for (const auto& [name, seq] : next.consumers) {
    fields.emplace_back(std::string(kConsumerPrefix) + name, std::to_string(seq));
  }
  if (next.history != 0) fields.emplace_back("history", std::to_string(next.history));
  for (const auto& [id, seq] : next.earlier) {
    fields.emplace_back(std::string(kEarlierPrefix) + std::to_string(id), std::to_string(seq));
  }
  fields.emplace_back(kCheckField, std::to_string(Checksum(fields, fields.size())));
  WALCACHE_RETURN_IF_ERROR(WriteFieldsFile(fs_, Path(), fields));
  stored_ = std::move(next);
  return Status::OK();
}

// A random id, neither 0 nor one `st` already names.
uint64_t FeedRetention::NewHistoryId(const Stored& st) {
  std::random_device rd;
  for (;;) {
    const uint64_t id = (static_cast<uint64_t>(rd()) << 32) ^ rd();
    if (id != 0 && id != st.history && st.earlier.count(id) == 0) return id;
  }
}

Result<uint64_t> FeedRetention::History() {
  MutexLock l(&mu_);
  if (stored_.history != 0 || read_only_) return stored_.history;
  Stored next = stored_;
  next.history = NewHistoryId(next);
  WALCACHE_RETURN_IF_ERROR(Replace(std::move(next)));
  return stored_.history;
}

bool FeedRetention::Continues(uint64_t history, uint64_t from) const {
  if (history == 0) return true;
  MutexLock l(&mu_);
  if (history == stored_.history) return true;
  auto it = stored_.earlier.find(history);
  return it != stored_.earlier.end() && from <= it->second;
}

Status FeedRetention::Renew(uint64_t kept_seq) {
  MutexLock l(&mu_);
  Stored next = stored_;
  for (auto& [id, seq] : next.earlier) seq = std::min(seq, kept_seq);
  if (next.history != 0) next.earlier[next.history] = kept_seq;
  while (next.earlier.size() > kMaxEarlier) {
    auto least = std::min_element(next.earlier.begin(), next.earlier.end(),
                                  [](const auto& a, const auto& b) { return a.second < b.second; });
    next.earlier.erase(least);
  }
  next.history = NewHistoryId(next);
  return Replace(std::move(next));
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
  Stored next = stored_;
  next.consumers[std::string(name)] = update_id;
  return Replace(std::move(next));
}

Status FeedRetention::Remove(std::string_view name) {
  MutexLock l(&mu_);
  Stored next = stored_;
  auto it = next.consumers.find(name);
  if (it == next.consumers.end()) return Status::NotFound("no feed consumer " + std::string(name));
  next.consumers.erase(it);
  return Replace(std::move(next));
}

std::vector<std::pair<std::string, uint64_t>> FeedRetention::Consumers() const {
  MutexLock l(&mu_);
  return {stored_.consumers.begin(), stored_.consumers.end()};
}

uint64_t FeedRetention::retain_bytes() const {
  MutexLock l(&mu_);
  return stored_.retain_bytes;
}

Result<uint64_t> FeedRetention::DeleteSegments(
    uint64_t checkpoint_seq,
    const std::function<Result<uint64_t>(uint64_t covered, uint64_t retain_bytes)>& del) {
  MutexLock l(&mu_);
  uint64_t covered = checkpoint_seq;
  for (const auto& [name, seq] : stored_.consumers) {
    if (!BugInjected(InjectedBug::kFeedForgetsConsumers)) covered = std::min(covered, seq);
  }
  if (!pins_.empty()) covered = std::min(covered, *pins_.begin());
  return del(covered, stored_.retain_bytes);
}

}  // namespace walcache::engine

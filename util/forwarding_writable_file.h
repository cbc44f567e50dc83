// SPDX-License-Identifier: Apache-2.0
// ForwardingWritableFile: a WritableFile that passes every call to another it owns, for file
// layers that change a call or two (a sync held at a gate, a sync of fixed latency) and keep
// the rest. A subclass overrides what it changes and calls base() for the real thing.
//
// Thread-safety: as thread-safe as the file it wraps (util/file_system.h).
#ifndef WALCACHE_UTIL_FORWARDING_WRITABLE_FILE_H_
#define WALCACHE_UTIL_FORWARDING_WRITABLE_FILE_H_

#include <memory>
#include <string>
#include <string_view>

#include "util/file_system.h"

namespace walcache {

class ForwardingWritableFile : public WritableFile {
 public:
  explicit ForwardingWritableFile(std::unique_ptr<WritableFile> base) : base_(std::move(base)) {}

  Status Write(uint64_t offset, std::string_view data) override {
    return base_->Write(offset, data);
  }
  Status Sync() override { return base_->Sync(); }
  Status Allocate(uint64_t offset, uint64_t len) override { return base_->Allocate(offset, len); }
  Status Truncate(uint64_t size) override { return base_->Truncate(size); }
  Status Close() override { return base_->Close(); }
  const std::string& path() const override { return base_->path(); }

 protected:
  WritableFile* base() const { return base_.get(); }

 private:
  const std::unique_ptr<WritableFile> base_;
};

}  // namespace walcache

#endif  // WALCACHE_UTIL_FORWARDING_WRITABLE_FILE_H_

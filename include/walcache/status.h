// SPDX-License-Identifier: Apache-2.0
// Status: the outcome of a walcache operation, as a value. walcache reports every error this
// way; the library never throws. A Status is a code, a message naming what failed (file, offset,
// key), and for I/O errors the errno that caused it.
//
// Thread-safety: a Status is a plain value; distinct objects may be used from distinct threads.
#ifndef WALCACHE_STATUS_H_
#define WALCACHE_STATUS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "walcache/export.h"
namespace walcache {

class [[nodiscard]] WALCACHE_EXPORT Status {
 public:
  enum class Code : uint8_t {
    kOk = 0,
    kNotFound,
    kCorruption,       // stored bytes are damaged; names the file and offset
    kInvalidArgument,  // the caller asked for something invalid; nothing was changed
    kIOError,          // the OS failed a call; errno() says why
    kNotSupported,     // e.g. a format version this build does not read
    kBusy,             // a resource is held by someone else (e.g. a locked directory)
    kConflict,         // an optimistic check failed; the transaction had no effect
    kAborted,          // the object is closed or failed earlier; see the message
  };

  Status() = default;  // OK

  static Status OK() { return Status(); }
  static Status NotFound(std::string_view msg) { return Status(Code::kNotFound, msg); }
  static Status Corruption(std::string_view msg) { return Status(Code::kCorruption, msg); }
  static Status InvalidArgument(std::string_view msg) {
    return Status(Code::kInvalidArgument, msg);
  }
  // `err` is the errno of the failed call (0 when none applies).
  static Status IOError(std::string_view msg, int err = 0) {
    return Status(Code::kIOError, msg, err);
  }
  static Status NotSupported(std::string_view msg) { return Status(Code::kNotSupported, msg); }
  static Status Busy(std::string_view msg) { return Status(Code::kBusy, msg); }
  static Status Conflict(std::string_view msg) { return Status(Code::kConflict, msg); }
  static Status Aborted(std::string_view msg) { return Status(Code::kAborted, msg); }

  bool ok() const { return code_ == Code::kOk; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsIOError() const { return code_ == Code::kIOError; }
  bool IsNotSupported() const { return code_ == Code::kNotSupported; }
  bool IsBusy() const { return code_ == Code::kBusy; }
  bool IsConflict() const { return code_ == Code::kConflict; }
  bool IsAborted() const { return code_ == Code::kAborted; }
  // True iff this is an I/O error caused by a full device (ENOSPC or EDQUOT).
  bool IsNoSpace() const;

  Code code() const { return code_; }
  const std::string& message() const { return msg_; }
  int sys_errno() const { return errno_; }

  // "OK", or "<Code name>: <message>" with " (errno N: text)" for I/O errors.
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>"; OK stays OK.
  Status WithContext(std::string_view context) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.errno_ == b.errno_ && a.msg_ == b.msg_;
  }

 private:
  Status(Code code, std::string_view msg, int err = 0) : code_(code), errno_(err), msg_(msg) {}

  Code code_ = Code::kOk;
  int errno_ = 0;
  std::string msg_;
};

// The name of a code, e.g. "Corruption".
WALCACHE_EXPORT std::string_view CodeName(Status::Code code);

}  // namespace walcache

#endif  // WALCACHE_STATUS_H_

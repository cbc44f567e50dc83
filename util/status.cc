// Status formatting. Thread-safe (pure functions).
#include "walcache/status.h"

#include <cerrno>
#include <cstring>

namespace walcache {

std::string_view CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "OK";
    case Status::Code::kNotFound:
      return "NotFound";
    case Status::Code::kCorruption:
      return "Corruption";
    case Status::Code::kInvalidArgument:
      return "InvalidArgument";
    case Status::Code::kIOError:
      return "IOError";
    case Status::Code::kNotSupported:
      return "NotSupported";
    case Status::Code::kBusy:
      return "Busy";
    case Status::Code::kConflict:
      return "Conflict";
    case Status::Code::kAborted:
      return "Aborted";
  }
  return "Unknown";
}

bool Status::IsNoSpace() const {
  return code_ == Code::kIOError && (errno_ == ENOSPC || errno_ == EDQUOT);
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(CodeName(code_));
  out += ": ";
  out += msg_;
  if (errno_ != 0) {
    char buf[128];
    out += " (errno " + std::to_string(errno_) + ": " + strerror_r(errno_, buf, sizeof(buf)) + ")";
  }
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += msg_;
  return Status(code_, msg, errno_);
}

}  // namespace walcache

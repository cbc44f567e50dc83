// Log and LogLevelName (see engine/log.h). Thread-safe.
#include "engine/log.h"

#include <cstdio>

namespace walcache {

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

namespace engine {

void Log(const LogFunction& hook, LogLevel level, std::string_view message) {
  if (hook) {
    hook(level, message);
    return;
  }
  // One fprintf per line, so that lines from concurrent threads do not interleave.
  std::fprintf(stderr, "walcache: %.*s\n", static_cast<int>(message.size()), message.data());
}

}  // namespace engine
}  // namespace walcache

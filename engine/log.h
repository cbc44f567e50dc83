// Log: the engine's one way to say something no call returns (include/walcache/log.h): to
// Options::log if set, else to stderr.
//
// Thread-safety: thread-safe if the hook is (log.h requires it).
#ifndef WALCACHE_ENGINE_LOG_H_
#define WALCACHE_ENGINE_LOG_H_

#include <string_view>

#include "walcache/log.h"

namespace walcache::engine {

// `message`: a sentence naming the directory first, no trailing newline.
void Log(const LogFunction& hook, LogLevel level, std::string_view message);

}  // namespace walcache::engine

#endif  // WALCACHE_ENGINE_LOG_H_

// SPDX-License-Identifier: Apache-2.0
// WALCACHE_EXPORT: marks the public API, the only symbols a shared libwalcache.so exports. The
// library is compiled with -fvisibility=hidden, so everything not marked (the engine, the WAL,
// recovery) stays internal; a program sees only what include/walcache/ declares. The same mark
// is harmless in the static library. Thread-safety: not applicable (a macro).
#ifndef WALCACHE_EXPORT_H_
#define WALCACHE_EXPORT_H_

#if defined(__GNUC__) || defined(__clang__)
#define WALCACHE_EXPORT [[gnu::visibility("default")]]
#else
#define WALCACHE_EXPORT
#endif

#endif  // WALCACHE_EXPORT_H_

// Clang's thread-safety annotations (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html), as
// LevelDB uses them: which mutex guards a member, which a function needs held or takes. Under
// clang with -Wthread-safety (the `thread-safety` preset, `tools/dev tsa`) the compiler checks
// them; under other compilers they expand to nothing and stay as documentation.
//
// Thread-safety: macros only.
#ifndef WALCACHE_UTIL_THREAD_ANNOTATIONS_H_
#define WALCACHE_UTIL_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define WALCACHE_TSA_(x) __attribute__((x))
#else
#define WALCACHE_TSA_(x)
#endif

#define CAPABILITY(x) WALCACHE_TSA_(capability(x))
#define SCOPED_CAPABILITY WALCACHE_TSA_(scoped_lockable)
#define GUARDED_BY(x) WALCACHE_TSA_(guarded_by(x))
#define PT_GUARDED_BY(x) WALCACHE_TSA_(pt_guarded_by(x))
#define ACQUIRED_BEFORE(...) WALCACHE_TSA_(acquired_before(__VA_ARGS__))
#define ACQUIRED_AFTER(...) WALCACHE_TSA_(acquired_after(__VA_ARGS__))
#define REQUIRES(...) WALCACHE_TSA_(requires_capability(__VA_ARGS__))
#define ACQUIRE(...) WALCACHE_TSA_(acquire_capability(__VA_ARGS__))
#define RELEASE(...) WALCACHE_TSA_(release_capability(__VA_ARGS__))
#define EXCLUDES(...) WALCACHE_TSA_(locks_excluded(__VA_ARGS__))
#define ASSERT_CAPABILITY(x) WALCACHE_TSA_(assert_capability(x))
#define NO_THREAD_SAFETY_ANALYSIS WALCACHE_TSA_(no_thread_safety_analysis)

#endif  // WALCACHE_UTIL_THREAD_ANNOTATIONS_H_

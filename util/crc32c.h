// CRC32C (Castagnoli, polynomial 0x1EDC6F41, reflected), the checksum of every WAL record and
// segment header. Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at
// startup) and a table-driven portable loop otherwise; both give identical results.
//
// Thread-safety: pure functions.
#ifndef WALCACHE_UTIL_CRC32C_H_
#define WALCACHE_UTIL_CRC32C_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace walcache::crc32c {

// Returns the CRC32C of `init_crc`'s message followed by data[0, n).
// Extend(0, ...) starts a new checksum.
uint32_t Extend(uint32_t init_crc, const char* data, size_t n);

// CRC32C of data[0, n).
inline uint32_t Value(const char* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view s) { return Extend(0, s.data(), s.size()); }

// The portable implementation, exposed so tests can compare it with the hardware one.
uint32_t ExtendPortable(uint32_t init_crc, const char* data, size_t n);

}  // namespace walcache::crc32c

#endif  // WALCACHE_UTIL_CRC32C_H_

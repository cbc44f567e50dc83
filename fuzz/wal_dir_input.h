// The recovery fuzz target's input: a cache directory packed into one byte string, so that
// libFuzzer can mutate every file of it at once. The seed generator packs real directories with
// PackWalDir; the target unpacks with UnpackWalDir.
//
//   input   = checkpoint_seq u64 ‖ segment*          (little-endian)
//   segment = number u16 ‖ length u16 ‖ bytes         (the file DIR/wal/<number>.wal, or for
//                                                       number 0, which no segment has, the
//                                                       newest-segment witness DIR/wal/NEWEST)
//
// checkpoint_seq is the checkpoint marker that RocksDB holds ('m' ‖ "checkpoint_seq",
// docs/storage-format.md); 0 means no store at all. Unpacking is total: a short field ends the
// input, a length past the end takes what remains, at most kMaxSegments segments are kept and a
// repeated number keeps its first file, so every byte string is some directory.
//
// Thread-safety: pure functions.
#ifndef WALCACHE_FUZZ_WAL_DIR_INPUT_H_
#define WALCACHE_FUZZ_WAL_DIR_INPUT_H_

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/coding.h"

namespace walcache::fuzz {

constexpr size_t kMaxSegments = 5;  // four segments and the witness, say
// The clock (ms since the Unix epoch) of the caches that write the seeds and of the target, so
// that an entry's expiry means the same to both and every run of an input is the same.
constexpr uint64_t kClockMs = 1'700'000'000'000;

struct WalDirInput {
  struct Segment {
    uint16_t number = 0;
    std::string bytes;
  };
  uint64_t checkpoint_seq = 0;
  std::vector<Segment> segments;
};

// Appends the encoding of `in` to `dst`. REQUIRES: every segment is shorter than 64 KiB.
inline void PackWalDir(const WalDirInput& in, std::string* dst) {
  PutFixed64(dst, in.checkpoint_seq);
  for (const WalDirInput::Segment& s : in.segments) {
    char field[2];
    field[0] = static_cast<char>(s.number & 0xff);
    field[1] = static_cast<char>(s.number >> 8);
    dst->append(field, 2);
    const size_t n = s.bytes.size();
    field[0] = static_cast<char>(n & 0xff);
    field[1] = static_cast<char>(n >> 8);
    dst->append(field, 2);
    dst->append(s.bytes);
  }
}

// Parses any byte string as a directory (see above).
inline WalDirInput UnpackWalDir(std::string_view in) {
  WalDirInput out;
  if (!GetFixed64(&in, &out.checkpoint_seq)) return out;
  auto get16 = [&in](uint16_t* v) {
    if (in.size() < 2) return false;
    *v = static_cast<uint16_t>(static_cast<uint8_t>(in[0]) | (static_cast<uint8_t>(in[1]) << 8));
    in.remove_prefix(2);
    return true;
  };
  uint16_t number = 0;
  uint16_t length = 0;
  while (out.segments.size() < kMaxSegments && get16(&number) && get16(&length)) {
    const std::string_view bytes = in.substr(0, std::min<size_t>(length, in.size()));
    in.remove_prefix(bytes.size());
    const bool repeated =
        std::any_of(out.segments.begin(), out.segments.end(),
                    [number](const WalDirInput::Segment& s) { return s.number == number; });
    if (!repeated) out.segments.push_back({number, std::string(bytes)});
  }
  return out;
}

}  // namespace walcache::fuzz

#endif  // WALCACHE_FUZZ_WAL_DIR_INPUT_H_

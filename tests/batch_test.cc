// wal/batch: every op type round-trips; decoding validates every count and length against the
// bytes that remain, so truncated or damaged encodings are Corruption, never a crash or a huge
// allocation.
#include "wal/batch.h"

#include <gtest/gtest.h>

#include <random>

#include "util/coding.h"

namespace walcache::wal {
namespace {

Batch EveryOp() {
  Batch b;
  b.Put("user:1", "alice", 1700000000123, {});
  b.Put("profile:1", std::string("\0html\xff", 6), 0, {{"user:1", 41}, {"", 0}, {"k", UINT64_MAX}});
  b.Put("", "");  // empty key and value encode too (the engine rejects empty keys, not the codec)
  b.Delete("user:2");
  b.Invalidate("feed:1");
  b.Touch("user:1", UINT64_MAX);
  return b;
}

TEST(BatchTest, EveryOpTypeRoundTrips) {
  const Batch b = EveryOp();
  auto decoded = Batch::Decode(b.Encode());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, b);
  ASSERT_EQ(decoded->size(), 6u);
  EXPECT_EQ(decoded->ops()[1].related[0], (RelatedKey{"user:1", 41}));
  EXPECT_EQ(decoded->ops()[5].type, OpType::kTouch);
  EXPECT_EQ(decoded->ops()[5].expires_at, UINT64_MAX);
}

TEST(BatchTest, EmptyBatchRoundTrips) {
  auto decoded = Batch::Decode(Batch().Encode());
  ASSERT_TRUE(decoded.ok());
  EXPECT_TRUE(decoded->empty());
}

TEST(BatchTest, LargeValueRoundTrips) {
  Batch b;
  std::string big(9 << 20, '\0');
  std::mt19937 rng(1);
  for (char& c : big) c = static_cast<char>(rng());
  b.Put("big", big);
  auto decoded = Batch::Decode(b.Encode());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->ops()[0].value, big);
}

TEST(BatchTest, EveryTruncationIsCorruption) {
  const std::string enc = EveryOp().Encode();
  for (size_t n = 0; n < enc.size(); ++n) {
    auto r = Batch::Decode(std::string_view(enc.data(), n));
    EXPECT_TRUE(r.status().IsCorruption()) << "prefix of " << n << " bytes";
  }
}

TEST(BatchTest, TrailingBytesAreCorruption) {
  const std::string enc = EveryOp().Encode() + "x";
  auto r = Batch::Decode(enc);
  ASSERT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("trailing"), std::string::npos);
}

TEST(BatchTest, UnknownOpTypeIsCorruption) {
  std::string enc;
  PutVarint32(&enc, 1);
  enc.push_back(static_cast<char>(9));
  PutLengthPrefixed(&enc, "k");
  auto r = Batch::Decode(enc);
  ASSERT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("unknown op type 9"), std::string::npos);
}

TEST(BatchTest, HugeCountsAreRejectedBeforeAllocation) {
  // An op count or related count of ~4 billion in a tiny input must not reserve anything.
  std::string ops;
  PutVarint32(&ops, UINT32_MAX);
  EXPECT_TRUE(Batch::Decode(ops).status().IsCorruption());

  std::string rel;
  PutVarint32(&rel, 1);
  rel.push_back(static_cast<char>(OpType::kPut));
  PutLengthPrefixed(&rel, "k");
  PutLengthPrefixed(&rel, "v");
  PutVarint64(&rel, 0);
  PutVarint32(&rel, UINT32_MAX);
  auto r = Batch::Decode(rel);
  ASSERT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("related count"), std::string::npos);
}

TEST(BatchTest, RandomBytesNeverCrash) {
  std::mt19937_64 rng(42);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string junk(rng() % 64, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    if (i % 2 == 0 && !junk.empty()) junk[0] = static_cast<char>(rng() % 4);  // small counts
    auto r = Batch::Decode(junk);
    if (r.ok()) {
      ++accepted;
      auto again = Batch::Decode(r->Encode());
      ASSERT_TRUE(again.ok());
      EXPECT_EQ(*again, *r);
    } else {
      EXPECT_TRUE(r.status().IsCorruption());
    }
  }
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace walcache::wal

// SPDX-License-Identifier: Apache-2.0
// walcache_consumer: a user's program against the installed walcache, as the install tests build
// it (tests/install_test.cmake): opens a cache in DIR (created), commits a transaction with a
// derived entry, reads both back, writes the source and reads the derived entry gone. So it
// links what a real program links: the engine, RocksDB and LZ4 (a value large enough to be
// compressed), and reads that history back through the change feed. Exits 0 iff every step did
// what the API promises; prints the failed step otherwise. Single-threaded.
//
//   walcache_consumer DIR
#include <walcache/cache.h>
#include <walcache/change_feed.h>
#include <walcache/version.h>

#include <cstdio>
#include <memory>
#include <string>

namespace {

int Fail(const char* step, const std::string& why) {
  std::fprintf(stderr, "walcache_consumer: %s: %s\n", step, why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return Fail("usage", "walcache_consumer DIR");
  walcache::Options options;
  options.create_if_missing = true;
  options.compression_threshold = 64;
  walcache::Result<std::unique_ptr<walcache::Cache>> opened =
      walcache::Cache::Open(argv[1], options);
  if (!opened) return Fail("open", opened.status().ToString());
  walcache::Cache& cache = **opened;

  const std::string value(4096, 'v');  // compressible: goes through LZ4
  walcache::Transaction txn = cache.Begin();
  txn.Put("user:1", value);
  txn.Put("page:1", "<p>v</p>", {.related = {{"user:1", 0}}});
  walcache::Result<uint64_t> id = txn.Commit();
  if (!id) return Fail("commit", id.status().ToString());

  walcache::Result<walcache::Entry> user = cache.Get("user:1");
  if (!user) return Fail("get user:1", user.status().ToString());
  if (user->value != value || user->update_id != *id) return Fail("get user:1", "wrong entry");
  walcache::Result<walcache::Entry> page = cache.Get("page:1");
  if (!page) return Fail("get page:1", page.status().ToString());
  if (page->related.size() != 1 || page->related[0].update_id != *id) {
    return Fail("get page:1", "wrong related key");
  }

  walcache::Result<uint64_t> changed = cache.Put("user:1", "w");
  if (!changed) return Fail("put user:1", changed.status().ToString());
  walcache::Result<walcache::Entry> stale = cache.Get("page:1");
  if (stale || !stale.status().IsNotFound()) return Fail("get page:1", "served after its source");

  walcache::Status checkpoint = cache.Checkpoint();  // RocksDB's write path too
  if (!checkpoint.ok()) return Fail("checkpoint", checkpoint.ToString());

  // The change feed: the put of user:1 invalidated page:1 in the same transaction.
  walcache::Result<walcache::ChangeBatch> feed = cache.Changes(*id);
  if (!feed) return Fail("changes", feed.status().ToString());
  if (feed->gap || feed->txns.size() != 1 || feed->txns[0].update_id != *changed ||
      feed->txns[0].changes.size() != 2) {
    return Fail("changes", "not the one transaction after the first, with its invalidation");
  }
  walcache::Result<walcache::ChangeTxn> decoded =
      walcache::DecodeChangeTxn(walcache::EncodeChangeTxn(feed->txns[0]));
  if (!decoded || *decoded != feed->txns[0]) return Fail("change encoding", "no round trip");
  std::printf("walcache %.*s: committed update_id %llu, read it back, invalidated page:1\n",
              static_cast<int>(walcache::Version().size()), walcache::Version().data(),
              static_cast<unsigned long long>(*id));
  return 0;
}

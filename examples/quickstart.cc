// SPDX-License-Identifier: Apache-2.0
// quickstart: walcache's README example, complete. Stores a user, a profile page derived from
// it, retries when the user changes under the derivation (Conflict), and shows that writing the
// user invalidates the profile in the same transaction. Single-threaded.
//
//   quickstart [DIR]    (default ./quickstart-cache; created if missing)
#include <walcache/cache.h>

#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>

namespace {

int Fail(const char* what, const walcache::Status& s) {
  std::fprintf(stderr, "quickstart: %s: %s\n", what, s.ToString().c_str());
  return 1;
}

// Renders the profile page of `user_key` into `profile_key`, derived from the user entry at the
// updateId it was read at. If the user changes between the read and the commit, the commit is a
// Conflict and writes nothing: read again and retry. `race` writes the user in between once, as
// another thread or process might.
walcache::Result<uint64_t> StoreProfile(walcache::Cache& cache, const std::string& user_key,
                                        const std::string& profile_key, bool race) {
  for (int attempt = 1; attempt <= 5; ++attempt) {
    walcache::Result<walcache::Entry> user = cache.Get(user_key);
    if (!user) return user.status();  // NotFound: nothing to derive from
    const std::string html = "<p>" + user->value + "</p>";

    if (race && attempt == 1) {
      walcache::Result<uint64_t> w = cache.Put(user_key, "carol");
      if (!w) return w.status();
    }

    walcache::Transaction txn = cache.Begin();
    txn.Put(profile_key, html, {.ttl_ms = 3'600'000, .related = {{user_key, user->update_id}}});
    walcache::Result<uint64_t> id = txn.Commit();
    if (id || !id.status().IsConflict()) return id;
    std::printf("attempt %d: %s; reading again\n", attempt, id.status().ToString().c_str());
  }
  return walcache::Status::Conflict(user_key + " kept changing");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "quickstart-cache";
  walcache::Result<std::unique_ptr<walcache::Cache>> opened =
      walcache::Cache::Open(dir, walcache::Options{});
  if (!opened) return Fail("open", opened.status());
  walcache::Cache& cache = **opened;

  walcache::Result<uint64_t> put = cache.Put("user:1", "alice");
  if (!put) return Fail("put user:1", put.status());
  std::printf("user:1 = alice at update_id %" PRIu64 "\n", *put);

  walcache::Result<uint64_t> derived = StoreProfile(cache, "user:1", "profile:1", true);
  if (!derived) return Fail("store profile:1", derived.status());

  walcache::Result<walcache::Entry> profile = cache.Get("profile:1");
  if (!profile) return Fail("get profile:1", profile.status());
  std::printf("profile:1 = %s at update_id %" PRIu64 ", derived from %s at %" PRIu64 "\n",
              profile->value.c_str(), profile->update_id, profile->related.at(0).key.c_str(),
              profile->related.at(0).update_id);

  // Writing the source invalidates every entry derived from it, in the same WAL record.
  walcache::Result<uint64_t> changed = cache.Put("user:1", "bob");
  if (!changed) return Fail("put user:1", changed.status());
  walcache::Result<walcache::Entry> stale = cache.Get("profile:1");
  if (stale) return Fail("get profile:1", walcache::Status::Corruption("stale profile served"));
  if (!stale.status().IsNotFound()) return Fail("get profile:1", stale.status());
  std::printf("user:1 = bob at update_id %" PRIu64 "; profile:1 is gone with it\n", *changed);
  return 0;
}

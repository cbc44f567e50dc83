// Uses the installed public headers and links the installed library; exits 0 iff both work.
#include <walcache/result.h>
#include <walcache/status.h>
#include <walcache/version.h>

#include <cstdio>

int main() {
  const walcache::Result<int> r = walcache::Status::NotFound("k");
  if (r.ok() || r.status().ToString() != "NotFound: k") return 1;
  if (walcache::Version().empty() || walcache::WalFormatVersion() < 1) return 1;
  std::printf("walcache %.*s, WAL format %d\n", static_cast<int>(walcache::Version().size()),
              walcache::Version().data(), walcache::WalFormatVersion());
  return 0;
}

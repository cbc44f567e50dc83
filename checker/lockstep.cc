// The lockstep checker (see lockstep.h).
#include "checker/lockstep.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "checker/lockstep_api_checks.h"
#include "checker/lockstep_threads.h"
#include "checker/pin_window.h"
#include "checker/protocol.h"
#include "checker/read_hold.h"
#include "checker/verify.h"
#include "checker/workload.h"
#include "util/injected_bug.h"
#include "util/kill_point.h"
#include "util/status_macros.h"
#include "walcache/cache.h"

namespace walcache::checker {
namespace {

constexpr uint64_t kClockStart = 1'700'000'000'000;  // ms since the epoch
constexpr size_t kMaxRelated = 4;

// A life's kill points hold, never kill: the pin window and the readers' read hold.
void HoldAtKillPoint(const char* name) {
  PinWindow::AtKillPoint(name);
  ReadHold::AtKillPoint(name);
}

std::string Show(const std::optional<ModelEntry>& e, const std::string& key) {
  return e.has_value() ? Describe(key, *e) : key + ": absent";
}

class Run {
 public:
  explicit Run(const LockstepOptions& o) : o_(o), rng_(o.seed), gen_(Shape()) {
    report_.seed = o.seed;
  }

  // Runs lives until done: each life is a forked child that opens the cache (recovering what
  // the last one left), checks it against the model, commits its share of the transactions and
  // dies without closing (the last one closes cleanly); it hands the model, the clock and the
  // counts back through a pipe. A process death keeps every acknowledged buffered commit, so
  // each recovery must be exactly the model.
  Result<LockstepReport> Go() {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::remove_all(o_.dir, ec);
    fs::create_directories(o_.dir, ec);
    if (ec) return Status::IOError("cannot create " + o_.dir + ": " + ec.message());
    if (Status s = InjectBug(o_.inject_bug); !s.ok()) return s;
    struct Off {
      ~Off() { (void)InjectBug(""); }
    } off;
    start_ = std::chrono::steady_clock::now();
    uint64_t next = 1;
    for (uint64_t life = 0;; ++life) {
      rng_.seed(o_.seed * 1'000'003 + life);
      const uint64_t last = next + 500 + rng_() % 3000;
      int fds[2];
      if (::pipe(fds) != 0) return Status::IOError("pipe: " + std::string(strerror(errno)));
      const pid_t pid = ::fork();
      if (pid < 0) return Status::IOError("fork: " + std::string(strerror(errno)));
      if (pid == 0) {
        ::close(fds[0]);
        Life(next, last, life, fds[1]);  // never returns
      }
      ::close(fds[1]);
      std::string out;
      const bool hung = !ReadUntilClosed(fds[0], kLifeDeadline, &out);
      if (hung) ::kill(pid, SIGKILL);
      ::close(fds[0]);
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      bool done = false;
      if (hung) {
        Fail("life " + std::to_string(life) + " did not end within " +
             std::to_string(kLifeDeadline.count()) +
             " s (a hang in the engine, or in the checker); killed");
        report_.failed_at = next;
      } else if (!Receive(out, &next, &done)) {
        Fail("life " + std::to_string(life) + " died without a word (status " +
             std::to_string(status) + ")");
        report_.failed_at = next;
      }
      if (done || !report_.failure.empty()) break;
      report_.deaths++;
    }
    report_.seconds = Elapsed();
    return report_;
  }

 private:
  // A life commits at most 3,500 transactions; even under a sanitizer that takes well under
  // this. A life past it is hung, and a hung checker would wait for it forever.
  static constexpr std::chrono::seconds kLifeDeadline{300};

  double Elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

  // One life, in the child: transactions `first` up to `last` at the most.
  [[noreturn]] void Life(uint64_t first, uint64_t last, uint64_t life, int fd) {
    SetKillPointHandler(&HoldAtKillPoint);
    // Half the lives end in the pin window: the death then follows a Touch that only the WAL
    // holds, past a compaction that met the stored copy after its old expiry.
    const bool window_last = rng_() % 2 == 0;
    // Those lives checkpoint by time once a second, not every 20 ms: a checkpoint during the
    // window's compaction would store the touches before the death (the size triggers stay).
    slow_checkpoints_ = window_last;
    Status s = Open();
    if (s.ok() && life > 0) {
      s = CheckScan();
      if (!report_.failure.empty()) {
        report_.failure = "recovered after a death: " + report_.failure;
        report_.failed_at = first - 1;
      }
    }
    uint64_t n = first;
    bool done = false;
    for (; s.ok() && report_.failure.empty(); ++n) {
      done = o_.seconds > 0 ? Elapsed() >= o_.seconds : n > o_.transactions;
      if (done || n > last) break;
      s = n == last && window_last ? Window(n) : Step(n);
      if (!report_.failure.empty()) report_.failed_at = n;
      if (report_.failure.empty()) report_.transactions = n;
    }
    if (!s.ok()) Fail("the cache failed: " + s.ToString());
    // A death leaves the threads running (a checkpoint or compaction under way must not finish
    // first: the death is meant to land among them); a clean end stops them.
    if (done) {
      readers_.Stop();
      compactor_.Stop();
    }
    if (std::string f = readers_.failure(); !f.empty()) Fail(f);
    report_.reads += readers_.reads();
    if (s.ok() && report_.failure.empty() && done) {
      (void)CheckScan();
      const CacheStats st = cache_->Stats();
      report_.evictions += st.evictions;
      report_.read_through += st.read_through;
      snap_.Release();
      cache_.reset();  // the last life closes cleanly
    } else if (cache_ != nullptr) {
      const CacheStats st = cache_->Stats();
      report_.evictions += st.evictions;
      report_.read_through += st.read_through;
    }
    std::string msg = "R " + std::to_string(n) + " " + (done ? "1" : "0") + " " +
                      std::to_string(now_.load()) + " " + std::to_string(report_.transactions);
    for (uint64_t v :
         {report_.applied, report_.empty, report_.conflicts, report_.invalid, report_.expired_reads,
          report_.scans, report_.compactions, report_.checkpoints, report_.reopens, report_.windows,
          report_.evictions, report_.read_through, report_.failed_at, report_.reads,
          report_.snapshots, report_.loads, report_.loads_stored}) {
      msg += " " + std::to_string(v);
    }
    msg += "\n";
    for (const auto& [k, e] : state_) msg += EncodeEntry(k, e) + "\n";
    if (!report_.failure.empty()) {
      std::string f = report_.failure;
      for (char& c : f) {
        if (c == '\n') c = '\x1f';
      }
      msg += "F " + f + "\n";
    }
    for (size_t off = 0; off < msg.size();) {
      const ssize_t w = ::write(fd, msg.data() + off, msg.size() - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      off += static_cast<size_t>(w);
    }
    ::_exit(0);  // a death: no close, no final checkpoint (unless the run is done)
  }

  // Takes what a life handed back; false if it is not all there.
  bool Receive(const std::string& out, uint64_t* next, bool* done) {
    State state;
    bool have = false;
    size_t from = 0;
    while (from < out.size()) {
      size_t nl = out.find('\n', from);
      if (nl == std::string::npos) break;
      const std::string line = out.substr(from, nl - from);
      from = nl + 1;
      if (line.starts_with("R ")) {
        std::istringstream in(line.substr(2));
        uint64_t now = 0, d = 0;
        LockstepReport& r = report_;
        if (!(in >> *next >> d >> now >> r.transactions >> r.applied >> r.empty >> r.conflicts >>
              r.invalid >> r.expired_reads >> r.scans >> r.compactions >> r.checkpoints >>
              r.reopens >> r.windows >> r.evictions >> r.read_through >> r.failed_at >> r.reads >>
              r.snapshots >> r.loads >> r.loads_stored)) {
          return false;
        }
        *done = d != 0;
        now_ = now;
        have = true;
      } else if (line.starts_with("F ")) {
        std::string f = line.substr(2);
        for (char& c : f) {
          if (c == '\x1f') c = '\n';
        }
        report_.failure = f;
      } else if (std::optional<Message> m = Decode(line); m.has_value() && m->type == 'S') {
        state[m->key] = m->entry;
      } else {
        return false;
      }
    }
    if (have) state_ = std::move(state);
    return have;
  }

  static WorkloadShape Shape() {
    WorkloadShape w;
    w.sources = 6;
    w.derived = 8;
    w.multi = 3;
    w.max_related = kMaxRelated;
    w.short_ttl_ms = 60;
    w.long_ttl_ms = 2000;
    return w;
  }

  Status Open() {
    Options opt;
    opt.clock_ms = [this] { return now_.load(std::memory_order_relaxed); };
    opt.durability = Durability::kBuffered;  // no crash here: durability is the crash test's
    opt.sync_interval = std::chrono::milliseconds(50);
    opt.memory_budget_bytes = 4 << 10;  // a few entries: eviction and read-through all along
    opt.checkpoint_dirty_bytes = 1 << 10;
    opt.checkpoint_interval = std::chrono::milliseconds(slow_checkpoints_ ? 1000 : 20);
    opt.checkpoint_wal_bytes = 64 << 10;
    opt.wal_segment_size = 64 << 10;
    opt.expiry_sweep_interval = std::chrono::milliseconds(10);
    opt.max_related = kMaxRelated;
    opt.write_buffer_bytes = 16 << 10;  // RocksDB flushes and compacts between checkpoints
    Result<std::unique_ptr<Cache>> c = Cache::Open(o_.dir, opt);
    if (!c.ok()) return c.status();
    cache_ = std::move(c).value();
    last_seq_ = cache_->Stats().last_seq;
    if (o_.readers > 0) readers_.Start(cache_.get(), o_.readers, o_.seed + last_seq_, &gen_);
    compactor_.Start(cache_.get(), o_.seed * 7 + last_seq_);
    return Status::OK();
  }

  // The model's live entry of `key` now.
  std::optional<ModelEntry> Model(const std::string& key) const {
    auto it = state_.find(key);
    if (it == state_.end() || !LiveAt(it->second, now_.load())) return std::nullopt;
    return it->second;
  }

  void Fail(const std::string& what) {
    if (report_.failure.empty()) report_.failure = what;
  }

  Status Step(uint64_t n) {
    // Time passes: mostly milliseconds, now and then seconds (long TTLs expire too).
    now_ += rng_() % 50 == 0 ? 1000 + rng_() % 3000 : rng_() % 12;
    const uint64_t r = rng_() % 4000;
    if (r < 4) {
      report_.compactions++;
      if (Status s = cache_->Compact(); !s.ok()) return s;
    } else if (r < 24) {
      report_.checkpoints++;
      if (Status s = cache_->Checkpoint(); !s.ok()) return s;
    } else if (r < 26) {
      report_.reopens++;
      const CacheStats st = cache_->Stats();
      report_.evictions += st.evictions;
      report_.read_through += st.read_through;
      readers_.Stop();
      compactor_.Stop();
      snap_.Release();
      cache_.reset();
      if (Status s = Open(); !s.ok()) return s;
    }
    if (!snap_.held() && rng_() % 100 == 0) {
      if (std::string f = snap_.Take(cache_.get(), LiveState(state_, now_.load()), last_seq_, n);
          !f.empty()) {
        Fail(f);
      }
    } else if (snap_.held() && (n - snap_.taken_at() >= 150 || rng_() % 100 == 0)) {
      report_.snapshots++;
      if (std::string f = snap_.CheckAndRelease(gen_, rng_); !f.empty()) Fail(f);
      if (!report_.failure.empty()) return Status::OK();
    }
    if (rng_() % 40 == 0) {
      report_.loads++;
      const LoadChecked l = LoadAndCheck(cache_.get(), Shape(), &state_, last_seq_, now_.load(), n,
                                         kMaxRelated, rng_);
      if (!l.failure.empty()) {
        Fail(l.failure);
        return Status::OK();
      }
      if (l.stored) {
        report_.loads_stored++;
        last_seq_++;
        readers_.Published({l.key}, last_seq_);
      }
    }
    Txn t = gen_.Next(rng_, n, [this](const std::string& key) { return Read(key); });
    return CommitAndCheck(std::move(t));
  }

  // What the generator reads of `key` now.
  std::optional<Entry> Read(const std::string& key) {
    Result<Entry> e = cache_->Get(key);
    if (!e.ok()) return std::nullopt;
    return std::move(e).value();
  }

  // The pin window (pin_window.h), as a life's last transaction `n`: the stored copies first (a
  // checkpoint), then a compaction whose checkpoint is held at its pin while touches of entries
  // expiring within a leap are committed and the clock leaps past them; the death follows.
  // The background compactor stops first, so that no checkpoint stores the touches before it.
  Status Window(uint64_t n) {
    report_.windows++;
    compactor_.Stop();
    if (Status s = cache_->Checkpoint(); !s.ok()) return s;
    const uint64_t leap = 200 + rng_() % 2000;
    const TouchAim aim{now_.load(), leap};
    Status committed;
    const PinWindow::Outcome w = PinWindow::CompactAround(cache_.get(), [&] {
      Txn t = gen_.Touches(
          rng_, n, [this](const std::string& key) { return Read(key); }, aim);
      committed = CommitAndCheck(std::move(t));
      now_ += leap;
    });
    if (!w.compact.ok()) return w.compact;
    return committed;
  }

  // Commits `t` at the clock's time now and checks the outcome and the keys against the model.
  Status CommitAndCheck(Txn t) {
    const uint64_t n = t.id;
    const uint64_t before = last_seq_;
    t.now_ms = now_.load();
    const State prior = state_;
    Result<uint64_t> got = CommitTxn(cache_.get(), t, Durability::kBuffered);
    if (got.ok()) {
      last_seq_ = std::max(last_seq_, *got);
      std::vector<std::string> wrote;
      for (const TxnOp& op : t.ops) {
        if (op.kind == TxnOp::kPut || op.kind == TxnOp::kDelete || op.kind == TxnOp::kInvalidate) {
          wrote.push_back(op.key);
        }
      }
      readers_.Published(wrote, *got);
    }
    if (std::string f = readers_.failure(); !f.empty()) {
      Fail(f);
      return Status::OK();
    }
    const Outcome want = Apply(t, before + 1, &state_, Limits{.max_related = kMaxRelated});
    const std::string said =
        got.ok() ? "committed at " + std::to_string(*got) : got.status().ToString();
    switch (want) {
      case Outcome::kApplied:
        report_.applied++;
        if (!got.ok() || *got != before + 1) {
          Fail("the model applies " + ShowTxn(t) + " at " + std::to_string(before + 1) +
               "; the cache: " + said);
        }
        break;
      case Outcome::kEmpty:
        report_.empty++;
        if (!got.ok() || *got != before) {
          Fail("the model finds nothing to write in " + ShowTxn(t) + " (the newest updateId, " +
               std::to_string(before) + ", back); the cache: " + said);
        }
        break;
      case Outcome::kConflict:
        report_.conflicts++;
        if (got.ok() || !got.status().IsConflict()) {
          Fail("the model finds " + ShowTxn(t) + " a conflict; the cache: " + said);
        }
        break;
      case Outcome::kInvalid:
        report_.invalid++;
        if (got.ok() || !got.status().IsInvalidArgument()) {
          Fail("the model finds " + ShowTxn(t) + " invalid; the cache: " + said);
        }
        break;
    }
    if (!report_.failure.empty()) return Status::OK();
    CheckKeys(t, prior);
    if (report_.failure.empty() && n % o_.scan_every == 0) return CheckScan();
    return Status::OK();
  }

  // The keys the transaction touched read as the model has them: its ops' keys, every key whose
  // model entry it changed (cascades, clamps), and two keys at random. (The full scans find an
  // engine that changed a key the model did not.)
  void CheckKeys(const Txn& t, const State& prior) {
    auto check = [&](const std::string& key) {
      Result<Entry> e = cache_->Get(key);
      std::optional<ModelEntry> want = Model(key);
      auto it = state_.find(key);
      if (!want.has_value() && it != state_.end()) report_.expired_reads++;
      std::optional<ModelEntry> got;
      if (e.ok()) {
        got = FromEntry(*e);
      } else if (!e.status().IsNotFound()) {
        Fail("Get(" + key + "): " + e.status().ToString());
        return;
      }
      if (got != want) {
        Fail("after " + ShowTxn(t) + ":\n    expected " + Show(want, key) + "\n    found    " +
             Show(got, key));
      }
    };
    std::set<std::string> keys;
    for (const TxnOp& op : t.ops) {
      keys.insert(op.key);
      for (const RelatedKey& r : op.related) keys.insert(r.key);
    }
    for (const auto& [k, e] : prior) {
      auto it = state_.find(k);
      if (it == state_.end() || !(it->second == e)) keys.insert(k);
    }
    for (const auto& [k, e] : state_) {
      if (prior.count(k) == 0) keys.insert(k);
    }
    keys.insert(gen_.AnyKey(rng_));
    keys.insert(gen_.AnyKey(rng_));
    for (const std::string& k : keys) {
      if (!report_.failure.empty()) break;
      check(k);
    }
  }

  // A full scan equals the model, and I1 and the expiry rule hold on it alone.
  Status CheckScan() {
    report_.scans++;
    WALCACHE_ASSIGN_OR_RETURN(const State scanned, ScanState(cache_.get()));
    for (const Violation& v : CheckRelated(scanned)) {
      Fail(v.invariant + " on a full scan: " + v.detail);
      return Status::OK();
    }
    const State want = LiveState(state_, now_.load());
    if (scanned != want) {
      const std::string diff = DiffStates(want, scanned);
      Fail("a full scan differs from the model:" + diff);
    }
    return Status::OK();
  }

  const LockstepOptions o_;
  std::mt19937_64 rng_;
  Generator gen_;
  std::atomic<uint64_t> now_{kClockStart};
  std::chrono::steady_clock::time_point start_;
  Readers readers_;
  Compactor compactor_;
  std::unique_ptr<Cache> cache_;
  uint64_t last_seq_ = 0;          // the newest updateId the cache has given
  HeldSnapshot snap_;              // held across transactions (lockstep_api_checks.h)
  bool slow_checkpoints_ = false;  // this life ends in a pin window (Life)
  State state_;
  LockstepReport report_;
};

}  // namespace

Result<LockstepReport> RunLockstep(const LockstepOptions& options) {
  if (options.dir.empty()) return Status::InvalidArgument("lockstep needs a directory");
  if (options.scan_every == 0) return Status::InvalidArgument("scan_every must be at least 1");
  return Run(options).Go();
}

}  // namespace walcache::checker

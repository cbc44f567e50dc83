// SPDX-License-Identifier: Apache-2.0
// wal/writer's commit pipeline (issue 15): a record is written while the previous group's
// fdatasync runs, is acknowledged only by an fdatasync that began after its write returned, and
// fails with an fdatasync that fails while it waits; the planted bug ack-during-sync breaks the
// second. The fdatasyncs are held at a gate, so every interleaving here is forced, not hoped for.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tests/test_util.h"
#include "util/forwarding_file_system.h"
#include "util/forwarding_writable_file.h"
#include "util/injected_bug.h"
#include "util/status_macros.h"
#include "wal/batch.h"
#include "wal/writer.h"

namespace walcache::wal {
namespace {

std::string OneKeyBatch(const std::string& key) {
  Batch b;
  b.Put(key, "v");
  return b.Encode();
}

// Once closed, holds every fdatasync at a gate until the test opens it, and counts writes and
// the fdatasyncs begun since; an opened fdatasync returns `result` (then the real sync if OK).
class GateFileSystem final : public ForwardingFileSystem {
 public:
  explicit GateFileSystem(FileSystem* base) : ForwardingFileSystem(base) {}

  Result<std::unique_ptr<WritableFile>> OpenWritable(const std::string& path,
                                                     OpenMode mode) override {
    WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, base()->OpenWritable(path, mode));
    return std::unique_ptr<WritableFile>(new File(this, std::move(f)));
  }

  void Close() {  // from now on fdatasyncs wait until Open, and are counted from 0
    std::lock_guard<std::mutex> l(mu_);
    open_ = 0;
    begun_ = 0;
  }
  void Open(int n, Status result = Status::OK()) {  // lets the next n fdatasyncs through
    std::lock_guard<std::mutex> l(mu_);
    open_ += n;
    result_ = result;
    cv_.notify_all();
  }
  // Waits until `n` fdatasyncs have begun (are at the gate or past it).
  bool AwaitSyncsBegun(int n) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(10), [&] { return begun_ >= n; });
  }
  bool AwaitWrites(int n) {
    std::unique_lock<std::mutex> l(mu_);
    return cv_.wait_for(l, std::chrono::seconds(10), [&] { return writes_ >= n; });
  }
  int writes() {
    std::lock_guard<std::mutex> l(mu_);
    return writes_;
  }
  int syncs_begun() {
    std::lock_guard<std::mutex> l(mu_);
    return begun_;
  }

 private:
  class File final : public ForwardingWritableFile {
   public:
    File(GateFileSystem* fs, std::unique_ptr<WritableFile> base)
        : ForwardingWritableFile(std::move(base)), fs_(fs) {}
    Status Write(uint64_t offset, std::string_view data) override {
      Status s = base()->Write(offset, data);
      std::lock_guard<std::mutex> l(fs_->mu_);
      fs_->writes_++;
      fs_->cv_.notify_all();
      return s;
    }
    Status Sync() override {
      Status result;
      {
        std::unique_lock<std::mutex> l(fs_->mu_);
        fs_->begun_++;
        fs_->cv_.notify_all();
        fs_->cv_.wait(l, [&] { return fs_->open_ > 0; });
        fs_->open_--;
        result = fs_->result_;
      }
      return result.ok() ? base()->Sync() : result;
    }

   private:
    GateFileSystem* const fs_;
  };

  std::mutex mu_;
  std::condition_variable cv_;
  int open_ = 1 << 30;  // open until Close()
  Status result_;
  int writes_ = 0;
  int begun_ = 0;
};

class WriterPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriterOptions o;
    o.segment_size = 1 << 20;
    o.sync_interval = std::chrono::milliseconds(0);
    o.max_group_wait = std::chrono::microseconds(0);  // no gathering: the order is the test's
    auto w = Writer::Open(&fs_, dir_.Join("wal"), o, 1);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    writer_ = std::move(*w);
  }
  void TearDown() override {
    fs_.Open(1 << 20);
    (void)InjectBug("");
    if (writer_ != nullptr) (void)writer_->Close();
  }

  // Starts an Append of `key` on its own thread; `*result` receives its status.
  std::thread AppendAsync(const std::string& key, Status* result, std::atomic<bool>* done) {
    return std::thread([this, key, result, done] {
      *result = writer_->Append(OneKeyBatch(key), Durability::kSync).status();
      *done = true;
    });
  }

  // A's record is written and its fdatasync held at the gate; then B is submitted. Returns once
  // B's record is written (during A's fdatasync).
  void WriteBWhileASyncs(std::thread* a, std::thread* b) {
    fs_.Close();
    const int writes = fs_.writes();
    *a = AppendAsync("a", &a_status_, &a_done_);
    ASSERT_TRUE(fs_.AwaitSyncsBegun(1)) << "A's fdatasync never began";
    *b = AppendAsync("b", &b_status_, &b_done_);
    ASSERT_TRUE(fs_.AwaitWrites(writes + 2)) << "B was not written while A's fdatasync ran";
  }

  test::ScratchDir dir_;
  GateFileSystem fs_{FileSystem::Posix()};
  std::unique_ptr<Writer> writer_;
  Status a_status_, b_status_;
  std::atomic<bool> a_done_{false}, b_done_{false};
};

TEST_F(WriterPipelineTest, TheNextGroupIsWrittenWhileThePreviousFdatasyncRuns) {
  std::thread a, b;
  WriteBWhileASyncs(&a, &b);
  EXPECT_FALSE(a_done_);
  EXPECT_FALSE(b_done_);
  EXPECT_EQ(writer_->durable_seq(), 0u);
  fs_.Open(2);
  a.join();
  b.join();
  EXPECT_TRUE(a_status_.ok()) << a_status_.ToString();
  EXPECT_TRUE(b_status_.ok()) << b_status_.ToString();
  EXPECT_EQ(writer_->durable_seq(), 2u);
  EXPECT_GE(writer_->stats().overlapped_writes, 1u);
}

TEST_F(WriterPipelineTest, ARecordWrittenDuringAnFdatasyncWaitsForTheNextOne) {
  std::thread a, b;
  WriteBWhileASyncs(&a, &b);
  fs_.Open(1);  // A's fdatasync only
  // B's fdatasync begins at once (A's thread chains it), and waits at the gate.
  ASSERT_TRUE(fs_.AwaitSyncsBegun(2)) << "B's fdatasync never began";
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(b_done_) << "B was acknowledged by an fdatasync that began before its write";
  EXPECT_EQ(writer_->durable_seq(), 1u);
  fs_.Open(1);
  a.join();
  b.join();
  EXPECT_TRUE(a_status_.ok());
  EXPECT_TRUE(b_status_.ok());
  EXPECT_EQ(writer_->durable_seq(), 2u);
}

TEST_F(WriterPipelineTest, ThePlantedAckDuringSyncAcknowledgesTheRecordEarly) {
  ASSERT_TRUE(InjectBug("ack-during-sync").ok());
  std::thread a, b;
  WriteBWhileASyncs(&a, &b);
  fs_.Open(1);  // A's fdatasync only: the planted bug acknowledges B with it
  for (int i = 0; i < 1000 && !b_done_; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(b_done_) << "the planted bug must acknowledge B before its own fdatasync";
  fs_.Open(1 << 20);
  a.join();
  b.join();
}

TEST_F(WriterPipelineTest, AFailedFdatasyncFailsTheRecordWrittenDuringItAndIsNotRetried) {
  std::thread a, b;
  WriteBWhileASyncs(&a, &b);
  fs_.Open(1, Status::IOError("injected", EIO));
  a.join();
  b.join();
  EXPECT_TRUE(a_status_.IsIOError()) << a_status_.ToString();
  EXPECT_TRUE(b_status_.IsIOError()) << b_status_.ToString();
  EXPECT_EQ(fs_.syncs_begun(), 1) << "a failed fdatasync is never followed by another";
  EXPECT_TRUE(writer_->health().IsIOError());
  EXPECT_EQ(writer_->durable_seq(), 0u);
  EXPECT_TRUE(writer_->Append(OneKeyBatch("c"), Durability::kSync).status().IsIOError());
}

}  // namespace
}  // namespace walcache::wal

// End-to-end tests of the `walcache` admin CLI on damaged directories: a crash that left a torn
// tail (garbage right after the last valid record), one bit flipped inside a record in the middle
// of the log, and an entry or an index edge rewritten in RocksDB behind the engine's back. What
// each command reports and exits with, and that `repair` keeps every record before the cut and
// sets the rest aside. Helpers: tests/cli_fixture.h.
#include <filesystem>
#include <string>
#include <vector>

#include "tests/cli_fixture.h"

namespace walcache::cli_test {
namespace {

// ---- Crashed with a torn tail -------------------------------------------------------------------

TEST_F(CliTest, TornTailWalDumpListsEveryRecordAndExitsZero) {
  ASSERT_NO_FATAL_FAILURE(MakeTorn(6));
  const CliRun r = Cli({"wal", "dump", Dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  ASSERT_EQ(j.at("records").size(), 6u) << r;
  uint64_t offset = kSegmentHeaderSize;
  for (size_t i = 0; i < 6; ++i) {
    const Json& rec = j.at("records").at(i);
    EXPECT_EQ(rec.at("file").get<std::string>(), fs::relative(segment_, Dir()).string());
    EXPECT_EQ(rec.at("offset").get<uint64_t>(), offset) << "records are back to back";
    EXPECT_GT(rec.at("length").get<uint64_t>(), kRecordHeaderSize);
    offset += rec.at("length").get<uint64_t>();
    EXPECT_EQ(rec.at("seq").get<uint64_t>(), ids_[i]);
    EXPECT_EQ(rec.at("ops").get<uint64_t>(), 2u);
    ASSERT_EQ(rec.at("keys").size(), 2u);
    EXPECT_EQ(rec.at("keys").at(0).get<std::string>(), TxnKey(i));
    EXPECT_EQ(rec.at("keys").at(1).get<std::string>(), SharedKey(i));
    EXPECT_EQ(rec.at("stored_bytes").get<uint64_t>() + kRecordHeaderSize,
              rec.at("length").get<uint64_t>());
    EXPECT_FALSE(rec.at("compressed").get<bool>());
    EXPECT_TRUE(rec.at("checksum_ok").get<bool>());
  }
  const Json& t = j.at("tail");
  EXPECT_EQ(t.at("state").get<std::string>(), "torn");
  EXPECT_EQ(t.at("file").get<std::string>(), fs::relative(segment_, Dir()).string());
  EXPECT_EQ(t.at("offset").get<uint64_t>(), valid_end_);
  EXPECT_EQ(t.at("offset").get<uint64_t>(), offset);
  EXPECT_EQ(t.at("dropped_bytes").get<uint64_t>(), kGarbage.size());
  EXPECT_EQ(t.at("last_seq").get<uint64_t>(), ids_.back());

  const Json from = ParseJson(
      Cli({"wal", "dump", Dir(), "--from", std::to_string(ids_[2]), "--limit", "2", "--json"}));
  ASSERT_EQ(from.at("records").size(), 2u);
  EXPECT_EQ(from.at("records").at(0).at("seq").get<uint64_t>(), ids_[2]);
  EXPECT_EQ(from.at("records").at(1).at("seq").get<uint64_t>(), ids_[3]);
  const CliRun text = Cli({"wal", "dump", Dir()});
  EXPECT_EQ(text.code, 0) << text;
  EXPECT_NE(text.out.find("6 records; tail: torn at wal/"), std::string::npos) << text;
}

TEST_F(CliTest, TornTailInspectReportsItAndEveryRecordAfterTheCheckpoint) {
  ASSERT_NO_FATAL_FAILURE(MakeTorn(6));
  const CliRun r = Cli({"inspect", Dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  EXPECT_EQ(j.at("checkpoint_seq").get<uint64_t>(), 0u) << "the process died before any checkpoint";
  EXPECT_EQ(j.at("last_seq").get<uint64_t>(), ids_.back());
  EXPECT_FALSE(j.at("held").get<bool>()) << "the holder is dead";
  const Json& w = j.at("wal");
  EXPECT_EQ(w.at("records_after_checkpoint").get<uint64_t>(), 6u);
  EXPECT_EQ(w.at("tail").get<std::string>(), "torn");
  EXPECT_EQ(w.at("tail_file").get<std::string>(), fs::relative(segment_, Dir()).string());
  EXPECT_EQ(w.at("tail_offset").get<uint64_t>(), valid_end_);
  EXPECT_EQ(w.at("tail_dropped_bytes").get<uint64_t>(), kGarbage.size());
  EXPECT_EQ(w.at("error").get<std::string>(), "");
  const Json exact = ParseJson(Cli({"inspect", Dir(), "--exact", "--json"}));
  EXPECT_EQ(exact.at("keys").at("live").get<uint64_t>(), 6u + 3u) << "k00..k05 and shared:0..2";
}

TEST_F(CliTest, TornTailGetAndScanServeEveryAcknowledgedCommit) {
  ASSERT_NO_FATAL_FAILURE(MakeTorn(6));
  const Json g = ParseJson(Cli({"get", Dir(), SharedKey(4), "--json"}));
  EXPECT_EQ(g.at("value").get<std::string>(), SharedValue(4)) << "the last of 1 and 4";
  EXPECT_EQ(g.at("update_id").get<uint64_t>(), ids_[4]);
  const CliRun r = Cli({"scan", Dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  State seen;
  for (const Json& e : j.at("entries")) {
    seen[e.at("key").get<std::string>()] = {e.at("value").get<std::string>(),
                                            e.at("update_id").get<uint64_t>()};
  }
  EXPECT_EQ(seen, StateAfter(ids_, 6));
}

TEST_F(CliTest, TornTailVerifyIsOkWithANote) {
  ASSERT_NO_FATAL_FAILURE(MakeTorn(6));
  const CliRun r = Cli({"verify", Dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  EXPECT_TRUE(j.at("ok").get<bool>());
  EXPECT_EQ(j.at("problem_count").get<uint64_t>(), 0u);
  EXPECT_EQ(j.at("tail").get<std::string>(), "torn");
  ASSERT_EQ(j.at("notes").size(), 1u) << r;
  EXPECT_NE(j.at("notes").at(0).get<std::string>().find("torn"), std::string::npos) << r;
  EXPECT_NE(j.at("notes").at(0).get<std::string>().find(std::to_string(kGarbage.size()) + " bytes"),
            std::string::npos)
      << r;
  EXPECT_NE(
      j.at("notes").at(0).get<std::string>().find(segment_ + ":" + std::to_string(valid_end_)),
      std::string::npos)
      << r;
  EXPECT_EQ(j.at("last_seq").get<uint64_t>(), ids_.back());
  EXPECT_EQ(j.at("entries").get<uint64_t>(), 9u);
}

TEST_F(CliTest, TornTailRepairAnsweredNoChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(MakeTorn(6));
  // Taking the lock records repair's pid in LOCK (as every opener does): LOCK is left out.
  const auto before = Snapshot(Dir(), /*with_lock=*/false);
  const CliRun no = Cli({"repair", Dir()}, "n\n");
  EXPECT_EQ(no.code, 1) << no;
  EXPECT_NE(no.out.find("Proceed? [y/N]"), std::string::npos) << no;
  EXPECT_NE(no.out.find("nothing changed"), std::string::npos) << no;
  EXPECT_EQ(Snapshot(Dir(), false), before);
  const CliRun eof = Cli({"repair", Dir()});
  EXPECT_EQ(eof.code, 1) << "no answer is no: " << eof;
  EXPECT_EQ(Snapshot(Dir(), false), before);
}

TEST_F(CliTest, TornTailRepairWithYesCutsItKeepsTheBytesAndLosesNoRecord) {
  ASSERT_NO_FATAL_FAILURE(MakeTorn(6));
  const Json dump = WalDump();
  const CliRun r = Cli({"repair", Dir(), "--yes"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_NE(r.out.find("analyzed: "), std::string::npos) << r;
  EXPECT_NE(r.out.find(" tail=torn "), std::string::npos) << r;
  const uint64_t ok_up_to = Field(r.out, "ok_up_to");
  EXPECT_EQ(ok_up_to, ids_.back()) << r;
  EXPECT_EQ(Field(r.out, "dropped"), kGarbage.size()) << r;
  EXPECT_NE(r.out.find("repaired"), std::string::npos) << r;
  // The torn bytes are kept beside the segment, not destroyed.
  const std::string saved = segment_ + ".cut-" + std::to_string(valid_end_);
  ASSERT_TRUE(fs::exists(saved)) << r;
  EXPECT_EQ(test::ReadFile(saved), kGarbage);
  EXPECT_NE(r.out.find(saved), std::string::npos) << r;
  EXPECT_EQ(test::FileSize(segment_), valid_end_);
  // Every record up to the cut is there, as the dump before the repair listed it.
  const CliRun v = ExpectExactlyTheRecordsUpTo(dump, ok_up_to, 6);
  EXPECT_EQ(ParseJson(v).at("tail").get<std::string>(), "clean");
}

TEST_F(CliTest, TornTailPutRecoversDroppingTheTornBytesAndContinuesTheSequence) {
  ASSERT_NO_FATAL_FAILURE(MakeTorn(6));
  const CliRun r = Cli({"put", Dir(), "after", "crash", "--json"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(ParseJson(r).at("update_id").get<uint64_t>(), ids_.back() + 1);
  const Json i = ParseJson(Cli({"inspect", Dir(), "--json"}));
  const Json& lr = i.at("last_recovery");
  EXPECT_EQ(lr.at("checkpoint_seq").get<uint64_t>(), 0u);
  EXPECT_EQ(lr.at("records_replayed").get<uint64_t>(), 6u);
  EXPECT_EQ(lr.at("last_seq").get<uint64_t>(), ids_.back());
  EXPECT_EQ(lr.at("tail_bytes_dropped").get<uint64_t>(), kGarbage.size());
  EXPECT_EQ(i.at("wal").at("tail").get<std::string>(), "clean");
  // The open cut the torn bytes and continued the segment: the put's record is where they were.
  const Json d = WalDump();
  ASSERT_EQ(d.at("records").size(), 7u);
  EXPECT_EQ(Abs(d.at("records").at(6).at("file").get<std::string>()), segment_);
  EXPECT_EQ(d.at("records").at(6).at("offset").get<uint64_t>(), valid_end_);
  EXPECT_EQ(d.at("records").at(6).at("seq").get<uint64_t>(), ids_.back() + 1);
  EXPECT_EQ(Cli({"verify", Dir()}).code, 0);
}

TEST_F(CliTest, TornTailCompactRecoversCheckpointsAndTruncatesTheWal) {
  ASSERT_NO_FATAL_FAILURE(MakeTorn(6));
  const std::vector<std::string> wal_before = WalFiles(Dir());
  // The WAL as compact and inspect both count it: its segment files (not wal/NEWEST).
  auto segment_bytes = [&] {
    uint64_t n = 0;
    for (const std::string& f : WalFiles(Dir())) {
      if (f.ends_with(".wal")) n += fs::file_size(Abs("wal/" + f));
    }
    return n;
  };
  const uint64_t rocks_before = TreeBytes(Abs("rocksdb")), wal_bytes = segment_bytes();
  const CliRun r = Cli({"compact", Dir(), "--json"});
  ASSERT_EQ(r.code, 0) << r;
  const Json j = ParseJson(r);
  EXPECT_EQ(j.at("dir").get<std::string>(), Dir());
  EXPECT_EQ(j.at("rocksdb_bytes_before").get<uint64_t>(), rocks_before);
  EXPECT_EQ(j.at("wal_bytes_before").get<uint64_t>(), wal_bytes);
  EXPECT_EQ(j.at("rocksdb_bytes_after").get<uint64_t>(), TreeBytes(Abs("rocksdb")));
  EXPECT_EQ(j.at("wal_bytes_after").get<uint64_t>(), segment_bytes());
  EXPECT_EQ(ParseJson(Cli({"inspect", Dir(), "--json"})).at("wal").at("bytes").get<uint64_t>(),
            j.at("wal_bytes_after").get<uint64_t>())
      << "compact and inspect count the WAL alike";
  EXPECT_GT(j.at("rocksdb_bytes_after").get<uint64_t>(), 0u);
  EXPECT_GE(j.at("seconds").get<double>(), 0.0);
  // WAL truncated: every segment before the newest is gone (the newest is continued by the next
  // open, not replaced), and no record follows the checkpoint.
  std::vector<std::string> segments_after;
  for (const std::string& name : WalFiles(Dir())) {
    if (name.ends_with(".wal")) segments_after.push_back(name);
  }
  ASSERT_EQ(segments_after.size(), 1u);
  for (const std::string& name : wal_before) {
    if (name.ends_with(".wal") && name < segments_after[0]) {
      EXPECT_FALSE(fs::exists(Abs("wal/" + name))) << name << " survived";
    }
  }
  const Json i = ParseJson(Cli({"inspect", Dir(), "--exact", "--json"}));
  EXPECT_EQ(i.at("checkpoint_seq").get<uint64_t>(), ids_.back());
  EXPECT_EQ(i.at("last_seq").get<uint64_t>(), ids_.back());
  EXPECT_EQ(i.at("wal").at("records_after_checkpoint").get<uint64_t>(), 0u);
  EXPECT_EQ(i.at("wal").at("tail").get<std::string>(), "clean");
  EXPECT_EQ(i.at("keys").at("live").get<uint64_t>(), 9u);
  const Json dump = WalDump();  // the loop must not run over a destroyed temporary's member
  for (const Json& rec : dump.at("records")) EXPECT_LE(rec.at("seq").get<uint64_t>(), ids_.back());
}

// ---- Corrupt in the middle of the log -----------------------------------------------------------

TEST_F(CliTest, CorruptMiddleWalDumpExitsOneAndStopsBeforeTheDamage) {
  ASSERT_NO_FATAL_FAILURE(MakeCorruptMiddle(8, 3));
  const CliRun r = Cli({"wal", "dump", Dir(), "--json"});
  EXPECT_EQ(r.code, 1) << r;
  const Json j = ParseJson(r);
  ASSERT_EQ(j.at("records").size(), 3u) << r;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(j.at("records").at(i).at("seq").get<uint64_t>(), ids_[i]);
    EXPECT_EQ(j.at("records").at(i).at("offset").get<uint64_t>(),
              dump_before_.at("records").at(i).at("offset").get<uint64_t>());
    EXPECT_TRUE(j.at("records").at(i).at("checksum_ok").get<bool>());
  }
  const Json& t = j.at("tail");
  EXPECT_EQ(t.at("state").get<std::string>(), "corrupt");
  EXPECT_EQ(t.at("file").get<std::string>(), fs::relative(segment_, Dir()).string());
  EXPECT_EQ(t.at("offset").get<uint64_t>(), valid_end_);
  EXPECT_EQ(t.at("last_seq").get<uint64_t>(), ids_[2]);
  EXPECT_NE(t.at("detail").get<std::string>().find(segment_), std::string::npos)
      << t.at("detail").get<std::string>();
  const CliRun text = Cli({"wal", "dump", Dir()});
  EXPECT_EQ(text.code, 1) << text;
  EXPECT_NE(text.out.find("tail: corrupt"), std::string::npos) << text;
}

TEST_F(CliTest, CorruptMiddleVerifyExitsOneNamingTheFileAndOffset) {
  ASSERT_NO_FATAL_FAILURE(MakeCorruptMiddle(8, 3));
  const CliRun r = Cli({"verify", Dir(), "--json"});
  EXPECT_EQ(r.code, 1) << r;
  const Json j = ParseJson(r);
  EXPECT_FALSE(j.at("ok").get<bool>());
  EXPECT_EQ(j.at("problem_count").get<uint64_t>(), 1u) << r;
  ASSERT_EQ(j.at("problems").size(), 1u) << r;
  const std::string& p = j.at("problems").at(0).get<std::string>();
  EXPECT_TRUE(p.starts_with("WAL: ")) << p;
  EXPECT_NE(p.find(segment_), std::string::npos) << p;
  EXPECT_NE(p.find(std::to_string(valid_end_)), std::string::npos) << p;
  EXPECT_EQ(j.at("tail").get<std::string>(), "corrupt");
  EXPECT_EQ(j.at("last_seq").get<uint64_t>(), ids_[2]);
  const CliRun text = Cli({"verify", Dir()});
  EXPECT_EQ(text.code, 1) << text;
  EXPECT_NE(text.out.find("PROBLEM WAL: "), std::string::npos) << text;
  EXPECT_NE(text.out.find("verify: 1 problems"), std::string::npos) << text;
}

TEST_F(CliTest, CorruptMiddleInspectExitsOneAndShowsTheError) {
  ASSERT_NO_FATAL_FAILURE(MakeCorruptMiddle(8, 3));
  const CliRun r = Cli({"inspect", Dir(), "--json"});
  EXPECT_EQ(r.code, 1) << r;
  const Json j = ParseJson(r);
  EXPECT_EQ(j.at("last_seq").get<uint64_t>(), ids_[2]);
  EXPECT_EQ(j.at("wal").at("tail").get<std::string>(), "corrupt");
  EXPECT_EQ(j.at("wal").at("tail_offset").get<uint64_t>(), valid_end_);
  EXPECT_EQ(j.at("wal").at("records_after_checkpoint").get<uint64_t>(), 3u);
  EXPECT_NE(j.at("wal").at("error").get<std::string>().find(segment_), std::string::npos) << r;
}

TEST_F(CliTest, CorruptMiddleGetAndScanShowTheStateBeforeTheDamage) {
  ASSERT_NO_FATAL_FAILURE(MakeCorruptMiddle(8, 3));
  const Json g = ParseJson(Cli({"get", Dir(), TxnKey(2), "--json"}));
  EXPECT_EQ(g.at("value").get<std::string>(), TxnValue(2));
  EXPECT_EQ(g.at("update_id").get<uint64_t>(), ids_[2]);
  EXPECT_EQ(Cli({"get", Dir(), TxnKey(5)}).code, 1) << "after the damage";
  const Json j = ParseJson(Cli({"scan", Dir(), "--json"}));
  State seen;
  for (const Json& e : j.at("entries")) {
    seen[e.at("key").get<std::string>()] = {e.at("value").get<std::string>(),
                                            e.at("update_id").get<uint64_t>()};
  }
  EXPECT_EQ(seen, StateAfter(ids_, 3));
}

TEST_F(CliTest, CorruptMiddleCompactAndPutCannotRunAndTheCacheRefusesToOpen) {
  ASSERT_NO_FATAL_FAILURE(MakeCorruptMiddle(8, 3));
  std::string error;
  EXPECT_FALSE(OpenAndReadAll(Dir(), &error).has_value()) << "recovery refuses a corrupt WAL";
  const CliRun c = Cli({"compact", Dir()});
  EXPECT_EQ(c.code, 2) << c;
  EXPECT_TRUE(OneLineNaming(c, segment_));
  const CliRun p = Cli({"put", Dir(), "x", "y"});
  EXPECT_EQ(p.code, 2) << p;
  EXPECT_TRUE(OneLineNaming(p, segment_));
}

TEST_F(CliTest, CorruptMiddleRepairWithYesCutsAtTheDamageAndKeepsEveryEarlierRecord) {
  ASSERT_NO_FATAL_FAILURE(MakeCorruptMiddle(8, 3));
  const std::string segment_bytes = test::ReadFile(segment_);
  const Json dump = WalDump();  // what is readable: the records before the damage
  const CliRun r = Cli({"repair", Dir(), "--yes"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_NE(r.out.find(" tail=corrupt "), std::string::npos) << r;
  const uint64_t ok_up_to = Field(r.out, "ok_up_to");
  EXPECT_EQ(ok_up_to, ids_[2]) << r;
  EXPECT_NE(r.out.find("damage: "), std::string::npos) << r;
  EXPECT_NE(r.out.find("repaired"), std::string::npos) << r;
  // What follows the damage is kept aside (whether whole: see the test after this one).
  const std::string saved = segment_ + ".cut-" + std::to_string(valid_end_);
  ASSERT_TRUE(fs::exists(saved)) << r;
  const std::string kept = test::ReadFile(saved);
  EXPECT_GT(kept.size(), 0u);
  EXPECT_EQ(kept, segment_bytes.substr(valid_end_, kept.size()));
  EXPECT_NE(r.out.find(saved), std::string::npos) << r;
  EXPECT_EQ(test::FileSize(segment_), valid_end_);
  // Every record before the cut survives, with its values and updateIds; nothing after it does.
  ExpectExactlyTheRecordsUpTo(dump, ok_up_to, 3);
}

// The records after the damage were acknowledged: the copy kept aside must hold every byte of
// them, the last one included, even though a record's payload usually ends in zero bytes
// (expires_at 0, no related keys) that look like the segment's preallocation.
TEST_F(CliTest, CorruptMiddleRepairKeepsTheLastRecordAfterTheDamageWhole) {
  ASSERT_NO_FATAL_FAILURE(MakeCorruptMiddle(8, 3));
  const std::string segment_bytes = test::ReadFile(segment_);
  ASSERT_EQ(segment_bytes.substr(data_end_ - 2, 2), std::string(2, '\0'))
      << "the fixture's last record ends in zero bytes";
  const CliRun r = Cli({"repair", Dir(), "--yes"});
  ASSERT_EQ(r.code, 0) << r;
  const std::string saved = segment_ + ".cut-" + std::to_string(valid_end_);
  ASSERT_TRUE(fs::exists(saved)) << r;
  EXPECT_EQ(test::FileSize(saved), data_end_ - valid_end_)
      << "the last record after the damage ends at " << data_end_ << "\n"
      << r;
  EXPECT_EQ(test::ReadFile(saved), segment_bytes.substr(valid_end_, data_end_ - valid_end_));
}

// `repair` announces dropped=N before it asks: N should be the bytes of the records it cuts off
// (the damaged one and the valid ones after it), not the segment's preallocated zeros.
TEST_F(CliTest, CorruptMiddleRepairAnnouncesAsDroppedTheRecordBytesNotThePreallocation) {
  ASSERT_NO_FATAL_FAILURE(MakeCorruptMiddle(8, 3));
  const CliRun no = Cli({"repair", Dir()}, "n\n");
  EXPECT_EQ(no.code, 1) << no;
  EXPECT_EQ(Field(no.out, "dropped"), data_end_ - valid_end_)
      << "records from offset " << valid_end_ << " to " << data_end_ << " in a " << kSegmentSize
      << "-byte preallocated segment\n"
      << no;
}

// ---- Damage behind the engine's back: I1 and the dependents index ------------------------------

TEST_F(CliTest, VerifyExitsOneOnAnI1ViolationWrittenIntoRocksDb) {
  const auto ids = MakeClean(Dir());
  const uint64_t other = ids.at("user:1") + 100;
  TamperStore(Dir(), [&](engine::RocksStore::Checkpoint* cp) {
    cp->Put("user:1", Entry{.value = "mallory", .update_id = other});
  });
  const CliRun r = Cli({"verify", Dir(), "--json"});
  EXPECT_EQ(r.code, 1) << r;
  const Json j = ParseJson(r);
  EXPECT_FALSE(j.at("ok").get<bool>());
  EXPECT_EQ(j.at("problem_count").get<uint64_t>(), 1u) << r;
  ASSERT_EQ(j.at("problems").size(), 1u) << r;
  EXPECT_EQ(j.at("problems").at(0).get<std::string>(),
            "I1: 'profile:1' (update_id " + std::to_string(ids.at("profile:1")) +
                ") derives from 'user:1' at update_id " + std::to_string(ids.at("user:1")) +
                ", which is at " + std::to_string(other));
}

TEST_F(CliTest, RepairRebuildsAMissingDependentsEdge) {
  MakeClean(Dir());
  TamperStore(Dir(), [](engine::RocksStore::Checkpoint* cp) {
    cp->RemoveDependent("user:1", "profile:1");
  });
  const CliRun bad = Cli({"verify", Dir(), "--json"});
  EXPECT_EQ(bad.code, 1) << bad;
  const Json j = ParseJson(bad);
  EXPECT_EQ(j.at("problem_count").get<uint64_t>(), 1u);
  ASSERT_EQ(j.at("problems").size(), 1u) << bad;
  EXPECT_NE(j.at("problems").at(0).get<std::string>().find("missing edge 'user:1' -> 'profile:1'"),
            std::string::npos)
      << bad;
  EXPECT_EQ(j.at("index_edges").get<uint64_t>(), 0u);

  const CliRun r = Cli({"repair", Dir(), "--yes"});
  ASSERT_EQ(r.code, 0) << r;
  EXPECT_EQ(Field(r.out, "index_missing"), 1u) << r;
  EXPECT_EQ(Field(r.out, "index_stale"), 0u) << r;
  EXPECT_NE(r.out.find("index: 1 edges added, 0 removed"), std::string::npos) << r;
  const CliRun good = Cli({"verify", Dir(), "--json"});
  EXPECT_EQ(good.code, 0) << good;
  EXPECT_EQ(ParseJson(good).at("index_edges").get<uint64_t>(), 1u);
  // And the engine now invalidates through it.
  ASSERT_EQ(Cli({"put", Dir(), "user:1", "alice2"}).code, 0);
  EXPECT_EQ(Cli({"get", Dir(), "profile:1"}).code, 1);
}

}  // namespace
}  // namespace walcache::cli_test

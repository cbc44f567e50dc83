// WAL reader (see reader.h). Not thread-safe.
#include "wal/reader.h"

#include "util/status_macros.h"
#include "wal/format.h"

namespace walcache::wal {
namespace {

std::string At(const std::string& path, uint64_t offset) {
  return path + " at offset " + std::to_string(offset);
}

// The path of segment `number` beside the segment file `sibling`.
std::string SegmentBeside(const std::string& sibling, uint64_t number) {
  return sibling.substr(0, sibling.rfind('/') + 1) + SegmentFileName(number);
}

// Segment numbers are consecutive (a writer takes the one after the newest), so numbers between
// two listed segments name files that are gone: " (DIR/000005.wal is missing)", or "".
std::string MissingBetween(const std::string& after_path, uint64_t before, uint64_t after) {
  if (after <= before + 1) return "";
  const std::string first = SegmentBeside(after_path, before + 1);
  if (after == before + 2) return " (" + first + " is missing)";
  return " (" + first + " to " + SegmentFileName(after - 1) + " are missing)";
}

}  // namespace

Status CheckWalHoldsFrom(const SegmentSummary& first, uint64_t from_seq) {
  if (from_seq <= 1 || first.first_seq == 0 || first.first_seq <= from_seq) return Status::OK();
  std::string where;
  if (first.number > 1) {
    where = " (they were in " + SegmentBeside(first.path, first.number - 1) +
            " or earlier, which are gone)";
  }
  return Status::Corruption(first.path + ": the WAL starts at seq " +
                            std::to_string(first.first_seq) + "; records from seq " +
                            std::to_string(from_seq) + " are missing" + where);
}

std::string_view TailStateName(TailState s) {
  switch (s) {
    case TailState::kClean:
      return "clean";
    case TailState::kTorn:
      return "torn";
    case TailState::kCorrupt:
      return "corrupt";
  }
  return "unknown";
}

Result<std::unique_ptr<Reader>> Reader::Open(FileSystem* fs, std::string wal_dir,
                                             ReaderOptions options) {
  std::unique_ptr<Reader> r(new Reader(fs, std::move(wal_dir), options));
  WALCACHE_RETURN_IF_ERROR(r->Init());
  return r;
}

Status Reader::Init() {
  // The witness before the listing: a writer rotating meanwhile (the tools read live directories)
  // then only adds segments newer than the witness, which is allowed. A damaged witness says
  // nothing about the records: it is reported where reading ends, so that everything before is
  // still read (and `walcache repair` can rewrite it).
  Result<NewestWitness> w = ReadNewest(fs_, dir_);
  if (w.ok()) {
    witness_ = std::move(w).value();
  } else if (w.status().IsCorruption() || w.status().IsNotSupported()) {
    witness_error_ = w.status();
  } else if (!w.status().IsNotFound()) {
    return w.status();
  }
  WALCACHE_ASSIGN_OR_RETURN(std::vector<SegmentFile> files, ListSegments(fs_, dir_));
  for (const SegmentFile& f : files) summaries_.push_back(SegmentSummary{f.number, f.path});
  // Skip the leading segments whose successor starts at or before from_seq: all their records
  // precede it. A successor whose header cannot be read stops the skipping (reading will judge).
  if (options_.from_seq > 1) {
    for (size_t i = 0; i + 1 < summaries_.size(); ++i) {
      auto next = fs_->OpenReadable(summaries_[i + 1].path);
      if (!next.ok()) break;
      char buf[kSegmentHeaderSize];
      size_t got = 0;
      if (!(*next)->Read(0, sizeof(buf), buf, &got).ok()) break;
      SegmentHeader h;
      if (!DecodeSegmentHeader(std::string_view(buf, got), summaries_[i + 1].path, &h).ok()) break;
      if (h.first_seq > options_.from_seq) break;
      summaries_[i].skipped = true;
      idx_ = i + 1;
    }
  }
  if (options_.start && options_.start->seq <= options_.from_seq) {
    for (size_t i = idx_; i < summaries_.size(); ++i) {
      if (summaries_[i].number != options_.start->segment) continue;
      for (size_t k = idx_; k < i; ++k) summaries_[k].skipped = true;
      idx_ = i;
      start_idx_ = i;
      break;
    }
  }
  return Status::OK();
}

Status Reader::CheckWitnessAtEnd() const {
  if (!witness_error_.ok()) return witness_error_;
  if (!witness_) return Status::OK();
  // Missing only if no segment at or after it is there: once a newer segment exists, the named
  // one may have been deleted by a checkpoint (a rotation and a checkpoint between a live
  // reader's two looks, or an older build that did not keep the witness), and a segment lost
  // from the middle or the front is a sequence gap or missing records, which reading reports.
  const uint64_t n = witness_->header.number;
  if (!summaries_.empty() && summaries_.back().number >= n) return Status::OK();
  return Status::Corruption(JoinPath(dir_, SegmentFileName(n)) + " is missing: " + witness_->path +
                            " names it as the newest segment, created durably to hold the " +
                            "records from seq " + std::to_string(witness_->header.first_seq) +
                            " on; whatever it held is lost");
}

Status Reader::Fail(Status s) {
  error_ = s;
  // The tail names where reading stopped, whatever stopped it; only Corruption marks it corrupt
  // (an I/O error or an unsupported version says nothing about the bytes).
  if (s.IsCorruption()) tail_.state = TailState::kCorrupt;
  tail_.detail = s.message();
  if (idx_ < summaries_.size()) {
    tail_.file = summaries_[idx_].path;
    tail_.segment = summaries_[idx_].number;
  }
  tail_.valid_end = offset_;
  tail_.last_seq = next_seq_ == 0 ? 0 : next_seq_ - 1;
  return s;
}

Status Reader::OpenSegment(bool* done) {
  SegmentSummary& seg = summaries_[idx_];
  WALCACHE_ASSIGN_OR_RETURN(file_, fs_->OpenReadable(seg.path));
  WALCACHE_ASSIGN_OR_RETURN(seg.file_bytes, file_->Size());
  view_.emplace(file_.get(), seg.file_bytes);
  offset_ = 0;

  SegmentHeader h;
  Status hs = Status::Corruption(seg.path + ": segment header truncated (" +
                                 std::to_string(seg.file_bytes) + " bytes)");
  std::string header_bytes;
  if (seg.file_bytes >= kSegmentHeaderSize) {
    WALCACHE_ASSIGN_OR_RETURN(std::string_view bytes, view_->Fetch(0, kSegmentHeaderSize));
    header_bytes = bytes;
    hs = DecodeSegmentHeader(bytes, seg.path + " at offset 0", &h);
  }
  if (hs.IsNotSupported()) return hs;
  const bool witnessed = witness_ && witness_->header.number == seg.number;
  if (!hs.ok()) {
    // Only the newest segment may be caught half-created by a crash (CreateSegment syncs the
    // header before any record is written to it), and only before the witness names it.
    if (!IsLast()) return hs;
    if (witnessed) {
      return Status::Corruption(hs.message() + "; " + witness_->path + " says its header was " +
                                "durable, holding the records from seq " +
                                std::to_string(witness_->header.first_seq) +
                                " on: whatever it held is lost");
    }
    WALCACHE_ASSIGN_OR_RETURN(
        ResyncResult r,
        FindValidRecordAfter(&*view_, kSegmentHeaderSize - 1, seg.number, next_seq_,
                             options_.resync_budget_factor * seg.file_bytes + (1 << 20)));
    if (r.found || r.exhausted) {
      return Status::Corruption(hs.message() + ", but valid records follow it");
    }
    WALCACHE_ASSIGN_OR_RETURN(uint64_t nz, NonZeroEnd(&*view_, 0));
    tail_.file = seg.path;
    tail_.segment = seg.number;
    tail_.valid_end = 0;
    tail_.last_seq = next_seq_ == 0 ? 0 : next_seq_ - 1;
    tail_.state = nz == 0 ? TailState::kClean : TailState::kTorn;
    tail_.dropped_bytes = nz;
    tail_.detail = nz == 0 ? "newest segment was created but never written" : hs.message();
    WALCACHE_RETURN_IF_ERROR(CheckWitnessAtEnd());
    *done = true;
    return Status::OK();
  }
  if (witnessed && header_bytes != witness_->bytes) {
    return Status::Corruption(seg.path + ": its header differs from " + witness_->path +
                              ", which was copied from it when it was created (segment " +
                              std::to_string(witness_->header.number) + ", first seq " +
                              std::to_string(witness_->header.first_seq) + ")");
  }
  seg.first_seq = h.first_seq;
  if (h.number != seg.number) {
    return Status::Corruption(seg.path + ": header names segment " + std::to_string(h.number));
  }
  if (next_seq_ != 0 && h.first_seq != next_seq_) {
    return Status::Corruption(seg.path + ": sequence gap: segment starts at seq " +
                              std::to_string(h.first_seq) + " but the previous one ended at " +
                              std::to_string(next_seq_ - 1) +
                              MissingBetween(seg.path, summaries_[idx_ - 1].number, seg.number));
  }
  if (next_seq_ == 0) WALCACHE_RETURN_IF_ERROR(CheckWalHoldsFrom(seg, options_.from_seq));
  next_seq_ = h.first_seq;
  offset_ = kSegmentHeaderSize;
  if (start_idx_ == idx_ && options_.start->seq >= h.first_seq &&
      options_.start->offset >= kSegmentHeaderSize && options_.start->offset <= seg.file_bytes) {
    next_seq_ = options_.start->seq;
    offset_ = options_.start->offset;
  }
  return Status::OK();
}

Result<bool> Reader::EndedInProgress() {
  if (!IsLast()) return false;  // its successor was listed, so it was complete when listed
  const SegmentSummary& seg = summaries_[idx_];
  view_->Forget();
  RecordHeader h;
  std::string_view payload;
  WALCACHE_ASSIGN_OR_RETURN(ProbeResult probe,
                            ProbeRecord(&*view_, offset_, seg.number, &h, &payload));
  if (probe != ProbeResult::kValid || h.seq != next_seq_) return false;
  tail_.file = seg.path;
  tail_.segment = seg.number;
  tail_.valid_end = offset_;
  tail_.last_seq = next_seq_ - 1;
  tail_.state = TailState::kClean;
  tail_.in_progress = true;
  tail_.detail = "an append was in progress at " + At(seg.path, offset_) + " while it was read";
  WALCACHE_RETURN_IF_ERROR(CheckWitnessAtEnd());
  return true;
}

Status Reader::ClassifyEnd(bool* done) {
  const SegmentSummary& seg = summaries_[idx_];
  // The read-ahead may hold the bytes from before a live writer's append: look again first.
  WALCACHE_ASSIGN_OR_RETURN(bool moved, EndedInProgress());
  if (moved) {
    *done = true;
    return Status::OK();
  }
  RecordHeader h;
  std::string_view payload;
  WALCACHE_ASSIGN_OR_RETURN(ProbeResult probe,
                            ProbeRecord(&*view_, offset_, seg.number, &h, &payload));
  // Records of an older segment, then nothing but zeros, are leftovers: a clean end. Anything
  // else after them is judged as if it came right after the last valid record.
  uint64_t stale_end = offset_;
  while (probe == ProbeResult::kStale) {
    stale_end += kRecordHeaderSize + h.length;
    WALCACHE_ASSIGN_OR_RETURN(probe, ProbeRecord(&*view_, stale_end, seg.number, &h, &payload));
  }
  WALCACHE_ASSIGN_OR_RETURN(uint64_t nz, NonZeroEnd(&*view_, offset_));
  uint64_t nz_after_stale = nz;  // the same scan when no stale records came first
  if (stale_end != offset_) {
    WALCACHE_ASSIGN_OR_RETURN(nz_after_stale, NonZeroEnd(&*view_, stale_end));
  }
  const bool stale = stale_end > offset_ && nz_after_stale == stale_end;
  if (nz > offset_) {
    const uint64_t budget = options_.resync_budget_factor * (view_->size() - offset_) + (1 << 20);
    WALCACHE_ASSIGN_OR_RETURN(
        ResyncResult r, FindValidRecordAfter(&*view_, offset_, seg.number, next_seq_, budget));
    // The damage is judged on bytes read after the valid record behind it was seen: a writer
    // appends in order, so by then whatever it was writing at offset_ is complete.
    if (r.found || r.exhausted) {
      WALCACHE_ASSIGN_OR_RETURN(bool appended, EndedInProgress());
      if (appended) {
        *done = true;
        return Status::OK();
      }
    }
    if (r.found) {
      return Status::Corruption(At(seg.path, offset_) + ": damaged record followed by valid " +
                                "record seq " + std::to_string(r.seq) + " at offset " +
                                std::to_string(r.offset));
    }
    if (r.exhausted) {
      return Status::Corruption(At(seg.path, offset_) +
                                ": damaged record; too many candidate "
                                "records after it to rule out valid ones");
    }
  }
  if (!IsLast()) {
    if (nz == offset_ || stale) return Status::OK();  // on to the next segment
    return Status::Corruption(At(seg.path, offset_) + ": " + std::to_string(nz - offset_) +
                              " bytes of damage in a segment that has a successor");
  }
  tail_.file = seg.path;
  tail_.segment = seg.number;
  tail_.valid_end = offset_;
  tail_.last_seq = next_seq_ - 1;
  if (nz == offset_) {
    tail_.state = TailState::kClean;
    tail_.detail = "clean end";
  } else if (stale) {
    tail_.state = TailState::kClean;
    tail_.stale_bytes = stale_end - offset_;
    tail_.detail = std::to_string(tail_.stale_bytes) + " bytes of an older segment's records";
  } else {
    tail_.state = TailState::kTorn;
    tail_.dropped_bytes = nz - offset_;
    tail_.detail =
        "torn tail: " + std::to_string(tail_.dropped_bytes) + " bytes at " + At(seg.path, offset_);
  }
  WALCACHE_RETURN_IF_ERROR(CheckWitnessAtEnd());
  *done = true;
  return Status::OK();
}

Result<bool> Reader::Next(WalRecord* rec) {
  if (!error_.ok()) return error_;
  if (finished_) return false;
  while (true) {
    if (!view_) {
      if (idx_ >= summaries_.size()) {
        if (Status w = CheckWitnessAtEnd(); !w.ok()) return Fail(w);
        finished_ = true;
        return false;
      }
      bool done = false;
      Status s = OpenSegment(&done);
      if (!s.ok()) return Fail(s);
      if (done) {
        finished_ = true;
        return false;
      }
    }
    SegmentSummary& seg = summaries_[idx_];
    RecordHeader h;
    std::string_view payload;
    Result<ProbeResult> probe = ProbeRecord(&*view_, offset_, seg.number, &h, &payload);
    if (!probe.ok()) return Fail(probe.status());
    if (*probe == ProbeResult::kValid) {
      if (h.seq != next_seq_) {
        return Fail(Status::Corruption(At(seg.path, offset_) + ": record has seq " +
                                       std::to_string(h.seq) + " where " +
                                       std::to_string(next_seq_) + " belongs"));
      }
      // A record counts as valid only once its payload decodes too (a good checksum over an
      // undecodable payload is damage all the same), so the tail never moves past it.
      Result<std::string> batch = DecodePayload(h, payload);
      if (!batch.ok()) return Fail(batch.status().WithContext(At(seg.path, offset_)));
      const uint64_t at = offset_;
      offset_ += kRecordHeaderSize + h.length;
      ++next_seq_;
      ++seg.records;
      if (h.seq < options_.from_seq) continue;
      rec->seq = h.seq;
      rec->segment = seg.number;
      rec->file = seg.path;
      rec->offset = at;
      rec->stored_bytes = h.length;
      rec->compressed = (h.flags & kFlagLz4) != 0;
      rec->batch = std::move(batch).value();
      return true;
    }
    bool done = false;
    Status s = ClassifyEnd(&done);
    if (!s.ok()) return Fail(s);
    if (done) {
      finished_ = true;
      return false;
    }
    view_.reset();
    file_.reset();
    ++idx_;
  }
}

}  // namespace walcache::wal

// DIR/LAST_RECOVERY (see recovery_record.h).
#include "engine/recovery_record.h"

#include <charconv>
#include <utility>
#include <vector>

#include "util/status_macros.h"

namespace walcache::engine {
namespace {

constexpr size_t kMaxRecordBytes = 64 << 10;

std::vector<std::pair<const char*, uint64_t RecoveryInfo::*>> Fields() {
  return {{"checkpoint_seq", &RecoveryInfo::checkpoint_seq},
          {"last_seq", &RecoveryInfo::last_seq},
          {"records_replayed", &RecoveryInfo::records_replayed},
          {"bytes_replayed", &RecoveryInfo::bytes_replayed},
          {"segments", &RecoveryInfo::segments},
          {"tail_bytes_dropped", &RecoveryInfo::tail_bytes_dropped},
          {"micros", &RecoveryInfo::micros},
          {"prewarmed_entries", &RecoveryInfo::prewarmed_entries},
          {"prewarmed_bytes", &RecoveryInfo::prewarmed_bytes}};
}

}  // namespace

Status WriteRecoveryRecord(FileSystem* fs, const std::string& dir, const RecoveryInfo& info,
                           uint64_t opened_at_ms) {
  std::string text = "opened_at_ms " + std::to_string(opened_at_ms) + "\n";
  for (const auto& [name, field] : Fields()) {
    text += std::string(name) + " " + std::to_string(info.*field) + "\n";
  }
  std::string summary = info.summary;
  for (char& c : summary) {
    if (c == '\n') c = ' ';
  }
  text += "summary " + summary + "\n";
  const std::string path = JoinPath(dir, kRecoveryFile);
  const std::string tmp = path + ".tmp";
  (void)fs->DeleteFile(tmp);  // left by a crash during an earlier write
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f,
                            fs->OpenWritable(tmp, OpenMode::kCreateNew));
  WALCACHE_RETURN_IF_ERROR(f->Write(0, text));
  WALCACHE_RETURN_IF_ERROR(f->Sync());
  WALCACHE_RETURN_IF_ERROR(f->Close());
  WALCACHE_RETURN_IF_ERROR(fs->RenameFile(tmp, path));
  return fs->SyncDir(dir);
}

Result<RecoveryInfo> ReadRecoveryRecord(FileSystem* fs, const std::string& dir,
                                        uint64_t* opened_at_ms) {
  const std::string path = JoinPath(dir, kRecoveryFile);
  WALCACHE_ASSIGN_OR_RETURN(std::unique_ptr<ReadableFile> f, fs->OpenReadable(path));
  WALCACHE_ASSIGN_OR_RETURN(uint64_t size, f->Size());
  if (size > kMaxRecordBytes) {
    return Status::Corruption(path + ": " + std::to_string(size) + " bytes, too large");
  }
  std::string text(size, '\0');
  size_t got = 0;
  WALCACHE_RETURN_IF_ERROR(f->Read(0, text.size(), text.data(), &got));
  text.resize(got);
  RecoveryInfo info;
  *opened_at_ms = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, sp), value = line.substr(sp + 1);
    if (name == "summary") {
      info.summary = std::string(value);
      continue;
    }
    uint64_t* dst = name == "opened_at_ms" ? opened_at_ms : nullptr;
    for (const auto& [n, field] : Fields()) {
      if (name == n) dst = &(info.*field);
    }
    if (dst == nullptr) continue;  // a field of a newer writer
    const auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), *dst);
    if (ec != std::errc() || p != value.data() + value.size()) {
      return Status::Corruption(path + ": malformed line '" + std::string(line) + "'");
    }
  }
  return info;
}

}  // namespace walcache::engine

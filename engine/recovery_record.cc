// DIR/LAST_RECOVERY (see recovery_record.h).
#include "engine/recovery_record.h"

#include <utility>
#include <vector>

#include "util/fields_file.h"
#include "util/status_macros.h"

namespace walcache::engine {
namespace {

std::vector<std::pair<const char*, uint64_t RecoveryInfo::*>> NumericFields() {
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
  Fields fields = {{"opened_at_ms", std::to_string(opened_at_ms)}};
  for (const auto& [name, field] : NumericFields())
    fields.emplace_back(name, std::to_string(info.*field));
  fields.emplace_back("summary", info.summary);
  return WriteFieldsFile(fs, JoinPath(dir, kRecoveryFile), fields);
}

Result<RecoveryInfo> ReadRecoveryRecord(FileSystem* fs, const std::string& dir,
                                        uint64_t* opened_at_ms) {
  const std::string path = JoinPath(dir, kRecoveryFile);
  WALCACHE_ASSIGN_OR_RETURN(Fields fields, ReadFieldsFile(fs, path));
  RecoveryInfo info;
  *opened_at_ms = 0;
  bool summary = false;
  for (const auto& field : fields) {
    if (field.first == "summary") {
      info.summary = field.second;
      summary = true;
      continue;
    }
    uint64_t* dst = field.first == "opened_at_ms" ? opened_at_ms : nullptr;
    for (const auto& [n, member] : NumericFields()) {
      if (field.first == n) dst = &(info.*member);
    }
    if (dst == nullptr) continue;  // a field of a newer writer
    WALCACHE_RETURN_IF_ERROR(ParseField(path, field, dst));
  }
  // Every writer writes it, last: without it the file is cut short or not a record at all.
  if (!summary) return Status::Corruption(path + ": no summary line");
  return info;
}

}  // namespace walcache::engine

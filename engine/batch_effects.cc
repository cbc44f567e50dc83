// BatchEffects (see batch_effects.h).
#include "engine/batch_effects.h"

#include "util/status_macros.h"

namespace walcache::engine {

Status BatchEffects(uint64_t seq, const wal::Batch& batch,
                    const std::function<Result<std::optional<Entry>>(const std::string&)>& prior,
                    Effects* out) {
  // The batch holds every effect the commit computed (cascades, clamps); nothing is derived here.
  for (const wal::Op& op : batch.ops()) {
    switch (op.type) {
      case wal::OpType::kPut:
        (*out)[op.key] = Entry{op.value, seq, op.expires_at, op.related};
        break;
      case wal::OpType::kDelete:
      case wal::OpType::kInvalidate:
        (*out)[op.key] = std::nullopt;
        break;
      case wal::OpType::kTouch: {
        auto it = out->find(op.key);
        std::optional<Entry> cur;
        if (it != out->end()) {
          cur = it->second;
        } else {
          WALCACHE_ASSIGN_OR_RETURN(cur, prior(op.key));
        }
        // The commit found the key live, so the checkpoint or an earlier record of this replay
        // holds it (the expiry filter keeps what a logged Touch acts on: expiry_filter.h). Absent
        // only in a log damaged or cut by hand; then there is nothing to touch.
        if (!cur.has_value()) break;
        cur->expires_at = op.expires_at;
        (*out)[op.key] = std::move(cur);
        break;
      }
    }
  }
  return Status::OK();
}

}  // namespace walcache::engine

// SPDX-License-Identifier: Apache-2.0
// Planted: a wal/ source that includes an engine header. Built as the wal layer is
// (walcache_wal's include path), it must not compile: Layers.BuildRejectsAnUpwardInclude.
#include "engine/cache_impl.h"

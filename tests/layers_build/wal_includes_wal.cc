// SPDX-License-Identifier: Apache-2.0
// The control of Layers.BuildRejectsAnUpwardInclude: built as the wal layer is, a source that
// includes its own layer's and a lower layer's headers compiles.
#include "util/coding.h"
#include "wal/reader.h"

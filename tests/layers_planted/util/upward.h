// A planted upward include for the layer check's own test (tests/CMakeLists.txt): util may not
// include engine. Never compiled.
#include "engine/cache_impl.h"

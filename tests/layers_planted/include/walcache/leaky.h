// A planted leak for the layer check's own test: a public header may include only public
// headers. Never compiled.
#include "util/status_macros.h"

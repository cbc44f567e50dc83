// A legal include for the layer check's own test: engine may include util. Never compiled.
#include "util/status_macros.h"

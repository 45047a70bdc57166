// The sgd family on the host: every kernel of ../kernels/sgd.cu, registered.
#include "prelude_host.h"
#include "../kernels/sgd.cu"
EMU_KERNEL(sgd_update);

// The pool family on the host: every kernel of ../kernels/pool.cu, registered.
#include "prelude_host.h"
#include "../kernels/pool.cu"
EMU_KERNEL(maxpool_fwd);
EMU_KERNEL(maxpool_bwd);
EMU_KERNEL(avgpool_fwd);
EMU_KERNEL(avgpool_bwd);
EMU_KERNEL(global_avgpool_fwd);

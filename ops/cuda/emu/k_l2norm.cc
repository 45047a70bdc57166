// The l2norm family on the host: every kernel of ../kernels/l2norm.cu, registered.
#include "prelude_host.h"
#include "../kernels/l2norm.cu"
EMU_KERNEL(l2norm_fwd);
EMU_KERNEL(l2norm_bwd);

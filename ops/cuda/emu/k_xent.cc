// The xent family on the host: every kernel of ../kernels/xent.cu, registered.
#include "prelude_host.h"
#include "../kernels/xent.cu"
EMU_KERNEL(xent_fwd);
EMU_KERNEL(xent_reduce);
EMU_KERNEL(xent_bwd);

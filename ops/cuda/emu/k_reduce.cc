// The reduce family on the host: every kernel of ../kernels/reduce.cu, registered.
#include "prelude_host.h"
#include "../kernels/reduce.cu"
EMU_KERNEL(reduce_axis);
EMU_KERNEL(reduce_axis_bwd);
EMU_KERNEL(sum_partial);
EMU_KERNEL(sum_final);

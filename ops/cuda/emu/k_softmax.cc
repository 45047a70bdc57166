// The softmax family on the host: every kernel of ../kernels/softmax.cu, registered.
#include "prelude_host.h"
#include "../kernels/softmax.cu"
EMU_KERNEL(softmax_fwd);
EMU_KERNEL(softmax_bwd);

// The elementwise family on the host: every kernel of ../kernels/elementwise.cu, registered.
#include "prelude_host.h"
#include "../kernels/elementwise.cu"
EMU_KERNEL(relu_fwd);
EMU_KERNEL(relu_bwd);
EMU_KERNEL(add);
EMU_KERNEL(mul);
EMU_KERNEL(add_bias);
EMU_KERNEL(scale);
EMU_KERNEL(fill);
EMU_KERNEL(axpby);
EMU_KERNEL(bn_merge);

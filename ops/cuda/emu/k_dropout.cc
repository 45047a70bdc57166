// The dropout family on the host: every kernel of ../kernels/dropout.cu, registered.
#include "prelude_host.h"
#include "../kernels/dropout.cu"
EMU_KERNEL(dropout_mask);
EMU_KERNEL(dropout_apply);

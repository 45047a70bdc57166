// The pointwise family on the host: every kernel of ../kernels/pointwise.cu, registered.
#include "prelude_host.h"
#include "../kernels/pointwise.cu"
EMU_KERNEL(pointwise_fwd);
EMU_KERNEL(pointwise_bwd);

// The dwconv family on the host: every kernel of ../kernels/dwconv.cu, registered.
#include "prelude_host.h"
#include "../kernels/dwconv.cu"
EMU_KERNEL(dwconv_fwd);
EMU_KERNEL(dwconv_bwd_x);
EMU_KERNEL(dwconv_bwd_w);

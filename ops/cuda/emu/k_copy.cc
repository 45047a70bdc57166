// The copy family on the host: every kernel of ../kernels/copy.cu, registered.
#include "prelude_host.h"
#include "../kernels/copy.cu"
EMU_KERNEL(copy_strided);
EMU_KERNEL(gather_axes);
EMU_KERNEL(scatter_axes);

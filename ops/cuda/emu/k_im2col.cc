// The im2col family on the host: every kernel of ../kernels/im2col.cu, registered.
#include "prelude_host.h"
#include "../kernels/im2col.cu"
EMU_KERNEL(im2col);
EMU_KERNEL(col2im);

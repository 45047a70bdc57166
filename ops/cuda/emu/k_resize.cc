// The resize family on the host: every kernel of ../kernels/resize.cu, registered.
#include "prelude_host.h"
#include "../kernels/resize.cu"
EMU_KERNEL(resize_sparse);

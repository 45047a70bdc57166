// The broadcast family on the host: every kernel of ../kernels/broadcast.cu, registered.
#include "prelude_host.h"
#include "../kernels/broadcast.cu"
EMU_KERNEL(arith_broadcast);
EMU_KERNEL(arith_broadcast_grad);

// The batchnorm family on the host: every kernel of ../kernels/batchnorm.cu, registered.
#include "prelude_host.h"
#include "../kernels/batchnorm.cu"
EMU_KERNEL(bn_stats);
EMU_KERNEL(bn_eval_stats);
EMU_KERNEL(bn_apply);
EMU_KERNEL(bn_stats_grad);
EMU_KERNEL(bn_input_grad);
EMU_KERNEL(channel_sum);

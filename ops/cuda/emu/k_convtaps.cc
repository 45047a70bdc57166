// The convtaps family on the host: every kernel of ../kernels/convtaps.cu, registered.
#include "prelude_host.h"
#include "../kernels/convtaps.cu"
EMU_KERNEL(tap_weights);
EMU_KERNEL(tap_weight_grad);
EMU_KERNEL(tap_gather_inputs);
EMU_KERNEL(tap_gather_grads);
EMU_KERNEL(tap_add_outputs);
EMU_KERNEL(tap_add_input_grads);
EMU_KERNEL(conv_permute_batched);
EMU_KERNEL(conv_batch_grads);

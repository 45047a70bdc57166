// The emulator's own test kernels (selftest_kernels.h), registered.
#include "prelude_host.h"
#include "selftest_kernels.h"
EMU_KERNEL(emutest_coords);
EMU_KERNEL(emutest_reverse);
EMU_KERNEL(emutest_block_sum);
EMU_KERNEL(emutest_early_return);
EMU_KERNEL(emutest_divergent_barrier);
EMU_KERNEL(emutest_oob);
EMU_KERNEL(emutest_shared_oob);
EMU_KERNEL(emutest_atomic);
EMU_KERNEL(emutest_args);
EMU_KERNEL(emutest_math);
EMU_KERNEL(emutest_shared_leftover);

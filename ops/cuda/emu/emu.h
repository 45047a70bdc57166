// emu.h: the C interface the Go side (emu.go) calls.
#pragma once
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
// emu_signature returns the kernel's signature string (see registry.h), or NULL if unknown.
const char* emu_signature(const char* name);
// emu_kernel_count and emu_kernel_name list the registered kernels.
int emu_kernel_count(void);
const char* emu_kernel_name(int i);
// emu_launch runs the kernel over the grid; reverse runs each block's threads in
// descending order between barriers. It returns 0, or writes a message into err and
// returns 1.
int emu_launch(const char* name, const int* grid, const int* block, int shared_bytes,
               const uint64_t* slots, int reverse, char* err, int errlen);
#ifdef __cplusplus
}
#endif

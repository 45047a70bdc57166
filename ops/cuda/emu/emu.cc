// emu.cc: CUDA's execution model on the CPU. Blocks run one after another; the threads of
// a block are ucontext fibers on one OS thread, run round-robin (ascending or descending
// thread order) from one __syncthreads to the next. A barrier releases only when every
// thread of the block waits at it; a thread that returns while others wait, or threads
// waiting at different __syncthreads, is the launch's error (on a GPU: a hang or undefined
// behaviour). Static and dynamic shared memory are filled with NaN bytes before each block;
// the dynamic one has guard bands checked after it.
#include "emu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "prelude_host.h"

// The linker's bounds of the emu_shared section (prelude_host.h's __shared__).
extern "C" char __start_emu_shared[] __attribute__((weak));
extern "C" char __stop_emu_shared[] __attribute__((weak));

namespace emu {

uint3 block_idx, block_dim, grid_dim;

namespace {

struct Kernel {
  std::string sig;
  Thunk thunk;
};

std::map<std::string, Kernel>& registry() {
  static std::map<std::string, Kernel> r;
  return r;
}

enum State { READY, AT_BARRIER, DONE };

struct Fiber {
  ucontext_t ctx;
  uint3 tid;
  State state;
  int line; // the __syncthreads it waits at
};

const size_t kStack = 64 << 10; // per thread; a guard page below each
const size_t kGuardPage = 4096;
const int kSharedGuard = 256; // bytes each side of dynamic shared memory
const unsigned char kSharedFill = 0xff; // NaN as float, -1 as int

std::vector<Fiber> fibers;
char* stacks = nullptr;
size_t stacks_n = 0;
Fiber* cur = nullptr;
ucontext_t sched;
const uint64_t* cur_slots = nullptr;
Thunk cur_thunk = nullptr;
unsigned char* shared_mem = nullptr;
bool in_launch = false;

bool ensure_stacks(size_t n) {
  if (stacks_n >= n) return true;
  if (stacks) munmap(stacks, stacks_n * (kStack + kGuardPage));
  stacks_n = 0;
  size_t total = n * (kStack + kGuardPage);
  void* p = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    stacks = nullptr;
    return false;
  }
  stacks = (char*)p;
  for (size_t i = 0; i < n; i++) mprotect(stacks + i * (kStack + kGuardPage), kGuardPage, PROT_NONE);
  stacks_n = n;
  return true;
}

void fiber_main() {
  cur_thunk(cur_slots);
  cur->state = DONE; // uc_link returns to the scheduler
}

} // namespace

const uint3& thread_idx() { return cur->tid; }

void sync_threads(int line) {
  if (!in_launch) abort();
  cur->state = AT_BARRIER;
  cur->line = line;
  swapcontext(&cur->ctx, &sched);
}

void* dynamic_shared() { return shared_mem + kSharedGuard; }

void register_kernel(const char* name, const char* sig, Thunk thunk) {
  registry()[name] = Kernel{sig, thunk};
}

namespace {

int fail(char* err, int errlen, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
int fail(char* err, int errlen, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return 1;
}

// run_block runs one block's threads to completion; it returns 0 or an error.
int run_block(const Kernel& k, int nthreads, bool reverse, const char* name, char* err, int errlen) {
  for (int t = 0; t < nthreads; t++) {
    Fiber& f = fibers[t];
    f.tid.x = t % block_dim.x;
    f.tid.y = (t / block_dim.x) % block_dim.y;
    f.tid.z = t / (block_dim.x * block_dim.y);
    f.state = READY;
    f.line = 0;
    getcontext(&f.ctx);
    f.ctx.uc_stack.ss_sp = stacks + t * (kStack + kGuardPage) + kGuardPage;
    f.ctx.uc_stack.ss_size = kStack;
    f.ctx.uc_link = &sched;
    makecontext(&f.ctx, fiber_main, 0);
  }
  cur_thunk = k.thunk;
  for (;;) {
    for (int i = 0; i < nthreads; i++) {
      Fiber& f = fibers[reverse ? nthreads - 1 - i : i];
      if (f.state != READY) continue;
      cur = &f;
      swapcontext(&sched, &f.ctx);
    }
    int waiting = 0, done = 0, line = -1;
    for (int t = 0; t < nthreads; t++) {
      Fiber& f = fibers[t];
      if (f.state == DONE) {
        done++;
        continue;
      }
      waiting++;
      if (line < 0) line = f.line;
      if (f.line != line) {
        return fail(err, errlen,
                    "emu: %s block (%u,%u,%u): threads wait at different __syncthreads (lines %d "
                    "and %d): a barrier inside divergent code",
                    name, block_idx.x, block_idx.y, block_idx.z, line, f.line);
      }
    }
    if (waiting == 0) return 0;
    if (done > 0) {
      return fail(err, errlen,
                  "emu: %s block (%u,%u,%u): %d threads returned while %d wait at __syncthreads "
                  "(line %d): an early return before a barrier",
                  name, block_idx.x, block_idx.y, block_idx.z, done, waiting, line);
    }
    for (int t = 0; t < nthreads; t++) fibers[t].state = READY;
  }
}

} // namespace
} // namespace emu

using namespace emu;

extern "C" const char* emu_signature(const char* name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : it->second.sig.c_str();
}

extern "C" int emu_kernel_count(void) { return (int)registry().size(); }

extern "C" const char* emu_kernel_name(int i) {
  auto it = registry().begin();
  std::advance(it, i);
  return it->first.c_str();
}

extern "C" int emu_launch(const char* name, const int* grid, const int* block, int shared_bytes,
                          const uint64_t* slots, int reverse, char* err, int errlen) {
  auto it = registry().find(name);
  if (it == registry().end()) return fail(err, errlen, "emu: no kernel %s", name);
  // CUDA's limits (compute capability 8.x/9.0), so a launch the emulator takes a GPU takes too.
  for (int d = 0; d < 3; d++) {
    if (grid[d] < 1 || block[d] < 1) return fail(err, errlen, "emu: %s: grid and block sizes must be ≥ 1", name);
  }
  if (grid[1] > 65535 || grid[2] > 65535) return fail(err, errlen, "emu: %s: gridDim.y and .z must be ≤ 65535", name);
  if (block[0] > 1024 || block[1] > 1024 || block[2] > 64) return fail(err, errlen, "emu: %s: blockDim exceeds (1024, 1024, 64)", name);
  long nthreads = (long)block[0] * block[1] * block[2];
  if (nthreads > 1024) return fail(err, errlen, "emu: %s: %ld threads per block; CUDA allows 1024", name, nthreads);
  if (shared_bytes < 0 || shared_bytes > 48 << 10) return fail(err, errlen, "emu: %s: %d bytes of dynamic shared memory; 0 to 48 KiB without an opt-in", name, shared_bytes);
  if (!ensure_stacks(nthreads)) return fail(err, errlen, "emu: cannot map fiber stacks");
  if ((long)fibers.size() < nthreads) fibers.resize(nthreads);
  std::vector<unsigned char> shm(shared_bytes + 2 * kSharedGuard);
  shared_mem = shm.data();
  grid_dim = uint3{(unsigned)grid[0], (unsigned)grid[1], (unsigned)grid[2]};
  block_dim = uint3{(unsigned)block[0], (unsigned)block[1], (unsigned)block[2]};
  cur_slots = slots;
  in_launch = true;
  int rc = 0;
  for (unsigned bz = 0; bz < grid_dim.z && rc == 0; bz++) {
    for (unsigned by = 0; by < grid_dim.y && rc == 0; by++) {
      for (unsigned bx = 0; bx < grid_dim.x && rc == 0; bx++) {
        block_idx = uint3{bx, by, bz};
        memset(shm.data(), kSharedFill, shm.size());
        char *s0 = __start_emu_shared, *s1 = __stop_emu_shared;
        if (s0 && s1 > s0) memset(s0, kSharedFill, s1 - s0);
        rc = run_block(it->second, (int)nthreads, reverse != 0, name, err, errlen);
        if (rc) break;
        for (size_t i = 0; i < shm.size(); i++) {
          if (i >= (size_t)kSharedGuard && i < (size_t)kSharedGuard + shared_bytes) continue;
          if (shm[i] != kSharedFill) {
            long off = (long)i - kSharedGuard;
            rc = fail(err, errlen,
                      "emu: %s block (%u,%u,%u) wrote dynamic shared memory out of bounds (byte %ld "
                      "of %d)",
                      name, bx, by, bz, off, shared_bytes);
            break;
          }
        }
      }
    }
  }
  in_launch = false;
  shared_mem = nullptr;
  return rc;
}

// registry.h: how a kernel family's .cc file makes its kernels launchable by name.
// EMU_KERNEL(name) records the kernel's parameter types as a signature string (one letter
// per parameter, see Code) and a thunk that unpacks 8-byte argument slots into a call.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <utility>

namespace emu {

// Code is the signature letter of a parameter type: F float*, f const float*, I int*,
// i const int*, n int, x float, U unsigned long long, d double. Any other type fails to
// compile, on purpose.
template <class T> struct Code;
template <> struct Code<float*> { static constexpr char c = 'F'; };
template <> struct Code<const float*> { static constexpr char c = 'f'; };
template <> struct Code<int*> { static constexpr char c = 'I'; };
template <> struct Code<const int*> { static constexpr char c = 'i'; };
template <> struct Code<int> { static constexpr char c = 'n'; };
template <> struct Code<float> { static constexpr char c = 'x'; };
template <> struct Code<unsigned long long> { static constexpr char c = 'U'; };
template <> struct Code<double> { static constexpr char c = 'd'; };

typedef void (*Thunk)(const uint64_t* slots);

void register_kernel(const char* name, const char* sig, Thunk thunk);

template <class A> static inline A load_slot(const uint64_t* s) {
  A a;
  memcpy(&a, s, sizeof(A));
  return a;
}

template <class F> struct Inv;
template <class... A> struct Inv<void(A...)> {
  static constexpr char sig[sizeof...(A) + 1] = {Code<A>::c..., 0};
  template <void (*K)(A...), size_t... I>
  static void call(const uint64_t* s, std::index_sequence<I...>) {
    K(load_slot<A>(s + I)...);
  }
  template <void (*K)(A...)> static void thunk(const uint64_t* s) {
    call<K>(s, std::index_sequence_for<A...>{});
  }
};

struct Reg {
  Reg(const char* name, const char* sig, Thunk t) { register_kernel(name, sig, t); }
};

} // namespace emu

#define EMU_KERNEL(name)                                                               \
  static emu::Reg emu_reg_##name(#name, emu::Inv<decltype(name)>::sig,                 \
                                 &emu::Inv<decltype(name)>::thunk<&name>)

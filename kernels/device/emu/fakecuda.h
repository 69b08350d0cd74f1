// fakecuda.h: runs CUDA C kernels on the CPU for checking their logic.
// Every CUDA thread of a block is a fiber (ucontext); blocks run one after
// the other, so __shared__ can be a static. __syncthreads is a block
// barrier; __shfl_xor_sync exchanges through per-warp slots between two
// warp barriers.
#pragma once
#include <ucontext.h>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <functional>

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static
#define __launch_bounds__(x)
#define __restrict__

struct uint3 { unsigned x, y, z; };
struct dim3 { unsigned x, y, z; dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {} };
struct alignas(16) float4 { float x, y, z, w; };

static uint3 threadIdx, blockIdx;
static dim3 blockDim, gridDim;

static inline float __int_as_float(int i) { float f; memcpy(&f, &i, 4); return f; }
static inline float __fadd_rn(float a, float b) { volatile float r = a + b; return r; }
static inline float __fsub_rn(float a, float b) { volatile float r = a - b; return r; }
static inline float __fmul_rn(float a, float b) { volatile float r = a * b; return r; }

namespace emu {
struct Fiber { ucontext_t ctx; int tid; int state; };  // 0 run, 1 block bar, 2 warp bar, 3 done
static ucontext_t sched;
static std::vector<Fiber> fibers;
static std::vector<std::vector<char>> stacks;
static Fiber* cur;
static std::function<void()> body;
static uint64_t slots[64][32];
static long long switches;

static void set_idx(const Fiber& f) {
    threadIdx.x = f.tid % blockDim.x;
    threadIdx.y = (f.tid / blockDim.x) % blockDim.y;
    threadIdx.z = f.tid / (blockDim.x * blockDim.y);
}
static void trampoline() { body(); cur->state = 3; }  // uc_link returns to sched
static void wait(int st) { cur->state = st; switches++; swapcontext(&cur->ctx, &sched); }

static void run_block() {
    int n = blockDim.x * blockDim.y * blockDim.z;
    if ((int)stacks.size() < n) stacks.resize(n, std::vector<char>(1 << 16));
    fibers.assign(n, Fiber{});
    for (int t = 0; t < n; t++) {
        Fiber& f = fibers[t];
        f.tid = t;
        f.state = 0;
        getcontext(&f.ctx);
        f.ctx.uc_stack.ss_sp = stacks[t].data();
        f.ctx.uc_stack.ss_size = stacks[t].size();
        f.ctx.uc_link = &sched;
        makecontext(&f.ctx, trampoline, 0);
    }
    for (;;) {
        bool ran = false;
        for (auto& f : fibers)
            if (f.state == 0) {
                cur = &f;
                set_idx(f);
                swapcontext(&sched, &f.ctx);
                ran = true;
            }
        bool alldone = true, released = false;
        for (auto& f : fibers) alldone &= f.state == 3;
        if (alldone) return;
        // warp barriers
        for (int w = 0; w * 32 < n; w++) {
            bool any = false, all = true;
            for (int l = w * 32; l < std::min(n, w * 32 + 32); l++) {
                if (fibers[l].state == 3) continue;
                any = true;
                all &= fibers[l].state == 2;
            }
            if (any && all) {
                for (int l = w * 32; l < std::min(n, w * 32 + 32); l++)
                    if (fibers[l].state == 2) fibers[l].state = 0;
                released = true;
            }
        }
        if (!released) {
            bool all = true, any = false;
            for (auto& f : fibers) {
                if (f.state == 3) continue;
                any = true;
                all &= f.state == 1;
            }
            if (any && all) {
                for (auto& f : fibers) if (f.state == 1) f.state = 0;
                released = true;
            } else if (any) {
                // a block barrier some threads never reach is a bug
                bool someBlock = false;
                for (auto& f : fibers) someBlock |= f.state == 1;
                if (someBlock) { fprintf(stderr, "emu: __syncthreads not reached by every thread\n"); abort(); }
            }
        }
        if (!released && !ran) { fprintf(stderr, "emu: deadlock\n"); abort(); }
    }
}

template <class F>
void launch(dim3 g, dim3 b, F f) {
    gridDim = g;
    blockDim = b;
    body = f;
    for (unsigned z = 0; z < g.z; z++)
        for (unsigned y = 0; y < g.y; y++)
            for (unsigned x = 0; x < g.x; x++) {
                blockIdx = {x, y, z};
                run_block();
            }
}
}  // namespace emu

static inline void __syncthreads() { emu::wait(1); }

template <class T>
static T __shfl_xor_sync(unsigned, T v, int o) {
    static_assert(sizeof(T) <= 8, "");
    int tid = emu::cur->tid, w = tid / 32, lane = tid % 32;
    uint64_t bits = 0;
    memcpy(&bits, &v, sizeof(T));
    emu::slots[w][lane] = bits;
    emu::wait(2);
    uint64_t got = emu::slots[w][lane ^ o];
    emu::wait(2);
    T r;
    memcpy(&r, &got, sizeof(T));
    return r;
}

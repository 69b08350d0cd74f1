// emu_main.cpp: runs every kernel of kernels/device/*.cu on the CPU
// emulator (fakecuda.h) with random inputs at sizes 1, 31, 32, 33, odd and
// larger, into outputs poisoned with NaN, and writes inputs and outputs to
// a record file. TestEmulatedKernels (kernels/device/emu_test.go) builds it
// with g++, runs it and compares the records with the references.
//
// This checks the kernels' CUDA C (indexing, tiling, barriers, warp
// shuffles, epilogues, argument order) without a GPU; the emulator's
// expf/logf are glibc's, not the device's, and it measures nothing about
// speed. Launch shapes mirror the launchers (kernels/device/*.go) with 2
// SMs, so that the grid-stride loops wrap.
#include "fakecuda.h"
#include "../loss.cu"
#include "../norms.cu"
#include "../gemm.cu"
#include "../conv.cu"
#include "../pool.cu"
#include "../update.cu"
#include "../data.cu"
#include <random>
#include <string>

static FILE* out;
static std::mt19937_64 rng(12345);
static const int SMS = 2;

static void put_str(const char* s) { fwrite(s, 1, strlen(s) + 1, out); }
static void rec(const char* name) { fputc('R', out); put_str(name); }
static void iv(const char* n, long long v) { fputc('I', out); put_str(n); fwrite(&v, 8, 1, out); }
static void fv(const char* n, const std::vector<float>& v) {
    fputc('F', out); put_str(n); long long c = v.size(); fwrite(&c, 8, 1, out); fwrite(v.data(), 4, v.size(), out);
}
static void nv(const char* n, const std::vector<int>& v) {
    fputc('N', out); put_str(n); long long c = v.size(); fwrite(&c, 8, 1, out); fwrite(v.data(), 4, v.size(), out);
}
static void end() { fputc('E', out); }

static std::vector<float> randn(size_t n, double s = 1) {
    std::normal_distribution<double> d(0, s);
    std::vector<float> v(n);
    for (auto& x : v) x = (float)d(rng);
    return v;
}
static std::vector<int> randi(size_t n, int lo, int hi) {  // [lo, hi)
    std::uniform_int_distribution<int> d(lo, hi - 1);
    std::vector<int> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}
static std::vector<float> nanv(size_t n) { return std::vector<float>(n, __int_as_float(0x7fc00000)); }
static float* P(std::vector<float>& v) { return v.empty() ? (float*)16 : v.data(); }
static int* PI(std::vector<int>& v) { return v.empty() ? (int*)16 : v.data(); }

static dim3 rows_grid(long long rows) { return dim3((unsigned)((rows + 7) / 8)); }
static dim3 flat_grid(long long total) { return dim3((unsigned)std::min<long long>((total + 255) / 256, SMS * 32)); }

int main(int argc, char** argv) {
    out = fopen(argc > 1 ? argv[1] : "emu.bin", "wb");
    // softmax_nll
    for (long long C : {1, 2, 10, 12, 33, 1000})
        for (long long B : {1, 31, 32, 33, 77}) {
            if (B * C > 40000) continue;
            for (int mode = 0; mode < 3; mode++) {  // 0: all outputs weighted, 1: unweighted, 2: loss only
                auto logits = randn(B * C, 3);
                auto labels = randi(B, 0, C);
                auto w = randn(B, 0.1);
                auto loss = nanv(B), dl = nanv(B * C), nrm = nanv(B);
                // an unaligned row start for the vector path: shift logits by one float
                std::vector<float> shifted;
                float* lp = P(logits);
                if (mode == 1 && C % 4 == 0) { shifted.assign(B * C + 1, 0); memcpy(shifted.data() + 1, logits.data(), 4 * B * C); lp = shifted.data() + 1; }
                emu::launch(rows_grid(B), dim3(256), [&] {
                    softmax_nll(P(loss), mode == 2 ? nullptr : P(dl), mode == 2 ? nullptr : P(nrm), lp, PI(labels), mode == 0 ? P(w) : nullptr, B, C);
                });
                rec("softmax_nll"); iv("B", B); iv("C", C); iv("mode", mode);
                fv("logits", logits); nv("labels", labels); fv("w", w); fv("loss", loss); fv("dl", dl); fv("nrm", nrm); end();
            }
        }
    // dense_norm_sq
    for (auto kc : std::vector<std::pair<int, int>>{{1, 1}, {50, 10}, {33, 31}, {100, 65}})
        for (long long B : {1, 31, 33, 77})
            for (int bias = 0; bias < 2; bias++) {
                long long K = kc.first, C = kc.second;
                auto a = randn(B * K), d = randn(B * C, 0.1), sq0 = randn(B, 1), sq = sq0;
                for (auto& x : sq) x = fabsf(x) + 1;
                sq0 = sq;
                emu::launch(rows_grid(B), dim3(256), [&] { dense_norm_sq(P(sq), P(a), P(d), B, K, C, bias); });
                rec("dense_norm_sq"); iv("B", B); iv("K", K); iv("C", C); iv("bias", bias);
                fv("a", a); fv("d", d); fv("sq0", sq0); fv("sq", sq); end();
            }
    // reductions
    for (auto rn : std::vector<std::pair<int, int>>{{1, 1}, {31, 33}, {33, 250}, {77, 5}, {10, 1000}, {300, 7}})
    {
        long long R = rn.first, N = rn.second;
        auto in = randn(R * N);
        auto rows = nanv(R), cols = nanv(N), sq = randn(R);
        for (auto& x : sq) x = fabsf(x) + 1;
        auto sq0 = sq;
        emu::launch(rows_grid(R), dim3(256), [&] { row_sums(P(rows), P(in), R, N); });
        emu::launch(dim3((N + 31) / 32), dim3(32, 8), [&] { column_sums(P(cols), P(in), R, N); });
        emu::launch(rows_grid(R), dim3(256), [&] { add_row_sum_sq(P(sq), P(in), R, N); });
        rec("reduce"); iv("R", R); iv("N", N); fv("in", in); fv("rows", rows); fv("cols", cols); fv("sq0", sq0); fv("sq", sq); end();
    }
    for (long long B : {1, 31, 33, 300}) {
        auto sq = randn(B), w = randn(B), o1 = nanv(B), o2 = nanv(B);
        for (auto& x : sq) x = fabsf(x);
        emu::launch(dim3((B + 255) / 256), dim3(256), [&] { grad_norm_finish(P(o1), P(sq), P(w), B); });
        emu::launch(dim3((B + 255) / 256), dim3(256), [&] { grad_norm_finish(P(o2), P(sq), nullptr, B); });
        rec("finish"); iv("B", B); fv("sq", sq); fv("w", w); fv("o1", o1); fv("o2", o2); end();
    }
    // sgemm
    typedef void (*gemm_fn)(float*, const float*, const float*, const float*, const float*, i64, i64, i64, i64, i64, i64, i64);
    struct G { int op; int tm, tn; gemm_fn f; };
#define TILES(op, l) {op, 16, 16, sgemm_##l##_16x16}, {op, 32, 32, sgemm_##l##_32x32}, {op, 64, 64, sgemm_##l##_64x64}, \
                     {op, 16, 64, sgemm_##l##_16x64}, {op, 32, 64, sgemm_##l##_32x64}
    G gs[] = {TILES(0, nn), TILES(1, nt), TILES(2, tn)};
    // edge sizes, and the CNN's short, wide shapes (M = 10 and 20 channels)
    int sizes[][3] = {{1, 1, 1}, {31, 32, 33}, {33, 31, 32}, {77, 13, 50}, {10, 40, 25}, {70, 66, 20}, {5, 3, 0},
                      {10, 130, 25}, {20, 64, 27}, {17, 65, 9}, {33, 129, 3}};
    for (auto& g : gs)
        for (int si = 0; si < (int)(sizeof sizes / sizeof sizes[0]); si++)
            for (int epi = 0; epi < 5; epi++)
                for (int batch : {1, 2}) {
                    const int* s = sizes[si];
                    if (epi != 0 && batch == 2 && s[0] > 40) continue;
                    if (si >= 7 && epi != 0 && epi != 3) continue;  // the conv shapes: no epilogue, or bias per row
                    long long M = s[0], N = s[1], K = s[2];
                    long long sA = M * K, sB = K * N, sC = M * N + 3;
                    if (batch == 2 && g.op != 2) sA = 0;
                    auto a = randn((batch - 1) * sA + M * K + 1), b = randn((batch - 1) * sB + K * N + 1);
                    auto bias = randn(std::max(M, N)), aux = randn((batch - 1) * sC + M * N);
                    auto c = nanv((batch - 1) * sC + M * N);
                    dim3 grid((N + g.tn - 1) / g.tn, (M + g.tm - 1) / g.tm, batch);
                    emu::launch(grid, dim3(16, 16), [&] { g.f(P(c), P(a), P(b), P(bias), P(aux), M, N, K, sA, sB, sC, epi); });
                    rec("sgemm"); iv("op", g.op); iv("tm", g.tm); iv("tn", g.tn); iv("epi", epi); iv("batch", batch);
                    iv("M", M); iv("N", N); iv("K", K); iv("sA", sA); iv("sB", sB); iv("sC", sC);
                    fv("a", a); fv("b", b); fv("bias", bias); fv("aux", aux); fv("c", c); end();
                }
    // im2col / col2im
    int shapes[][5] = {{1, 28, 28, 5, 5}, {10, 12, 12, 5, 5}, {3, 7, 9, 1, 1}, {2, 5, 4, 5, 4}, {3, 13, 11, 4, 3}};
    for (auto& s : shapes)
        for (long long B : {1, 3}) {
            long long C = s[0], H = s[1], W = s[2], KH = s[3], KW = s[4];
            long long T = (H - KH + 1) * (W - KW + 1), K = C * KH * KW;
            auto x = randn(B * C * H * W), src = randn(B * T * K);
            for (int i32 = 0; i32 < 2; i32++) {
                auto p = nanv(B * T * K), dx = nanv(B * C * H * W);
                emu::launch(flat_grid(B * T * K), dim3(256), [&] { (i32 ? im2col_i32 : im2col)(P(p), P(x), B, C, H, W, KH, KW); });
                emu::launch(flat_grid(B * C * H * W), dim3(256), [&] { (i32 ? col2im_i32 : col2im)(P(dx), P(src), B, C, H, W, KH, KW); });
                rec("conv"); iv("i32", i32); iv("B", B); iv("C", C); iv("H", H); iv("W", W); iv("KH", KH); iv("KW", KW);
                fv("x", x); fv("p", p); fv("src", src); fv("dx", dx); end();
            }
        }
    // maxpool
    int pshapes[][3] = {{10, 24, 24}, {20, 8, 8}, {3, 7, 5}, {1, 2, 2}, {2, 9, 11}};
    for (auto& s : pshapes)
        for (long long B : {1, 3})
            for (int mode = 0; mode < 4; mode++) {
                int relu = mode & 1, i32 = mode >> 1;
                long long C = s[0], H = s[1], W = s[2], n = B * C * (H / 2) * (W / 2);
                auto in = randn(B * C * H * W);
                for (size_t j = 0; j + 1 < in.size(); j += 5) in[j + 1] = in[j];
                auto o = nanv(n);
                std::vector<int> arg(n, -77);
                auto dout = randn(n), din = nanv(B * C * H * W);
                emu::launch(flat_grid(n), dim3(256), [&] { (i32 ? maxpool2_fwd_i32 : maxpool2_fwd)(P(o), PI(arg), P(in), B, C, H, W, relu); });
                emu::launch(flat_grid(B * C * H * W), dim3(256), [&] { (i32 ? maxpool2_bwd_i32 : maxpool2_bwd)(P(din), P(dout), PI(arg), P(o), B, C, H, W, relu); });
                rec("pool"); iv("i32", i32); iv("B", B); iv("C", C); iv("H", H); iv("W", W); iv("relu", relu);
                fv("in", in); fv("out", o); nv("arg", arg); fv("dout", dout); fv("din", din); end();
            }
    // relu_bwd, sgd, copy
    for (long long n : {1, 31, 33, 1000, 20000}) {
        auto dh = randn(n), h = randn(n), dz = nanv(n);
        h[0] = 0;
        emu::launch(flat_grid(n), dim3(256), [&] { relu_bwd(P(dz), P(dh), P(h), n); });
        auto w = randn(n), v = randn(n), g = randn(n), w0 = w, v0 = v;
        emu::launch(flat_grid(n), dim3(256), [&] { sgd_momentum(P(w), P(v), P(g), n, 0.01f, 0.5f); });
        auto src = randn(n + 1), dst = nanv(n + 1), dst2 = nanv(n);
        emu::launch(flat_grid((n + 3) / 4), dim3(256), [&] { copy_f32(P(dst2), P(src), n); });
        emu::launch(flat_grid((n + 3) / 4), dim3(256), [&] { copy_f32(P(dst) + 1, P(src) + 1, n); });  // unaligned
        rec("elem"); iv("n", n); fv("dh", dh); fv("h", h); fv("dz", dz); fv("w0", w0); fv("v0", v0); fv("g", g);
        fv("w", w); fv("v", v); fv("src", src); fv("dst", dst); fv("dst2", dst2); end();
    }
    // gather, argmax
    for (long long P_ : {0, 1, 33, 784})
        for (long long B : {1, 31, 33, 77}) {
            long long N = 50;
            auto data = randn(N * P_);
            auto dl = randi(N, 0, 10), idx = randi(B, -1, N + 1);
            auto x = nanv(B * P_);
            std::vector<int> lab(B, -9);
            emu::launch(flat_grid(std::max(B * P_, B)), dim3(256), [&] { gather_rows(P(x), PI(lab), P(data), PI(dl), PI(idx), B, P_, N); });
            rec("gather"); iv("B", B); iv("P", P_); fv("data", data); nv("dl", dl); nv("idx", idx); fv("x", x); nv("lab", lab); end();
        }
    for (long long C : {1, 10, 33, 1000})
        for (long long B : {1, 31, 33}) {
            auto x = randn(B * C);
            for (long long i = 0; i < B && C > 3; i += 3) { x[i * C + 2] = x[i * C]; x[i * C + 1] = __int_as_float(0x7fc00000); }
            std::vector<int> pred(B, -5);
            emu::launch(rows_grid(B), dim3(256), [&] { argmax_rows(PI(pred), P(x), B, C); });
            rec("argmax"); iv("B", B); iv("C", C); fv("x", x); nv("pred", pred); end();
        }
    fclose(out);
    fprintf(stderr, "emu: %lld context switches\n", emu::switches);
}

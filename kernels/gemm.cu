// gemm.cu: tiled single-precision GEMM, batched, with fused epilogues.
// Twin: kernels.SgemmBatchedTwin (gemm_twin.go).
//
// For every batch entry z (blockIdx.z), with A_z = A + z*sA, B_z = B + z*sB
// and C_z = C + z*sC (a stride of 0 shares one matrix across the batch):
//     NN: C_z (M×N) = A_z (M×K, row-major)      · B_z (K×N, row-major)
//     NT: C_z       = A_z (M×K)                 · B_z^T, B_z stored (N×K)
//     TN: C_z       = A_z^T, A_z stored (K×M)   · B_z (K×N)
// then the epilogue:
//     0 none
//     1 bias per column:        C[m,n] += bias[n]
//     2 bias per column + ReLU: C[m,n] = max(C[m,n] + bias[n], 0)
//     3 bias per row:           C[m,n] += bias[m]
//     4 ReLU mask:              C[m,n] = aux_z[m,n] > 0 ? C[m,n] : 0
//                               (aux_z = aux + z*sC: the ReLU backward of a
//                               layer whose output aux is)
// Tiles of BM×BN outputs per block of 256 threads (16×16), each thread
// computing TM×TN outputs at rows ty + i*16 and columns tx + j*16, over
// K-slices of 16 staged in shared memory. Three tile sizes (16, 32, 64) are
// instantiated; the launcher picks one from the problem shape.
#include "common.cuh"

#define BK 16

template <int BM, int BN, bool TA, bool TB>
__device__ __forceinline__ void sgemm_body(float* __restrict__ Cm, const float* __restrict__ Am,
                                           const float* __restrict__ Bm, const float* __restrict__ bias,
                                           const float* __restrict__ aux, i64 M, i64 N, i64 K,
                                           i64 sA, i64 sB, i64 sC, i64 epi) {
    constexpr int TM = BM / 16, TN = BN / 16;
    __shared__ float As[BK][BM + 1];
    __shared__ float Bs[BK][BN + 1];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int tid = ty * 16 + tx;
    const i64 z = blockIdx.z;
    const float* A = Am + z * sA;
    const float* Bp = Bm + z * sB;
    float* C = Cm + z * sC;
    const i64 m0 = (i64)blockIdx.y * BM, n0 = (i64)blockIdx.x * BN;

    float acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; i++)
#pragma unroll
        for (int j = 0; j < TN; j++) acc[i][j] = 0.0f;

    for (i64 k0 = 0; k0 < K; k0 += BK) {
        // A tile: BM×BK values, BM/16 per thread, coalesced along the
        // contiguous dimension of A's storage.
#pragma unroll
        for (int r = 0; r < BM / 16; r++) {
            int e = tid + r * 256;
            int mm, kk;
            if (TA) { mm = e % BM; kk = e / BM; } else { kk = e % BK; mm = e / BK; }
            i64 gm = m0 + mm, gk = k0 + kk;
            float v = 0.0f;
            if (gm < M && gk < K) v = TA ? A[gk * M + gm] : A[gm * K + gk];
            As[kk][mm] = v;
        }
#pragma unroll
        for (int r = 0; r < BN / 16; r++) {
            int e = tid + r * 256;
            int nn, kk;
            if (TB) { kk = e % BK; nn = e / BK; } else { nn = e % BN; kk = e / BN; }
            i64 gn = n0 + nn, gk = k0 + kk;
            float v = 0.0f;
            if (gn < N && gk < K) v = TB ? Bp[gn * K + gk] : Bp[gk * N + gn];
            Bs[kk][nn] = v;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; k++) {
            float a[TM], b[TN];
#pragma unroll
            for (int i = 0; i < TM; i++) a[i] = As[k][ty + i * 16];
#pragma unroll
            for (int j = 0; j < TN; j++) b[j] = Bs[k][tx + j * 16];
#pragma unroll
            for (int i = 0; i < TM; i++)
#pragma unroll
                for (int j = 0; j < TN; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < TM; i++) {
        i64 m = m0 + ty + i * 16;
        if (m >= M) continue;
#pragma unroll
        for (int j = 0; j < TN; j++) {
            i64 n = n0 + tx + j * 16;
            if (n >= N) continue;
            float v = acc[i][j];
            switch (epi) {
            case 1: v += bias[n]; break;
            case 2: v = relu_f(v + bias[n]); break;
            case 3: v += bias[m]; break;
            case 4: v = aux[z * sC + m * N + n] > 0.0f ? v : 0.0f; break;
            default: break;
            }
            C[m * N + n] = v;
        }
    }
}

#define SGEMM_ENTRY(name, BMN, TA, TB)                                                                  \
    extern "C" __global__ void __launch_bounds__(256)                                                    \
        name(float* C, const float* A, const float* B, const float* bias, const float* aux, i64 M,      \
             i64 N, i64 K, i64 sA, i64 sB, i64 sC, i64 epi) {                                           \
        sgemm_body<BMN, BMN, TA, TB>(C, A, B, bias, aux, M, N, K, sA, sB, sC, epi);                    \
    }

SGEMM_ENTRY(sgemm_nn_16, 16, false, false)
SGEMM_ENTRY(sgemm_nn_32, 32, false, false)
SGEMM_ENTRY(sgemm_nn_64, 64, false, false)
SGEMM_ENTRY(sgemm_nt_16, 16, false, true)
SGEMM_ENTRY(sgemm_nt_32, 32, false, true)
SGEMM_ENTRY(sgemm_nt_64, 64, false, true)
SGEMM_ENTRY(sgemm_tn_16, 16, true, false)
SGEMM_ENTRY(sgemm_tn_32, 32, true, false)
SGEMM_ENTRY(sgemm_tn_64, 64, true, false)

package device

import (
	"fmt"
	"math"

	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/kernels"
	"github.com/sgds/sgds/kernels/ref"
)

// The host implementations of the kernels, for the host driver of package
// cuda (cuda.UseHost): each decodes the 8-byte parameters in the order of
// its CUDA signature, checks that the launch shape covers the work as the
// device needs it to, and runs the kernel's reference (package kernels/ref)
// or the CPU kernel whose loop it is. They test the launchers and
// everything above them without a GPU; the CUDA C itself is checked on the
// CPU emulator (emu/, TestEmulatedKernels) and on a GPU.

// hostKernel is a kernel's host implementation: launch shape and decoded
// parameters in, an error for a launch the device would get wrong.
type hostKernel func(grid, block cuda.Dim3, a params) error

// params are a launch's parameters; its accessors panic on a bad pointer or
// a short buffer, which register turns into the launch's error.
type params []cuda.Arg

// int returns parameter i as a long long.
func (p params) int(i int) int { return int(int64(p[i])) }

// f32 returns n float32 at pointer parameter i (nil for the null pointer).
func (p params) f32(i, n int) []float32 {
	s, err := cuda.HostFloat32s(p[i])
	if err != nil {
		panic(err)
	}
	if s == nil {
		return nil
	}
	return s[:n]
}

// i32 returns n int32 at pointer parameter i.
func (p params) i32(i, n int) []int32 {
	s, err := cuda.HostInt32s(p[i])
	if err != nil {
		panic(err)
	}
	return s[:n]
}

// register makes k the host implementation of kernel name with nargs
// parameters.
func register(name string, nargs int, k hostKernel) {
	cuda.RegisterHost(name, func(grid, block cuda.Dim3, args []cuda.Arg) (err error) {
		if len(args) != nargs {
			return fmt.Errorf("%d parameters, the kernel takes %d", len(args), nargs)
		}
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("host implementation of %s: %v", name, r)
			}
		}()
		return k(grid, block, params(args))
	})
}

// registerRows registers a warp-per-row kernel whose row count is
// parameter rowArg, checking that the launch gives every row a warp.
func registerRows(name string, nargs, rowArg int, k func(params) error) {
	register(name, nargs, func(grid, block cuda.Dim3, a params) error {
		if r := a.int(rowArg); grid.X*block.X/32 < r || block.X%32 != 0 {
			return fmt.Errorf("grid %+v × block %+v does not give each of %d rows a warp", grid, block, r)
		}
		return k(a)
	})
}

// registerFlat registers a grid-stride kernel (any 1-D launch covers it),
// under each of names.
func registerFlat(nargs int, k func(params) error, names ...string) {
	for _, name := range names {
		register(name, nargs, func(_, _ cuda.Dim3, a params) error { return k(a) })
	}
}

func init() {
	registerRows("softmax_nll", 8, 6, hostSoftmaxNLL)
	registerRows("dense_norm_sq", 7, 3, func(a params) error {
		B, K, C := a.int(3), a.int(4), a.int(5)
		kernels.AddDenseGradNormSq(a.f32(0, B), a.f32(1, B*K), a.f32(2, B*C), B, K, C, a[6] != 0)
		return nil
	})
	registerRows("row_sums", 4, 2, func(a params) error {
		R, N := a.int(2), a.int(3)
		ref.RowSums(a.f32(0, R), a.f32(1, R*N), R, N)
		return nil
	})
	registerRows("add_row_sum_sq", 4, 2, func(a params) error {
		R, N := a.int(2), a.int(3)
		ref.AddRowSumSq(a.f32(0, R), a.f32(1, R*N), R, N)
		return nil
	})
	register("column_sums", 4, func(grid, block cuda.Dim3, a params) error {
		R, N := a.int(2), a.int(3)
		if grid.X*32 < N || block.X != 32 || block.Y != 8 {
			return fmt.Errorf("grid %+v × block %+v does not cover %d columns", grid, block, N)
		}
		ref.ColumnSums(a.f32(0, N), a.f32(1, R*N), R, N)
		return nil
	})
	register("grad_norm_finish", 4, func(grid, block cuda.Dim3, a params) error {
		B := a.int(3)
		if grid.X*block.X < B {
			return fmt.Errorf("grid %+v × block %+v does not cover %d samples", grid, block, B)
		}
		ref.GradNormFinish(a.f32(0, B), a.f32(1, B), a.f32(2, B))
		return nil
	})
	for _, op := range []Op{NN, NT, TN} {
		for _, t := range Tiles {
			register(t.kernel(op), 12, func(grid, block cuda.Dim3, a params) error { return hostSgemm(op, t, grid, block, a) })
		}
	}
	registerFlat(8, func(a params) error {
		B, C, H, W, KH, KW := a.int(2), a.int(3), a.int(4), a.int(5), a.int(6), a.int(7)
		T, K := (H-KH+1)*(W-KW+1), C*KH*KW
		kernels.Im2Col(a.f32(0, B*T*K), a.f32(1, B*C*H*W), B, C, H, W, KH, KW)
		return nil
	}, "im2col", "im2col_i32")
	registerFlat(8, func(a params) error {
		B, C, H, W, KH, KW := a.int(2), a.int(3), a.int(4), a.int(5), a.int(6), a.int(7)
		T, K := (H-KH+1)*(W-KW+1), C*KH*KW
		ref.Col2Im(a.f32(0, B*C*H*W), a.f32(1, B*T*K), B, C, H, W, KH, KW)
		return nil
	}, "col2im", "col2im_i32")
	registerFlat(8, func(a params) error {
		B, C, H, W := a.int(3), a.int(4), a.int(5), a.int(6)
		n := B * C * (H / 2) * (W / 2)
		ref.MaxPool2(a.f32(0, n), a.i32(1, n), a.f32(2, B*C*H*W), B, C, H, W, a[7] != 0)
		return nil
	}, "maxpool2_fwd", "maxpool2_fwd_i32")
	registerFlat(9, func(a params) error {
		B, C, H, W, relu := a.int(4), a.int(5), a.int(6), a.int(7), a[8] != 0
		n := B * C * (H / 2) * (W / 2)
		var out []float32
		if relu {
			out = a.f32(3, n)
		}
		ref.MaxPool2Back(a.f32(0, B*C*H*W), a.f32(1, n), a.i32(2, n), out, B, C, H, W, relu)
		return nil
	}, "maxpool2_bwd", "maxpool2_bwd_i32")
	registerFlat(4, func(a params) error {
		n := a.int(3)
		kernels.ReLUMask(a.f32(0, n), a.f32(1, n), a.f32(2, n))
		return nil
	}, "relu_bwd")
	registerFlat(6, hostSGDMomentum, "sgd_momentum")
	registerFlat(8, func(a params) error {
		B, P, N := a.int(5), a.int(6), a.int(7)
		ref.Gather(a.f32(0, B*P), a.i32(1, B), a.f32(2, N*P), a.i32(3, N), a.i32(4, B), P)
		return nil
	}, "gather_rows")
	registerRows("argmax_rows", 4, 2, func(a params) error {
		B, C := a.int(2), a.int(3)
		ref.ArgmaxRows(a.i32(0, B), a.f32(1, B*C), B, C)
		return nil
	})
	registerFlat(3, func(a params) error {
		n := a.int(2)
		copy(a.f32(0, n), a.f32(1, n))
		return nil
	}, "copy_f32")
}

// hostSgemm is the host implementation of sgemm_<op>_<tile>: the CPU
// kernel kernels.Gemm per batch entry (float32 accumulation, as on the
// device; fast enough for the GPU backend's tests and rehearsals), then the
// epilogue.
func hostSgemm(op Op, t Tile, grid, block cuda.Dim3, a params) error {
	M, N, K, sA, sB, sC, epi := a.int(5), a.int(6), a.int(7), a.int(8), a.int(9), a.int(10), Epilogue(a.int(11))
	if grid.X*t.N < N || grid.Y*t.M < M || block.X != 16 || block.Y != 16 {
		return fmt.Errorf("grid %+v × block %+v does not cover %d×%d outputs with %v tiles", grid, block, M, N, t)
	}
	batch := grid.Z
	span := func(stride, size int) int { return (batch-1)*stride + size }
	c, A, B := a.f32(0, span(sC, M*N)), a.f32(1, span(sA, M*K)), a.f32(2, span(sB, K*N))
	var bias, aux []float32
	switch epi {
	case EpiNone:
	case EpiBiasCol, EpiBiasColReLU:
		bias = a.f32(3, N)
	case EpiBiasRow:
		bias = a.f32(3, M)
	case EpiReLUMask:
		aux = a.f32(4, span(sC, M*N))
	default:
		return fmt.Errorf("unknown %v", epi)
	}
	lda, ldb := max(K, 1), max(N, 1)
	if op == TN {
		lda = max(M, 1)
	}
	if op == NT {
		ldb = max(K, 1)
	}
	for z := 0; z < batch; z++ {
		cz := c[z*sC : z*sC+M*N]
		kernels.Gemm(cz, N, false, A[z*sA:], lda, op == TN, B[z*sB:], ldb, op == NT, M, N, K)
		for i, v := range cz {
			switch epi {
			case EpiBiasCol:
				v += bias[i%N]
			case EpiBiasColReLU:
				if v += bias[i%N]; !(v > 0) {
					v = 0
				}
			case EpiBiasRow:
				v += bias[i/N]
			case EpiReLUMask:
				if !(aux[z*sC+i] > 0) {
					v = 0
				}
			}
			cz[i] = v
		}
	}
	return nil
}

// hostSoftmaxNLL is the host implementation of softmax_nll: the CPU
// kernel, its gradient scaled by the weights, and NaN outputs for a row
// whose label is outside [0, C), as on the device.
func hostSoftmaxNLL(a params) error {
	B, C := a.int(6), a.int(7)
	loss, dl, nrm, logits, labels, w := a.f32(0, B), a.f32(1, B*C), a.f32(2, B), a.f32(3, B*C), a.i32(4, B), a.f32(5, B)
	nan := float32(math.NaN())
	for i := 0; i < B; i++ {
		var dli, nrmi []float32
		if dl != nil {
			dli = dl[i*C : (i+1)*C]
		}
		if nrm != nil {
			nrmi = nrm[i : i+1]
		}
		if y := labels[i]; y < 0 || int(y) >= C {
			loss[i] = nan
			for j := range dli {
				dli[j] = nan
			}
			for j := range nrmi {
				nrmi[j] = nan
			}
			continue
		}
		kernels.SoftmaxNLL(loss[i:i+1], dli, nrmi, logits[i*C:(i+1)*C], labels[i:i+1], 1, C)
		for j := range dli {
			if w != nil {
				dli[j] = float32(float64(dli[j]) * float64(w[i]))
			}
		}
	}
	return nil
}

// hostSGDMomentum is the host implementation of sgd_momentum, rounding
// after every operation as the device does (and as kernels.SGDMomentum's
// portable path does).
func hostSGDMomentum(a params) error {
	n := a.int(3)
	w, v, g := a.f32(0, n), a.f32(1, n), a.f32(2, n)
	lr, mu := float32(math.Float64frombits(uint64(a[4]))), float32(math.Float64frombits(uint64(a[5])))
	for i := range w {
		vv := float32(mu*v[i]) + g[i]
		v[i] = vv
		w[i] -= float32(lr * vv)
	}
	return nil
}

//go:build cuda && sgdsfake

package kernels

import (
	"fmt"
	"math"

	"github.com/sgds/sgds/cuda"
)

// The host stand-ins of the kernels (-tags cuda,sgdsfake): each decodes
// the 8-byte parameters in the order of its CUDA signature and runs the Go
// twin. They test the launchers and everything above them without a GPU;
// the CUDA C of the kernels themselves is checked by the emulator
// (kernels/emu) and on a GPU by the device tests.

func init() {
	regGrid := func(name string, nargs int, f func(grid, block cuda.Dim3, a []cuda.Arg) error) {
		cuda.RegisterFake(name, func(grid, block cuda.Dim3, args []cuda.Arg) (err error) {
			if len(args) != nargs {
				return fmt.Errorf("%d parameters, the kernel takes %d", len(args), nargs)
			}
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("stand-in of %s: %v", name, r)
				}
			}()
			return f(grid, block, args)
		})
	}
	reg := func(name string, nargs int, f func(a []cuda.Arg) error) {
		regGrid(name, nargs, func(_, _ cuda.Dim3, a []cuda.Arg) error { return f(a) })
	}
	// rows checks that a warp-per-row launch covers its rows.
	rows := func(name string, nargs, rowArg int, f func(a []cuda.Arg) error) {
		regGrid(name, nargs, func(grid, block cuda.Dim3, a []cuda.Arg) error {
			if r := fi(a[rowArg]); grid.X*block.X/32 < r || block.X%32 != 0 {
				return fmt.Errorf("grid %+v × block %+v does not give each of %d rows a warp", grid, block, r)
			}
			return f(a)
		})
	}
	rows("softmax_nll", 8, 6, fakeSoftmaxNLL)
	rows("dense_norm_sq", 7, 3, func(a []cuda.Arg) error {
		B, K, C := fi(a[3]), fi(a[4]), fi(a[5])
		sq, x, d := ff(a[0]), ff(a[1]), ff(a[2])
		AddDenseGradNormSq(sq[:B], x[:B*K], d[:B*C], B, K, C, a[6] != 0)
		return nil
	})
	rows("sum_rows", 4, 2, func(a []cuda.Arg) error {
		R, N := fi(a[2]), fi(a[3])
		SumRowsTwin(ff(a[0])[:R], ff(a[1])[:R*N], R, N)
		return nil
	})
	rows("add_sum_sq_rows", 4, 2, func(a []cuda.Arg) error {
		R, N := fi(a[2]), fi(a[3])
		AddSumSqRowsTwin(ff(a[0])[:R], ff(a[1])[:R*N], R, N)
		return nil
	})
	reg("grad_norm_finish", 4, func(a []cuda.Arg) error {
		B := fi(a[3])
		var w []float32
		if a[2] != 0 {
			w = ff(a[2])[:B]
		}
		GradNormFinishTwin(ff(a[0])[:B], ff(a[1])[:B], w)
		return nil
	})
	for _, op := range []SgemmOp{SgemmNN, SgemmNT, SgemmTN} {
		for _, tile := range []int{16, 32, 64} {
			name := fmt.Sprintf("sgemm_%s_%d", map[SgemmOp]string{SgemmNN: "nn", SgemmNT: "nt", SgemmTN: "tn"}[op], tile)
			regGrid(name, 12, func(grid, block cuda.Dim3, a []cuda.Arg) error {
				M, N, K, sA, sB, sC, epi := fi(a[5]), fi(a[6]), fi(a[7]), fi(a[8]), fi(a[9]), fi(a[10]), SgemmEpilogue(fi(a[11]))
				if grid.X*tile < N || grid.Y*tile < M || block.X != 16 || block.Y != 16 {
					return fmt.Errorf("grid %+v × block %+v does not cover %d×%d outputs with %d-tiles", grid, block, M, N, tile)
				}
				var bias, aux []float32
				switch epi {
				case SgemmEpiBiasCol, SgemmEpiBiasColReLU:
					bias = ff(a[3])[:N]
				case SgemmEpiBiasRow:
					bias = ff(a[3])[:M]
				case SgemmEpiReLUMask:
					aux = ff(a[4])
				}
				SgemmBatchedTwin(op, grid.Z, ff(a[0]), ff(a[1]), ff(a[2]), M, N, K, sA, sB, sC, epi, bias, aux)
				return nil
			})
		}
	}
	regGrid("sum_cols", 4, func(grid, block cuda.Dim3, a []cuda.Arg) error {
		R, N := fi(a[2]), fi(a[3])
		if grid.X*32 < N || block.X != 32 || block.Y != 8 {
			return fmt.Errorf("grid %+v × block %+v does not cover %d columns", grid, block, N)
		}
		SumColsTwin(ff(a[0])[:N], ff(a[1])[:R*N], R, N)
		return nil
	})
	reg("im2col", 8, func(a []cuda.Arg) error {
		B, C, H, W, KH, KW := fi(a[2]), fi(a[3]), fi(a[4]), fi(a[5]), fi(a[6]), fi(a[7])
		T, K := (H-KH+1)*(W-KW+1), C*KH*KW
		Im2Col(ff(a[0])[:B*T*K], ff(a[1])[:B*C*H*W], B, C, H, W, KH, KW)
		return nil
	})
	reg("col2im", 8, func(a []cuda.Arg) error {
		B, C, H, W, KH, KW := fi(a[2]), fi(a[3]), fi(a[4]), fi(a[5]), fi(a[6]), fi(a[7])
		T, K := (H-KH+1)*(W-KW+1), C*KH*KW
		Col2ImTwin(ff(a[0])[:B*C*H*W], ff(a[1])[:B*T*K], B, C, H, W, KH, KW)
		return nil
	})
	reg("maxpool2_fwd", 8, func(a []cuda.Arg) error {
		B, C, H, W := fi(a[3]), fi(a[4]), fi(a[5]), fi(a[6])
		n := B * C * (H / 2) * (W / 2)
		MaxPool2Twin(ff(a[0])[:n], fn(a[1])[:n], ff(a[2])[:B*C*H*W], B, C, H, W, a[7] != 0)
		return nil
	})
	reg("maxpool2_bwd", 9, func(a []cuda.Arg) error {
		B, C, H, W, relu := fi(a[4]), fi(a[5]), fi(a[6]), fi(a[7]), a[8] != 0
		n := B * C * (H / 2) * (W / 2)
		var out []float32
		if relu {
			out = ff(a[3])[:n]
		}
		MaxPool2BackTwin(ff(a[0])[:B*C*H*W], ff(a[1])[:n], fn(a[2])[:n], out, B, C, H, W, relu)
		return nil
	})
	reg("relu_bwd", 4, func(a []cuda.Arg) error {
		n := fi(a[3])
		ReLUBackTwin(ff(a[0])[:n], ff(a[1])[:n], ff(a[2])[:n])
		return nil
	})
	reg("sgd_momentum", 6, func(a []cuda.Arg) error {
		n := fi(a[3])
		lr, mu := math.Float64frombits(uint64(a[4])), math.Float64frombits(uint64(a[5]))
		SGDMomentumTwin(ff(a[0])[:n], ff(a[1])[:n], ff(a[2])[:n], float32(lr), float32(mu))
		return nil
	})
	reg("gather_rows", 8, func(a []cuda.Arg) error {
		B, P, N := fi(a[5]), fi(a[6]), fi(a[7])
		GatherTwin(ff(a[0])[:B*P], fn(a[1])[:B], ff(a[2])[:N*P], fn(a[3])[:N], fn(a[4])[:B], P)
		return nil
	})
	rows("argmax_rows", 4, 2, func(a []cuda.Arg) error {
		B, C := fi(a[2]), fi(a[3])
		ArgmaxRowsTwin(fn(a[0])[:B], ff(a[1])[:B*C], B, C)
		return nil
	})
	reg("copy_f32", 3, func(a []cuda.Arg) error {
		n := fi(a[2])
		copy(ff(a[0])[:n], ff(a[1])[:n])
		return nil
	})
}

// fi decodes a long long parameter.
func fi(a cuda.Arg) int { return int(int64(a)) }

// ff and fn return the host memory behind a pointer parameter; a bad
// pointer panics, which the registration wrapper turns into an error.
func ff(a cuda.Arg) []float32 {
	s, err := cuda.FakeFloat32s(a)
	if err != nil {
		panic(err)
	}
	return s
}

func fn(a cuda.Arg) []int32 {
	s, err := cuda.FakeInt32s(a)
	if err != nil {
		panic(err)
	}
	return s
}

func fakeSoftmaxNLL(a []cuda.Arg) error {
	B, C := fi(a[6]), fi(a[7])
	loss, logits, labels := ff(a[0])[:B], ff(a[3])[:B*C], fn(a[4])[:B]
	var dl, nrm, w []float32
	if a[1] != 0 {
		dl = ff(a[1])[:B*C]
	}
	if a[2] != 0 {
		nrm = ff(a[2])[:B]
	}
	if a[5] != 0 {
		w = ff(a[5])[:B]
	}
	nan := float32(math.NaN())
	for i := 0; i < B; i++ { // rows with a label outside [0, C) get NaN, as on the device
		y := int(labels[i])
		if y >= 0 && y < C {
			SoftmaxNLL(loss[i:i+1], sub(dl, i*C, C), sub(nrm, i, 1), logits[i*C:(i+1)*C], labels[i:i+1], 1, C)
			if dl != nil && w != nil {
				for j := i * C; j < (i+1)*C; j++ {
					dl[j] = float32(float64(dl[j]) * float64(w[i]))
				}
			}
			continue
		}
		loss[i] = nan
		if nrm != nil {
			nrm[i] = nan
		}
		for j := 0; dl != nil && j < C; j++ {
			dl[i*C+j] = nan
		}
	}
	return nil
}

func sub(s []float32, off, n int) []float32 {
	if s == nil {
		return nil
	}
	return s[off : off+n]
}

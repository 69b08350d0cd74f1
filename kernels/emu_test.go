//go:build sgdsemu

package kernels

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"testing"
)

// TestEmulatedKernels compares the outputs of the CUDA C kernels, run on
// the CPU emulator (kernels/emu), with the Go twins. `make kernels-emu`
// builds and runs the emulator and then this test, with SGDS_EMU_RECORDS
// naming the emulator's record file.
func TestEmulatedKernels(t *testing.T) {
	path := os.Getenv("SGDS_EMU_RECORDS")
	if path == "" {
		t.Skip("SGDS_EMU_RECORDS is not set (run make kernels-emu)")
	}
	recs, err := emuRead(path)
	if err != nil {
		t.Fatal(err)
	}
	worst := map[string]float64{}
	checks := 0
	cmp := func(name, kind string, got, want []float32, scale []float64, rtol, atol float64) {
		t.Helper()
		checks++
		st := devCompare(t, name, got, want, scale, rtol, atol)
		worst[kind] = math.Max(worst[kind], st.maxRel)
	}
	cmpI := func(name string, got, want []int32) {
		t.Helper()
		checks++
		devEqualInts(t, name, got, want)
	}
	for _, r := range recs {
		I, F, N := r.i, r.f, r.n
		id := fmt.Sprintf("%s%v", r.name, I)
		switch r.name {
		case "softmax_nll":
			B, C, mode := I["B"], I["C"], I["mode"]
			wl, wd, wn := make([]float32, B), make([]float32, B*C), make([]float32, B)
			SoftmaxNLL(wl, wd, wn, F["logits"], N["labels"], B, C)
			cmp(id+" loss", "loss", F["loss"], wl, nil, 1e-5, 1e-37)
			if mode == 0 {
				for i := 0; i < B; i++ {
					for j := 0; j < C; j++ {
						wd[i*C+j] = float32(float64(wd[i*C+j]) * float64(F["w"][i]))
					}
				}
			}
			if mode == 2 { // loss only: the other outputs stay poisoned
				for i := range wd {
					wd[i] = float32(math.NaN())
				}
				for i := range wn {
					wn[i] = float32(math.NaN())
				}
			}
			cmp(id+" dlogits", "dlogits", F["dl"], wd, nil, 1e-5, 1e-37)
			cmp(id+" lastnorm", "lastnorm", F["nrm"], wn, nil, 1e-5, 1e-37)
		case "dense_norm_sq":
			B, K, C := I["B"], I["K"], I["C"]
			want := append([]float32(nil), F["sq0"]...)
			AddDenseGradNormSq(want, F["a"], F["d"], B, K, C, I["bias"] == 1)
			cmp(id, "dense_norm_sq", F["sq"], want, nil, 1e-6, 0)
		case "reduce":
			R, Nn := I["R"], I["N"]
			wr, wc := make([]float32, R), make([]float32, Nn)
			SumRowsTwin(wr, F["in"], R, Nn)
			SumColsTwin(wc, F["in"], R, Nn)
			ws := append([]float32(nil), F["sq0"]...)
			AddSumSqRowsTwin(ws, F["in"], R, Nn)
			cmp(id+" rows", "sum_rows", F["rows"], wr, nil, 1e-6, 1e-9)
			cmp(id+" cols", "sum_cols", F["cols"], wc, nil, 1e-6, 1e-9)
			cmp(id+" sumsq", "add_sum_sq_rows", F["sq"], ws, nil, 1e-6, 0)
		case "finish":
			B := I["B"]
			w1, w2 := make([]float32, B), make([]float32, B)
			GradNormFinishTwin(w1, F["sq"], F["w"])
			GradNormFinishTwin(w2, F["sq"], nil)
			cmp(id+" weighted", "grad_norm_finish", F["o1"], w1, nil, 1e-7, 0)
			cmp(id+" unit", "grad_norm_finish", F["o2"], w2, nil, 1e-7, 0)
		case "sgemm":
			op, epi, batch := SgemmOp(I["op"]), SgemmEpilogue(I["epi"]), I["batch"]
			M, Nn, K, sA, sB, sC := I["M"], I["N"], I["K"], I["sA"], I["sB"], I["sC"]
			want := make([]float32, len(F["c"]))
			for i := range want {
				want[i] = float32(math.NaN()) // gaps between batch entries stay poisoned
			}
			var bias []float32
			switch epi {
			case SgemmEpiBiasCol, SgemmEpiBiasColReLU:
				bias = F["bias"][:Nn]
			case SgemmEpiBiasRow:
				bias = F["bias"][:M]
			}
			SgemmBatchedTwin(op, batch, want, F["a"], F["b"], M, Nn, K, sA, sB, sC, epi, bias, F["aux"])
			cmp(id, "sgemm", F["c"], want, devGemmScale(op, batch, F["a"], F["b"], M, Nn, K, sA, sB, sC, epi, bias), 1e-5, 1e-30)
		case "conv":
			B, C, H, W, KH, KW := I["B"], I["C"], I["H"], I["W"], I["KH"], I["KW"]
			p := make([]float32, len(F["p"]))
			Im2Col(p, F["x"], B, C, H, W, KH, KW)
			cmp(id+" im2col", "im2col", F["p"], p, nil, 0, 0)
			dx, sc := make([]float32, len(F["dx"])), make([]float32, len(F["dx"]))
			Col2ImTwin(dx, F["src"], B, C, H, W, KH, KW)
			Col2ImTwin(sc, devAbs32(F["src"]), B, C, H, W, KH, KW)
			cmp(id+" col2im", "col2im", F["dx"], dx, devTo64(sc), 3e-6, 1e-30)
		case "pool":
			B, C, H, W, relu := I["B"], I["C"], I["H"], I["W"], I["relu"] == 1
			n := len(F["out"])
			o, a := make([]float32, n), make([]int32, n)
			MaxPool2Twin(o, a, F["in"], B, C, H, W, relu)
			cmp(id+" out", "maxpool2_fwd", F["out"], o, nil, 0, 0)
			cmpI(id+" argmax", N["arg"], a)
			din := make([]float32, len(F["din"]))
			MaxPool2BackTwin(din, F["dout"], a, o, B, C, H, W, relu)
			cmp(id+" din", "maxpool2_bwd", F["din"], din, nil, 0, 0)
		case "elem":
			n := I["n"]
			dz := make([]float32, n)
			ReLUBackTwin(dz, F["dh"], F["h"])
			cmp(id+" relu", "relu_bwd", F["dz"], dz, nil, 0, 0)
			w, v := append([]float32(nil), F["w0"]...), append([]float32(nil), F["v0"]...)
			SGDMomentumTwin(w, v, F["g"], 0.01, 0.5)
			cmp(id+" sgd w", "sgd_momentum", F["w"], w, nil, 0, 0)
			cmp(id+" sgd v", "sgd_momentum", F["v"], v, nil, 0, 0)
			cmp(id+" copy", "copy_f32", F["dst2"], F["src"][:n], nil, 0, 0)
			want := append([]float32{float32(math.NaN())}, F["src"][1:]...)
			cmp(id+" copy unaligned", "copy_f32", F["dst"], want, nil, 0, 0)
		case "gather":
			B, P := I["B"], I["P"]
			x, l := make([]float32, B*P), make([]int32, B)
			GatherTwin(x, l, F["data"], N["dl"], N["idx"], P)
			cmp(id, "gather_rows", F["x"], x, nil, 0, 0)
			cmpI(id+" labels", N["lab"], l)
		case "argmax":
			B, C := I["B"], I["C"]
			p := make([]int32, B)
			ArgmaxRowsTwin(p, F["x"], B, C)
			cmpI(id, N["pred"], p)
		default:
			t.Fatalf("unknown record %q", r.name)
		}
	}
	if checks < 500 {
		t.Errorf("only %d checks: is the record file complete?", checks)
	}
	t.Logf("%d checks", checks)
	for k, v := range worst {
		t.Logf("worst relative error %-18s %.2e", k, v)
	}
}

type emuRec struct {
	name string
	i    map[string]int
	f    map[string][]float32
	n    map[string][]int32
}

// emuRead parses the emulator's records: 'R' name, then 'I' name int64,
// 'F' name count float32s, 'N' name count int32s, 'E' (strings end in 0).
func emuRead(path string) ([]emuRec, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	r := bufio.NewReader(fh)
	str := func() (string, error) {
		s, err := r.ReadString(0)
		if err != nil {
			return "", err
		}
		return s[:len(s)-1], nil
	}
	var out []emuRec
	var cur *emuRec
	for {
		c, err := r.ReadByte()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if c != 'R' && c != 'E' && cur == nil {
			return nil, fmt.Errorf("%s: field before the first record", path)
		}
		var name string
		if c != 'E' {
			if name, err = str(); err != nil {
				return nil, err
			}
		}
		switch c {
		case 'R':
			out = append(out, emuRec{name: name, i: map[string]int{}, f: map[string][]float32{}, n: map[string][]int32{}})
			cur = &out[len(out)-1]
		case 'I':
			var v int64
			if err := binary.Read(r, binary.LittleEndian, &v); err != nil {
				return nil, err
			}
			cur.i[name] = int(v)
		case 'F', 'N':
			var n int64
			if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
				return nil, err
			}
			if c == 'F' {
				v := make([]float32, n)
				err = binary.Read(r, binary.LittleEndian, v)
				cur.f[name] = v
			} else {
				v := make([]int32, n)
				err = binary.Read(r, binary.LittleEndian, v)
				cur.n[name] = v
			}
			if err != nil {
				return nil, err
			}
		case 'E':
		default:
			return nil, fmt.Errorf("%s: bad field tag %q", path, c)
		}
	}
}

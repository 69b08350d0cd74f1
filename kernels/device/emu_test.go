package device

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sgds/sgds/kernels"
	kt "github.com/sgds/sgds/kernels/kerneltest"
	"github.com/sgds/sgds/kernels/ref"
)

var emuRecords = flag.String("emu.records", "", "record file of a finished emulator run (default: build and run emu/emu_main.cpp with $CXX, g++ by default)")

// emulate builds the emulator with $CXX (g++ by default) and runs it,
// returning its record file; it fails the test when it cannot.
func emulate(t *testing.T) string {
	t.Helper()
	cxx := os.Getenv("CXX")
	if cxx == "" {
		cxx = "g++"
	}
	if _, err := exec.LookPath(cxx); err != nil {
		t.Fatalf("the emulator check needs a C++17 compiler: %s not found (apt-get install g++, or set CXX); "+
			"go test -short leaves the check out", cxx)
	}
	dir := t.TempDir()
	bin, recs := filepath.Join(dir, "emu"), filepath.Join(dir, "emu.bin")
	for _, cmd := range [][]string{
		{cxx, "-O2", "-std=c++17", "-ffp-contract=off", "-w", "-o", bin, filepath.Join("emu", "emu_main.cpp")},
		{bin, recs},
	} {
		out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", cmd, err, out)
		}
		if len(out) > 0 {
			t.Logf("%s: %s", filepath.Base(cmd[0]), out)
		}
	}
	return recs
}

// TestEmulatedKernels runs the CUDA C of every kernel on the CPU emulator
// (emu/) and compares its outputs with the references: indexing, tiling,
// barriers, warp shuffles, epilogues and argument order, without a GPU.
// The emulator's expf/logf are glibc's, not the device's.
func TestEmulatedKernels(t *testing.T) {
	path := *emuRecords
	if path == "" {
		if testing.Short() {
			t.Skip("-short: the emulator check (g++ and about 15 s) is left out; make kernels-emu runs it")
		}
		path = emulate(t)
	}
	recs, err := emuRead(path)
	if err != nil {
		t.Fatal(err)
	}
	worst := map[string]float64{}
	checks := 0
	seen := map[string]bool{} // the kernel variants the records cover
	cmp := func(name, kind string, got, want []float32, scale []float64, rtol, atol float64) {
		t.Helper()
		checks++
		m := kt.CheckF32(t, name, got, want, kt.Tol{Abs: atol, Rel: rtol, Scale: scale})
		worst[kind] = math.Max(worst[kind], m)
	}
	cmpI := func(name string, got, want []int32) {
		t.Helper()
		checks++
		kt.CheckInts(t, name, got, want)
	}
	for _, r := range recs {
		I, F, N := r.i, r.f, r.n
		id := fmt.Sprintf("%s%v", r.name, I)
		seen[fmt.Sprintf("%s i32=%d", r.name, I["i32"])] = true
		switch r.name {
		case "softmax_nll":
			B, C, mode := I["B"], I["C"], I["mode"]
			wl, wd, wn := make([]float32, B), make([]float32, B*C), make([]float32, B)
			kernels.SoftmaxNLL(wl, wd, wn, F["logits"], N["labels"], B, C)
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
			kernels.AddDenseGradNormSq(want, F["a"], F["d"], B, K, C, I["bias"] == 1)
			cmp(id, "dense_norm_sq", F["sq"], want, nil, 1e-6, 0)
		case "reduce":
			R, Nn := I["R"], I["N"]
			wr, wc := make([]float32, R), make([]float32, Nn)
			ref.RowSums(wr, F["in"], R, Nn)
			ref.ColumnSums(wc, F["in"], R, Nn)
			ws := append([]float32(nil), F["sq0"]...)
			ref.AddRowSumSq(ws, F["in"], R, Nn)
			cmp(id+" rows", "row_sums", F["rows"], wr, nil, 1e-6, 1e-9)
			cmp(id+" cols", "column_sums", F["cols"], wc, nil, 1e-6, 1e-9)
			cmp(id+" sumsq", "add_row_sum_sq", F["sq"], ws, nil, 1e-6, 0)
		case "finish":
			B := I["B"]
			w1, w2 := make([]float32, B), make([]float32, B)
			ref.GradNormFinish(w1, F["sq"], F["w"])
			ref.GradNormFinish(w2, F["sq"], nil)
			cmp(id+" weighted", "grad_norm_finish", F["o1"], w1, nil, 1e-7, 0)
			cmp(id+" unit", "grad_norm_finish", F["o2"], w2, nil, 1e-7, 0)
		case "sgemm":
			op, epi, batch := Op(I["op"]), Epilogue(I["epi"]), I["batch"]
			M, Nn, K, sA, sB, sC := I["M"], I["N"], I["K"], I["sA"], I["sB"], I["sC"]
			want := make([]float32, len(F["c"]))
			for i := range want {
				want[i] = float32(math.NaN()) // gaps between batch entries stay poisoned
			}
			var bias []float32
			switch epi {
			case EpiBiasCol, EpiBiasColReLU:
				bias = F["bias"][:Nn]
			case EpiBiasRow:
				bias = F["bias"][:M]
			}
			seen[Tile{I["tm"], I["tn"]}.kernel(op)] = true
			ref.SgemmBatched(op, batch, want, F["a"], F["b"], M, Nn, K, sA, sB, sC, epi, bias, F["aux"])
			cmp(id, "sgemm", F["c"], want, kt.GemmScale(op, batch, F["a"], F["b"], M, Nn, K, sA, sB, sC, epi, bias), 1e-5, 1e-30)
		case "conv":
			B, C, H, W, KH, KW := I["B"], I["C"], I["H"], I["W"], I["KH"], I["KW"]
			p := make([]float32, len(F["p"]))
			kernels.Im2Col(p, F["x"], B, C, H, W, KH, KW)
			cmp(id+" im2col", "im2col", F["p"], p, nil, 0, 0)
			dx, sc := make([]float32, len(F["dx"])), make([]float32, len(F["dx"]))
			ref.Col2Im(dx, F["src"], B, C, H, W, KH, KW)
			ref.Col2Im(sc, kt.Abs(F["src"]), B, C, H, W, KH, KW)
			cmp(id+" col2im", "col2im", F["dx"], dx, kt.To64(sc), 3e-6, 1e-30)
		case "pool":
			B, C, H, W, relu := I["B"], I["C"], I["H"], I["W"], I["relu"] == 1
			n := len(F["out"])
			o, a := make([]float32, n), make([]int32, n)
			ref.MaxPool2(o, a, F["in"], B, C, H, W, relu)
			cmp(id+" out", "maxpool2_fwd", F["out"], o, nil, 0, 0)
			cmpI(id+" argmax", N["arg"], a)
			din := make([]float32, len(F["din"]))
			ref.MaxPool2Back(din, F["dout"], a, o, B, C, H, W, relu)
			cmp(id+" din", "maxpool2_bwd", F["din"], din, nil, 0, 0)
		case "elem":
			n := I["n"]
			dz := make([]float32, n)
			kernels.ReLUMask(dz, F["dh"], F["h"])
			cmp(id+" relu", "relu_bwd", F["dz"], dz, nil, 0, 0)
			w, v := append([]float32(nil), F["w0"]...), append([]float32(nil), F["v0"]...)
			restore := kernels.DisableFastPath()
			kernels.SGDMomentum(w, v, F["g"], 0.01, 0.5)
			restore()
			cmp(id+" sgd w", "sgd_momentum", F["w"], w, nil, 0, 0)
			cmp(id+" sgd v", "sgd_momentum", F["v"], v, nil, 0, 0)
			cmp(id+" copy", "copy_f32", F["dst2"], F["src"][:n], nil, 0, 0)
			want := append([]float32{float32(math.NaN())}, F["src"][1:]...)
			cmp(id+" copy unaligned", "copy_f32", F["dst"], want, nil, 0, 0)
		case "gather":
			B, P := I["B"], I["P"]
			x, l := make([]float32, B*P), make([]int32, B)
			ref.Gather(x, l, F["data"], N["dl"], N["idx"], P)
			cmp(id, "gather_rows", F["x"], x, nil, 0, 0)
			cmpI(id+" labels", N["lab"], l)
		case "argmax":
			B, C := I["B"], I["C"]
			p := make([]int32, B)
			ref.ArgmaxRows(p, F["x"], B, C)
			cmpI(id, N["pred"], p)
		default:
			t.Fatalf("unknown record %q", r.name)
		}
	}
	for _, op := range []Op{NN, NT, TN} {
		for _, tile := range Tiles {
			if !seen[tile.kernel(op)] {
				t.Errorf("no record of %s", tile.kernel(op))
			}
		}
	}
	for _, k := range []string{"conv i32=0", "conv i32=1", "pool i32=0", "pool i32=1"} {
		if !seen[k] {
			t.Errorf("no record of %s", k)
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
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := bufio.NewReader(bytes.NewReader(raw))
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

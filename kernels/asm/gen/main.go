// Command gen writes the amd64 assembly of package kernels with avo
// (github.com/mmcloughlin/avo): the GEMM micro-kernels, the SGD-momentum
// update, and the register-only FMA loop and the streaming read that
// measure the machine's peak. It lives in its own module so that package
// kernels gains no dependency; the generated files are committed, and
// `make check-asm` regenerates them and fails when they differ.
//
//	cd kernels/asm/gen && go run . -out ../../asm_amd64.s -stubs ../../asm_amd64.go -pkg kernels
//
// Every kernel has an AVX2+FMA version (8 lanes, 16 vector registers) and
// an AVX-512F version (16 lanes, 32 registers). The arithmetic is the one
// of the portable kernels with each multiply and add fused: a GEMM element
// is the chain c = a·b + c over p in increasing order, whichever kernel
// computes it.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// isa describes one instruction set: its vector width in float32 lanes,
// its registers and its zeroing instruction.
type isa struct {
	name  string
	lanes int
	vec   func(i int) VecPhysical
	nvec  int
	zero  func(r VecPhysical) // r = 0
	bytes int                 // bytes per vector
}

var avx2 = isa{
	name: "AVX2", lanes: 8, nvec: 16, bytes: 32,
	vec:  func(i int) VecPhysical { return ymm[i] },
	zero: func(r VecPhysical) { VXORPS(r, r, r) },
}

var avx512 = isa{
	name: "AVX512", lanes: 16, nvec: 32, bytes: 64,
	vec:  func(i int) VecPhysical { return zmm[i] },
	zero: func(r VecPhysical) { VPXORD(r, r, r) }, // VXORPS on Z registers needs AVX512DQ
}

var ymm = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}

var zmm = []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
	Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}

func main() {
	ConstraintExpr("amd64")
	// The GEMM micro-kernels: MR rows by NV vectors of columns. AVX2 has
	// 16 registers: 6×2 accumulators, 2 of B, 1 broadcast. AVX-512 has 32:
	// 8×2 accumulators (64 rows of the MLP's batch split evenly); its
	// 16-column remainders take the AVX2 6×16 kernel (faster on Zen 4
	// than an 8×16 one).
	for r := 1; r <= gemmMR(avx2); r++ {
		gemmKernel(avx2, r, 2)
		gemmKernel(avx2, r, 1)
	}
	for r := 1; r <= gemmMR(avx512); r++ {
		gemmKernel(avx512, r, 2)
	}
	// The gather kernels of the fused convolutions, 8 lanes on both paths
	// (their vectors are short image rows): forward with one and two
	// filters, the weight gradient (5 filter rows), the input gradient
	// (4 channels × 16 lanes).
	convFwd(1)
	convFwd(2)
	gather(5, 1, 1)
	gather(4, 2, 1)
	poolRow(8)
	poolRow(4)
	convWGrad(true)
	convWGrad(false)
	rowKernels()
	sgd(avx2)
	sgd(avx512)
	fmaPeak(avx2)
	fmaPeak(avx512)
	readSum(avx2)
	Generate()
}

// gemmMR is the largest row count of an ISA's micro-kernels.
func gemmMR(s isa) int {
	if s.lanes == 16 {
		return 8
	}
	return 6
}

// gemmKernel writes gemm<ISA>R<r>W<w>, the micro-kernel of an r×w block of
// C (w = nv·lanes): for p < k, C[i][j] = A(i, p)·B[p][j] + C[i][j] fused,
// starting from C (acc) or from zero, A's element (i, p) at a[i·rsA + p·csA]
// and B row-major with stride ldb (w columns read per row). k ≥ 1.
func gemmKernel(s isa, r, nv int) {
	name := fmt.Sprintf("gemm%sR%dW%d", s.name, r, nv*s.lanes)
	TEXT(name, NOSPLIT, "func(k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, acc bool)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes a %d×%d block of C += op(A)·B (from 0 unless acc) over k ≥ 1 steps.", name, r, nv*s.lanes))
	k := Load(Param("k"), GP64())
	ap := Load(Param("a"), GP64())
	rs := Load(Param("rsA"), GP64())
	cs := Load(Param("csA"), GP64())
	bp := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	cp := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), rs)
	SHLQ(U8(2), cs)
	SHLQ(U8(2), ldb)
	SHLQ(U8(2), ldc)

	accs := make([][]VecPhysical, r)
	for i := range accs {
		accs[i] = make([]VecPhysical, nv)
		for v := range accs[i] {
			accs[i][v] = s.vec(i*nv + v)
		}
	}
	bv := make([]VecPhysical, nv)
	for v := range bv {
		bv[v] = s.vec(r*nv + v)
	}
	x := s.vec(r*nv + nv)
	if r*nv+nv+1 > s.nvec {
		panic(name + ": too many registers")
	}

	// Row i of A is read at bases[i/3] + (i%3)·rsA: rows 0–2 from a,
	// 3–5 from a + 3·rsA, 6–8 from a + 6·rsA.
	bases := []Register{ap}
	for b := 3; b < r; b += 3 {
		p := GP64()
		LEAQ(Mem{Base: bases[len(bases)-1], Index: rs, Scale: 2}, p)
		ADDQ(rs, p)
		bases = append(bases, p)
	}
	rowAt := func(i int) Mem {
		m := Mem{Base: bases[i/3]}
		if i%3 > 0 {
			m.Index, m.Scale = rs, uint8(i%3)
		}
		return m
	}

	// The accumulators: C's block, or zeros.
	acc := Load(Param("acc"), GP8())
	TESTB(acc, acc)
	JZ(LabelRef("zero"))
	cr := GP64()
	MOVQ(cp, cr)
	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			VMOVUPS(Mem{Base: cr, Disp: v * s.bytes}, accs[i][v])
		}
		if i+1 < r {
			ADDQ(ldc, cr)
		}
	}
	JMP(LabelRef("loop"))
	Label("zero")
	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			s.zero(accs[i][v])
		}
	}

	Label("loop")
	for v := 0; v < nv; v++ {
		VMOVUPS(Mem{Base: bp, Disp: v * s.bytes}, bv[v])
	}
	ADDQ(ldb, bp)
	for i := 0; i < r; i++ {
		VBROADCASTSS(rowAt(i), x)
		for v := 0; v < nv; v++ {
			VFMADD231PS(bv[v], x, accs[i][v])
		}
	}
	for _, b := range bases {
		ADDQ(cs, b)
	}
	DECQ(k)
	JNZ(LabelRef("loop"))

	for i := 0; i < r; i++ {
		for v := 0; v < nv; v++ {
			VMOVUPS(accs[i][v], Mem{Base: cp, Disp: v * s.bytes})
		}
		if i+1 < r {
			ADDQ(ldc, cp)
		}
	}
	VZEROUPPER()
	RET()
}

// sgd writes sgdMomentum<ISA>: for j < n, v[j] = mu·v[j] + g[j] and
// w[j] = nlr·v[j] + w[j], each one fused multiply-add (nlr = −lr), four
// vectors per step, then one vector, then single elements with the scalar
// form of the same fused operations.
func sgd(s isa) {
	name := "sgdMomentum" + s.name
	TEXT(name, NOSPLIT, "func(w, v, grad *float32, n int, nlr, mu float32)")
	Pragma("noescape")
	Doc(name + " is the SGD-momentum update of n elements (nlr = −lr).")
	wp := Load(Param("w"), GP64())
	vp := Load(Param("v"), GP64())
	gp := Load(Param("grad"), GP64())
	n := Load(Param("n"), GP64())
	vm, vl := s.vec(s.nvec-1), s.vec(s.nvec-2)
	// The scalars through X11 and X10 (a broadcast cannot read the
	// argument frame), which the scalar tail reuses.
	smu, slr := X11, X10
	VMOVSS(paramAddr("mu"), smu)
	VMOVSS(paramAddr("nlr"), slr)
	VBROADCASTSS(smu, vm)
	VBROADCASTSS(slr, vl)
	const u = 4
	step := u * s.lanes
	Label("block")
	CMPQ(n, U32(step))
	JL(LabelRef("one"))
	for i := 0; i < u; i++ {
		vv := s.vec(i)
		VMOVUPS(Mem{Base: vp, Disp: i * s.bytes}, vv)
		VFMADD213PS(Mem{Base: gp, Disp: i * s.bytes}, vm, vv) // vv = mu·vv + g
		VMOVUPS(vv, Mem{Base: vp, Disp: i * s.bytes})
	}
	for i := 0; i < u; i++ {
		vv, ww := s.vec(i), s.vec(u+i)
		VMOVUPS(Mem{Base: wp, Disp: i * s.bytes}, ww)
		VFMADD231PS(vv, vl, ww) // ww = nlr·vv + ww
		VMOVUPS(ww, Mem{Base: wp, Disp: i * s.bytes})
	}
	for _, p := range []Register{wp, vp, gp} {
		ADDQ(U32(step*4), p)
	}
	SUBQ(U32(step), n)
	JMP(LabelRef("block"))

	Label("one")
	CMPQ(n, U32(s.lanes))
	JL(LabelRef("tail"))
	vv, ww := s.vec(0), s.vec(1)
	VMOVUPS(Mem{Base: vp}, vv)
	VFMADD213PS(Mem{Base: gp}, vm, vv)
	VMOVUPS(vv, Mem{Base: vp})
	VMOVUPS(Mem{Base: wp}, ww)
	VFMADD231PS(vv, vl, ww)
	VMOVUPS(ww, Mem{Base: wp})
	for _, p := range []Register{wp, vp, gp} {
		ADDQ(U32(s.bytes), p)
	}
	SUBQ(U32(s.lanes), n)
	JMP(LabelRef("one"))

	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	xv, xw := X0, X1
	Label("tailloop")
	VMOVSS(Mem{Base: vp}, xv)
	VFMADD213SS(Mem{Base: gp}, smu, xv)
	VMOVSS(xv, Mem{Base: vp})
	VMOVSS(Mem{Base: wp}, xw)
	VFMADD231SS(xv, slr, xw)
	VMOVSS(xw, Mem{Base: wp})
	for _, p := range []Register{wp, vp, gp} {
		ADDQ(U32(4), p)
	}
	DECQ(n)
	JNZ(LabelRef("tailloop"))
	Label("done")
	VZEROUPPER()
	RET()
}

// fmaPeak writes fmaPeak<ISA>: n iterations of independent fused
// multiply-adds on registers only (12 chains with AVX2, 24 with AVX-512:
// enough to cover the FMA latency on two pipes), for the peak benchmark.
// Each iteration is chains·lanes·2 FLOP.
func fmaPeak(s isa) {
	name := "fmaPeak" + s.name
	TEXT(name, NOSPLIT, "func(n int)")
	Doc(fmt.Sprintf("%s runs n iterations of %d independent %d-lane fused multiply-adds.", name, peakChains(s), s.lanes))
	n := Load(Param("n"), GP64())
	c := peakChains(s)
	a, b := s.vec(s.nvec-1), s.vec(s.nvec-2)
	for i := 0; i < c; i++ {
		s.zero(s.vec(i))
	}
	s.zero(a)
	s.zero(b)
	TESTQ(n, n)
	JZ(LabelRef("done"))
	Label("loop")
	for i := 0; i < c; i++ {
		VFMADD231PS(a, b, s.vec(i))
	}
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}

func peakChains(s isa) int {
	if s.lanes == 16 {
		return 24
	}
	return 12
}

// readSum writes readSum<ISA>: the float32 sum of the n elements at p
// (n a multiple of 64), eight vectors per step into eight accumulators: a
// streaming read for the memory-bandwidth benchmark.
func readSum(s isa) {
	name := "readSum" + s.name
	TEXT(name, NOSPLIT, "func(p *float32, n int) float32")
	Pragma("noescape")
	Doc(name + " returns the sum of the n elements at p (n a multiple of 64).")
	p := Load(Param("p"), GP64())
	n := Load(Param("n"), GP64())
	const u = 8
	for i := 0; i < u; i++ {
		s.zero(s.vec(i))
	}
	TESTQ(n, n)
	JZ(LabelRef("reduce"))
	Label("loop")
	for i := 0; i < u; i++ {
		VADDPS(Mem{Base: p, Disp: i * s.bytes}, s.vec(i), s.vec(i))
	}
	ADDQ(U32(u*s.bytes), p)
	SUBQ(U32(u*s.lanes), n)
	JNZ(LabelRef("loop"))
	Label("reduce")
	for i := 1; i < u; i++ {
		VADDPS(s.vec(i), s.vec(0), s.vec(0))
	}
	// Lanes 8 → 1 (AVX2 registers).
	VEXTRACTF128(U8(1), Y0, X1)
	VADDPS(X1, X0, X0)
	VHADDPS(X0, X0, X0)
	VHADDPS(X0, X0, X0)
	Store(X0, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// paramAddr is the frame address of a scalar parameter.
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// gather writes gatherS<S>V<V>F<F>, the inner loop of the fused
// convolutions: for j < n, with q = p + off[j] (in elements),
//
//	acc[f][s][v] = q[st[s] + 8v : +8] · coef_f[j] + acc[f][s][v]
//
// (8 lanes, one fused multiply-add), for S strides st, V vectors per
// stride and F coefficient arrays (coef, coef1), the accumulators loaded
// from and stored back to acc ([F][S][V][8]float32).
func gather(S, V, F int) {
	name := fmt.Sprintf("gatherS%dV%dF%d", S, V, F)
	sig := "func(p *float32, off *int, n int, coef *float32, st *int, acc *float32)"
	if F == 2 {
		sig = "func(p *float32, off *int, n int, coef, coef1 *float32, st *int, acc *float32)"
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s accumulates %d×%d×%d vectors of 8 lanes over n gathered rows (see gen/main.go).", name, F, S, V))
	s := avx2
	na := F * S * V
	if na+F+1 > s.nvec {
		panic(name + ": too many registers")
	}
	p := Load(Param("p"), GP64())
	off := Load(Param("off"), GP64())
	n := Load(Param("n"), GP64())
	coefs := []Register{Load(Param("coef"), GP64())}
	if F == 2 {
		coefs = append(coefs, Load(Param("coef1"), GP64()))
	}
	stp := Load(Param("st"), GP64())
	st := make([]Register, S)
	for i := range st {
		st[i] = GP64()
		MOVQ(Mem{Base: stp, Disp: 8 * i}, st[i])
		SHLQ(U8(2), st[i])
	}
	ap := Load(Param("acc"), GP64())
	acc := func(f, i, v int) VecPhysical { return s.vec((f*S+i)*V + v) }
	for k := 0; k < na; k++ {
		VMOVUPS(Mem{Base: ap, Disp: 32 * k}, s.vec(k))
	}
	bc := make([]VecPhysical, F)
	for f := range bc {
		bc[f] = s.vec(na + f)
	}
	x := s.vec(na + F)
	TESTQ(n, n)
	JZ(LabelRef("done"))
	Label("loop")
	q := GP64()
	MOVQ(Mem{Base: off}, q)
	LEAQ(Mem{Base: p, Index: q, Scale: 4}, q)
	for f := range bc {
		VBROADCASTSS(Mem{Base: coefs[f]}, bc[f])
	}
	for i := 0; i < S; i++ {
		for v := 0; v < V; v++ {
			VMOVUPS(Mem{Base: q, Index: st[i], Scale: 1, Disp: 32 * v}, x)
			for f := range bc {
				VFMADD231PS(bc[f], x, acc(f, i, v))
			}
		}
	}
	ADDQ(U8(8), off)
	for _, c := range coefs {
		ADDQ(U8(4), c)
	}
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("done")
	ap2 := Load(Param("acc"), GP64())
	for k := 0; k < na; k++ {
		VMOVUPS(s.vec(k), Mem{Base: ap2, Disp: 32 * k})
	}
	VZEROUPPER()
	RET()
}

// poolRow writes poolRowAVX2 (lanes 8) and poolRow4AVX2 (lanes 4, on X
// registers), n groups of lanes windows of one output row of
// the 2×2 max-pool + bias + ReLU of the fused convolution: window w of
// group g covers r0[2Lg+2w], r0[2Lg+2w+1], r1[2Lg+2w], r1[2Lg+2w+1] (L =
// lanes); its maximum is picked in that order (a later value wins only when
// greater, as kernels.poolWindow), its position is corner + 2Lg + 2w (+1,
// +W, +W+1), and out = max(m + bias, 0) with NaN → 0. offs holds 0, 2, …,
// 2L−2.
func poolRow(lanes int) {
	name := "poolRowAVX2"
	if lanes == 4 {
		name = "poolRow4AVX2"
	}
	TEXT(name, NOSPLIT, "func(r0, r1 *float32, n int, out *float32, arg *int32, corner, w int, bias float32, offs *int32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s pools n groups of %d windows of one row (see gen/main.go).", name, lanes))
	// On 4 lanes the X registers: one 128-bit lane, no permutes.
	v := func(r VecPhysical) VecPhysical {
		if lanes == 4 {
			return r.AsX().(VecPhysical)
		}
		return r
	}
	vb := 4 * lanes // bytes per vector
	r0 := Load(Param("r0"), GP64())
	r1 := Load(Param("r1"), GP64())
	n := Load(Param("n"), GP64())
	out := Load(Param("out"), GP64())
	arg := Load(Param("arg"), GP64())
	op := Load(Param("offs"), GP64())
	cv, wv, sixteen, one := v(Y15), v(Y14), v(Y13), v(Y12)
	bias, zero := v(Y11), v(Y10)
	t := GP64()
	Load(Param("corner"), t)
	VMOVD(t.As32(), X15)
	VPBROADCASTD(X15, cv)
	VPADDD(Mem{Base: op}, cv, cv) // corner + 2w
	Load(Param("w"), t)
	VMOVD(t.As32(), X14)
	VPBROADCASTD(X14, wv)
	MOVL(U32(2*lanes), t.As32())
	VMOVD(t.As32(), X13)
	VPBROADCASTD(X13, sixteen)
	MOVL(U32(1), t.As32())
	VMOVD(t.As32(), X12)
	VPBROADCASTD(X12, one)
	VMOVSS(paramAddr("bias"), X11)
	VBROADCASTSS(X11, bias)
	VXORPS(zero, zero, zero)
	TESTQ(n, n)
	JZ(LabelRef("done"))
	Label("loop")
	// Even and odd columns of both rows, in window order.
	lo, hi := v(Y0), v(Y1)
	e0, o0, e1, o1 := v(Y2), v(Y3), v(Y4), v(Y5)
	for _, rr := range []struct {
		p    Register
		e, o VecPhysical
	}{{r0, e0, o0}, {r1, e1, o1}} {
		VMOVUPS(Mem{Base: rr.p}, lo)
		VMOVUPS(Mem{Base: rr.p, Disp: vb}, hi)
		VSHUFPS(U8(0x88), hi, lo, rr.e)
		VSHUFPS(U8(0xDD), hi, lo, rr.o)
		if lanes == 8 {
			VPERMPD(U8(0xD8), rr.e, rr.e)
			VPERMPD(U8(0xD8), rr.o, rr.o)
		}
	}
	m, pos, k, c := v(Y6), v(Y7), v(Y8), v(Y9)
	VMOVAPS(e0, m)
	VMOVDQU(cv, pos)
	// o0 at corner+1, e1 at corner+W, o1 at corner+W+1.
	VPADDD(one, cv, c)
	VCMPPS(U8(0x1E), m, o0, k) // o0 > m (ordered)
	VBLENDVPS(k, o0, m, m)
	VBLENDVPS(k, c, pos, pos)
	VPADDD(wv, cv, c)
	VCMPPS(U8(0x1E), m, e1, k)
	VBLENDVPS(k, e1, m, m)
	VBLENDVPS(k, c, pos, pos)
	VPADDD(one, c, c)
	VCMPPS(U8(0x1E), m, o1, k)
	VBLENDVPS(k, o1, m, m)
	VBLENDVPS(k, c, pos, pos)
	VADDPS(bias, m, m)
	VCMPPS(U8(0x1E), zero, m, k) // m > 0
	VANDPS(k, m, m)
	VMOVUPS(m, Mem{Base: out})
	VMOVDQU(pos, Mem{Base: arg})
	VPADDD(sixteen, cv, cv)
	ADDQ(U8(2*vb), r0)
	ADDQ(U8(2*vb), r1)
	ADDQ(U8(vb), out)
	ADDQ(U8(vb), arg)
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}

// rowKernels writes the 8-lane loops of the row kernels over the first n
// elements (n a multiple of 8; the callers finish the rest in Go with the
// same single-rounding operations, so every path gives identical results):
//
//	addBiasReLUAVX2: x[j] = x[j] + b[j], then 0 unless > 0 when relu
//	reluMaskAVX2:    dst[j] = grad[j] where out[j] > 0, else 0
//	scaleAVX2:       dst[j] = s·src[j]
//	colSumsAVX2:     dst[j] += src[i·ld + j] for i < rows, in order
func rowKernels() {
	TEXT("addBiasReLUAVX2", NOSPLIT, "func(x, b *float32, n int, relu bool)")
	Pragma("noescape")
	Doc("addBiasReLUAVX2 adds b to the n elements of x (n a multiple of 8), then clamps at 0 when relu.")
	{
		x := Load(Param("x"), GP64())
		b := Load(Param("b"), GP64())
		n := Load(Param("n"), GP64())
		r := Load(Param("relu"), GP8())
		VXORPS(Y15, Y15, Y15)
		TESTQ(n, n)
		JZ(LabelRef("done"))
		TESTB(r, r)
		JZ(LabelRef("plain"))
		Label("relu")
		VMOVUPS(Mem{Base: x}, Y0)
		VADDPS(Mem{Base: b}, Y0, Y0)
		VCMPPS(U8(0x1E), Y15, Y0, Y1) // v > 0 (ordered)
		VANDPS(Y1, Y0, Y0)
		VMOVUPS(Y0, Mem{Base: x})
		ADDQ(U8(32), x)
		ADDQ(U8(32), b)
		SUBQ(U8(8), n)
		JNZ(LabelRef("relu"))
		JMP(LabelRef("done"))
		Label("plain")
		VMOVUPS(Mem{Base: x}, Y0)
		VADDPS(Mem{Base: b}, Y0, Y0)
		VMOVUPS(Y0, Mem{Base: x})
		ADDQ(U8(32), x)
		ADDQ(U8(32), b)
		SUBQ(U8(8), n)
		JNZ(LabelRef("plain"))
		Label("done")
		VZEROUPPER()
		RET()
	}

	TEXT("reluMaskAVX2", NOSPLIT, "func(dst, grad, out *float32, n int)")
	Pragma("noescape")
	Doc("reluMaskAVX2 sets dst to grad where out > 0, else 0, over n elements (a multiple of 8).")
	{
		d := Load(Param("dst"), GP64())
		g := Load(Param("grad"), GP64())
		o := Load(Param("out"), GP64())
		n := Load(Param("n"), GP64())
		VXORPS(Y15, Y15, Y15)
		TESTQ(n, n)
		JZ(LabelRef("done"))
		Label("loop")
		VMOVUPS(Mem{Base: o}, Y0)
		VCMPPS(U8(0x1E), Y15, Y0, Y0) // out > 0 (ordered)
		VANDPS(Mem{Base: g}, Y0, Y0)
		VMOVUPS(Y0, Mem{Base: d})
		ADDQ(U8(32), d)
		ADDQ(U8(32), g)
		ADDQ(U8(32), o)
		SUBQ(U8(8), n)
		JNZ(LabelRef("loop"))
		Label("done")
		VZEROUPPER()
		RET()
	}

	TEXT("scaleAVX2", NOSPLIT, "func(dst, src *float32, n int, s float32)")
	Pragma("noescape")
	Doc("scaleAVX2 sets dst = s·src over n elements (a multiple of 8).")
	{
		d := Load(Param("dst"), GP64())
		x := Load(Param("src"), GP64())
		n := Load(Param("n"), GP64())
		VMOVSS(paramAddr("s"), X15)
		VBROADCASTSS(X15, Y15)
		TESTQ(n, n)
		JZ(LabelRef("done"))
		Label("loop")
		VMULPS(Mem{Base: x}, Y15, Y0)
		VMOVUPS(Y0, Mem{Base: d})
		ADDQ(U8(32), d)
		ADDQ(U8(32), x)
		SUBQ(U8(8), n)
		JNZ(LabelRef("loop"))
		Label("done")
		VZEROUPPER()
		RET()
	}

	TEXT("colSumsAVX2", NOSPLIT, "func(dst, src *float32, ld, rows, n int)")
	Pragma("noescape")
	Doc("colSumsAVX2 adds rows rows of src (stride ld) to the n elements of dst (n a multiple of 8), rows in order.")
	{
		d := Load(Param("dst"), GP64())
		x := Load(Param("src"), GP64())
		ld := Load(Param("ld"), GP64())
		rows := Load(Param("rows"), GP64())
		n := Load(Param("n"), GP64())
		SHLQ(U8(2), ld)
		TESTQ(n, n)
		JZ(LabelRef("done"))
		TESTQ(rows, rows)
		JZ(LabelRef("done"))
		Label("cols")
		// Four vectors of columns at a time where there are, else one.
		CMPQ(n, U8(32))
		JL(LabelRef("one"))
		for v := 0; v < 4; v++ {
			VMOVUPS(Mem{Base: d, Disp: 32 * v}, ymm[v])
		}
		p, i := GP64(), GP64()
		MOVQ(x, p)
		MOVQ(rows, i)
		Label("rows4")
		for v := 0; v < 4; v++ {
			VADDPS(Mem{Base: p, Disp: 32 * v}, ymm[v], ymm[v])
		}
		ADDQ(ld, p)
		DECQ(i)
		JNZ(LabelRef("rows4"))
		for v := 0; v < 4; v++ {
			VMOVUPS(ymm[v], Mem{Base: d, Disp: 32 * v})
		}
		ADDQ(U8(128), d)
		ADDQ(U8(128), x)
		SUBQ(U8(32), n)
		JNZ(LabelRef("cols"))
		JMP(LabelRef("done"))
		Label("one")
		VMOVUPS(Mem{Base: d}, Y0)
		MOVQ(x, p)
		MOVQ(rows, i)
		Label("rows1")
		VADDPS(Mem{Base: p}, Y0, Y0)
		ADDQ(ld, p)
		DECQ(i)
		JNZ(LabelRef("rows1"))
		VMOVUPS(Y0, Mem{Base: d})
		ADDQ(U8(32), d)
		ADDQ(U8(32), x)
		SUBQ(U8(8), n)
		JNZ(LabelRef("cols"))
		Label("done")
		VZEROUPPER()
		RET()
	}
}

// convWGrad writes convWGrad5RW and convWGrad5Add, the per-sample loop of
// the conv weight gradient for groups of 5 filter rows W apart: for each
// of ns samples i, entries j in [sb[i], sb[i+1]) (sb advancing),
//
//	a[r] = p[off[j] + r·W : +8]·d[j] + a[r]   (r < 5, from a = 0)
//
// then w[r] = a[r]·rw[i] + w[r] (RW, fused) or w[r] = w[r] + a[r] (Add),
// the 5 vectors of w loaded from and stored back to acc.
func convWGrad(withRW bool) {
	name := "convWGrad5Add"
	sig := "func(p *float32, off *int, d *float32, sb *int, ns int, w int, acc *float32)"
	if withRW {
		name = "convWGrad5RW"
		sig = "func(p *float32, off *int, d *float32, sb *int, ns int, w int, acc *float32, rw *float32)"
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(name + " accumulates the weight gradient of 5 filter rows over ns samples (see gen/main.go).")
	p := Load(Param("p"), GP64())
	off := Load(Param("off"), GP64())
	d := Load(Param("d"), GP64())
	sb := Load(Param("sb"), GP64())
	ns := Load(Param("ns"), GP64())
	w := Load(Param("w"), GP64())
	SHLQ(U8(2), w)
	var rw Register
	if withRW {
		rw = Load(Param("rw"), GP64())
	}
	ap := Load(Param("acc"), GP64())
	for r := 0; r < 5; r++ {
		VMOVUPS(Mem{Base: ap, Disp: 32 * r}, ymm[5+r])
	}
	TESTQ(ns, ns)
	JZ(LabelRef("done"))
	Label("sample")
	j, j1 := GP64(), GP64()
	MOVQ(Mem{Base: sb}, j)
	MOVQ(Mem{Base: sb, Disp: 8}, j1)
	ADDQ(U8(8), sb)
	CMPQ(j, j1)
	JE(LabelRef("next"))
	for r := 0; r < 5; r++ {
		VXORPS(ymm[r], ymm[r], ymm[r])
	}
	Label("entry")
	q, q3 := GP64(), GP64()
	MOVQ(Mem{Base: off, Index: j, Scale: 8}, q)
	LEAQ(Mem{Base: p, Index: q, Scale: 4}, q)
	LEAQ(Mem{Base: q, Index: w, Scale: 2}, q3)
	ADDQ(w, q3)
	VBROADCASTSS(Mem{Base: d, Index: j, Scale: 4}, Y10)
	for r, m := range []Mem{{Base: q}, {Base: q, Index: w, Scale: 1}, {Base: q, Index: w, Scale: 2}, {Base: q3}, {Base: q3, Index: w, Scale: 1}} {
		VMOVUPS(m, Y11)
		VFMADD231PS(Y10, Y11, ymm[r])
	}
	INCQ(j)
	CMPQ(j, j1)
	JNE(LabelRef("entry"))
	if withRW {
		VBROADCASTSS(Mem{Base: rw}, Y12)
		for r := 0; r < 5; r++ {
			VFMADD231PS(Y12, ymm[r], ymm[5+r])
		}
	} else {
		for r := 0; r < 5; r++ {
			VADDPS(ymm[r], ymm[5+r], ymm[5+r])
		}
	}
	Label("next")
	if withRW {
		ADDQ(U8(4), rw)
	}
	DECQ(ns)
	JNZ(LabelRef("sample"))
	Label("done")
	ap2 := Load(Param("acc"), GP64())
	for r := 0; r < 5; r++ {
		VMOVUPS(ymm[5+r], Mem{Base: ap2, Disp: 32 * r})
	}
	VZEROUPPER()
	RET()
}

// convFwd writes convFwdF<F>, the conv forward's block of 4 vectors of 8
// positions of F filters: with q = p + off[t] (in elements),
//
//	a[f][s] = q[st[s] : +8] · coef_f[t] + a[f][s]   for t < n, from a = 0,
//
// stored to z[zo[s] + f·zp : +8].
func convFwd(F int) {
	const S = 4
	name := fmt.Sprintf("convFwdF%d", F)
	sig := "func(p *float32, off *int, n int, coef *float32, st *int, z *float32, zo *int)"
	if F == 2 {
		sig = "func(p *float32, off *int, n int, coef, coef1 *float32, st *int, z *float32, zo *int, zp int)"
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes 4 vectors of 8 conv outputs of %d filters over n taps (see gen/main.go).", name, F))
	p := Load(Param("p"), GP64())
	off := Load(Param("off"), GP64())
	n := Load(Param("n"), GP64())
	coefs := []Register{Load(Param("coef"), GP64())}
	if F == 2 {
		coefs = append(coefs, Load(Param("coef1"), GP64()))
	}
	stp := Load(Param("st"), GP64())
	st := make([]Register, S)
	for i := range st {
		st[i] = GP64()
		MOVQ(Mem{Base: stp, Disp: 8 * i}, st[i])
		SHLQ(U8(2), st[i])
	}
	acc := func(f, i int) VecPhysical { return ymm[f*S+i] }
	for k := 0; k < F*S; k++ {
		VXORPS(ymm[k], ymm[k], ymm[k])
	}
	bc := ymm[F*S : F*S+F]
	x := ymm[F*S+F]
	TESTQ(n, n)
	JZ(LabelRef("done"))
	Label("loop")
	q := GP64()
	MOVQ(Mem{Base: off}, q)
	LEAQ(Mem{Base: p, Index: q, Scale: 4}, q)
	for f := range bc {
		VBROADCASTSS(Mem{Base: coefs[f]}, bc[f])
	}
	for i := 0; i < S; i++ {
		VMOVUPS(Mem{Base: q, Index: st[i], Scale: 1}, x)
		for f := range bc {
			VFMADD231PS(bc[f], x, acc(f, i))
		}
	}
	ADDQ(U8(8), off)
	for _, c := range coefs {
		ADDQ(U8(4), c)
	}
	DECQ(n)
	JNZ(LabelRef("loop"))
	Label("done")
	z := Load(Param("z"), GP64())
	zo := Load(Param("zo"), GP64())
	var zp Register
	if F == 2 {
		zp = Load(Param("zp"), GP64())
		SHLQ(U8(2), zp)
	}
	for i := 0; i < S; i++ {
		a := GP64()
		MOVQ(Mem{Base: zo, Disp: 8 * i}, a)
		LEAQ(Mem{Base: z, Index: a, Scale: 4}, a)
		VMOVUPS(acc(0, i), Mem{Base: a})
		if F == 2 {
			VMOVUPS(acc(1, i), Mem{Base: a, Index: zp, Scale: 1})
		}
	}
	VZEROUPPER()
	RET()
}

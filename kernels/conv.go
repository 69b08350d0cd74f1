package kernels

import (
	"fmt"
	"math"
)

// Layouts of the direct convolution kernels (valid padding, stride 1), for B
// samples of C channels of H×W pixels, F filters of KH×KW and OH = H−KH+1,
// OW = W−KW+1 output positions:
//
//	src   (B, C, H, W)     NCHW input
//	w     (F, C, KH, KW)   filters
//	z     (B, F, OH, OW)   output (pre-activation), no bias
//
// The pooled-gradient kernels take the conv output through a 2×2 max-pool
// (see MaxPool2ReLU) with PQ = (OH/2)·(OW/2) pooled positions per channel:
//
//	delta (B, F, PQ)       ∂L/∂(pooled output), 0 where the ReLU after the
//	                       pool is inactive
//	arg   (B, F, PQ)       int32 position u = oy·W+ox of the window's maximum
//	                       (oy, ox) on the input-width grid: the offset of
//	                       its receptive field's corner in an input plane
//
// so that the gradient with respect to z is delta[i,f,q] at (oy, ox) =
// (arg/W, arg%W) and 0 elsewhere; the kernels never build it.

// ConvPoolReLU computes a conv layer with bias followed by a 2×2 max-pool
// (stride 2, floor) and a ReLU, and the position of each window's maximum
// (layouts at the top of this file). With PH = OH/2, PW = OW/2 and
//
//	z(i, f, oy, ox) := Σ_{c<C} Σ_{ky<KH} Σ_{kx<KW} w[((f*C+c)*KH+ky)*KW+kx] * src[((i*C+c)*H+oy+ky)*W+ox+kx]
//
// summed in float32 over (c, ky, kx) in increasing order (fused
// multiply-adds on the vector path), it is equal to
//
//	for i, f, py < PH, px < PW:
//		m, at := z(i, f, 2py, 2px), (2py)*W+2px
//		for (dy, dx) in (0,1), (1,0), (1,1):  // the first maximum wins ties
//			if v := z(i, f, 2py+dy, 2px+dx); v > m {
//				m, at = v, (2py+dy)*W+2px+dx
//			}
//		out[(i*F+f)*PH*PW + py*PW+px] = max(0, m+bias[f])
//		arg[(i*F+f)*PH*PW + py*PW+px] = at
//
// The bias is added after the max (max(z)+b = max(z+b)), and z never
// reaches memory: it is computed per filter group into a small pooled
// buffer. out and arg are overwritten. ConvPoolReLU panics if a size is
// negative, the kernel is empty or larger than the image, the conv output is
// smaller than 2×2 while B·F > 0, or a length is wrong.
func ConvPoolReLU(out []float32, arg []int32, src, w, bias []float32, B, C, H, W, F, KH, KW int) {
	const op = "ConvPoolReLU"
	OH, OW := convOut(op, B, C, H, W, F, KH, KW)
	PQ := prod(op, OH/2, OW/2)
	checkLen(op, "src", src, prod(op, B, C, H, W))
	checkLen(op, "w", w, prod(op, F, C, KH, KW))
	checkLen(op, "bias", bias, F)
	checkLen(op, "out", out, prod(op, B, F, PQ))
	checkLen(op, "arg", arg, prod(op, B, F, PQ))
	if B == 0 || F == 0 {
		return
	}
	if PQ == 0 {
		panic(fmt.Sprintf("kernels: %s: %d×%d conv output is smaller than one 2×2 window", op, OH, OW))
	}
	if FastPath() {
		convPoolReLUVec(out, arg, src, w, bias, B, C, H, W, F, KH, KW)
	} else {
		convPoolReLUGeneric(out, arg, src, w, bias, B, C, H, W, F, KH, KW)
	}
}

// poolReLU pools nf planes of z (row stride ld, plane stride ps) into out
// and arg (plane stride PH·PW) as ConvPoolReLU states, adding bias[f];
// positions are recorded on the grid of width W.
func poolReLU(out []float32, arg []int32, z []float32, ld, ps int, bias []float32, nf, OH, OW, W int) {
	PH, PW := OH/2, OW/2
	for f := 0; f < nf; f++ {
		b := bias[f]
		zf := z[f*ps:]
		o := out[f*PH*PW : (f+1)*PH*PW]
		a := arg[f*PH*PW : (f+1)*PH*PW]
		for py := 0; py < PH; py++ {
			for px := 0; px < PW; px++ {
				m, at := poolWindow(zf, ld, W, py, px)
				m += b
				if !(m > 0) {
					m = 0
				}
				o[py*PW+px] = m
				a[py*PW+px] = at
			}
		}
	}
}

// poolWindow returns the maximum of window (py, px) of the plane z (row
// stride ld) and its position oy·W+ox; the first maximum wins.
// The selections are branch-free (the comparisons of a conv's outputs are
// unpredictable).
func poolWindow(z []float32, ld, W, py, px int) (float32, int32) {
	r0 := z[2*py*ld+2*px : 2*py*ld+2*px+2]
	r1 := z[(2*py+1)*ld+2*px : (2*py+1)*ld+2*px+2]
	m, at := r0[0], int32(0)
	m, at = pick(m, at, r0[1], 1)
	m, at = pick(m, at, r1[0], int32(W))
	m, at = pick(m, at, r1[1], int32(W+1))
	return m, int32(2*py*W+2*px) + at
}

// pick returns (v, j) if v > m, else (m, at), without branches.
func pick(m float32, at int32, v float32, j int32) (float32, int32) {
	var gt uint32
	if v > m {
		gt = 1
	}
	mask := -gt // all ones when v > m
	mb, vb := math.Float32bits(m), math.Float32bits(v)
	return math.Float32frombits(mb ^ ((mb ^ vb) & mask)), at ^ ((at ^ j) & int32(mask))
}

// convOut checks the sizes of a valid stride-1 convolution and returns the
// output height and width.
func convOut(op string, B, C, H, W, F, KH, KW int) (OH, OW int) {
	prod(op, B, C, H, W, F, KH, KW)
	if KH < 1 || KW < 1 || KH > H || KW > W {
		panic(fmt.Sprintf("kernels: %s: %d×%d kernel empty or larger than the %d×%d image", op, KH, KW, H, W))
	}
	return H - KH + 1, W - KW + 1
}

// checkPooled checks the input, pooled gradient and argmax of a conv+pool
// layer with OH×OW outputs for filters [f0, f1): every arg must lie in
// [0, (OH−1)·W+OW), so that the receptive field at that offset lies inside
// the input plane.
func checkPooled(op string, src, delta []float32, arg []int32, B, C, H, W, F, PQ, OH, OW, f0, f1 int) {
	checkLen(op, "src", src, prod(op, B, C, H, W))
	checkLen(op, "delta", delta, prod(op, B, F, PQ))
	checkLen(op, "arg", arg, prod(op, B, F, PQ))
	if PQ > OH*OW {
		panic(fmt.Sprintf("kernels: %s: %d pooled positions for %d conv positions", op, PQ, OH*OW))
	}
	U := uint32((OH-1)*W + OW)
	for i := 0; i < B; i++ {
		a := arg[(i*F+f0)*PQ : (i*F+f1)*PQ]
		var m uint32 // branch-free: the largest arg as unsigned (negatives are huge)
		for _, v := range a {
			m = max(m, uint32(v))
		}
		if m >= U {
			for j, v := range a {
				if uint32(v) >= U {
					panic(fmt.Sprintf("kernels: %s: arg[%d] = %d outside [0, %d)", op, (i*F+f0)*PQ+j, v, U))
				}
			}
		}
	}
}

func checkPooledRange(op string, f0, f1, F int) {
	if f0 < 0 || f0 > f1 || f1 > F {
		panic(fmt.Sprintf("kernels: %s: filter range [%d, %d) outside [0, %d)", op, f0, f1, F))
	}
}

// AddConvPoolWeightGrad adds the weight and bias gradients of a conv layer
// followed by a 2×2 max-pool, for filters f0 ≤ f < f1, from the pooled
// gradient (layouts at the top of this file), and optionally each sample's
// own squared gradient norm. With sample i's filter and bias gradients
//
//	G_i[f][k] = Σ_q d_q · src[((i*C+c)*H+oy_q+ky)*W+ox_q+kx]   (k = (c*KH+ky)*KW+kx)
//	g_i[f]    = Σ_q d_q
//
// where d_q = delta[(i*F+f)*PQ+q], (oy_q, ox_q) = (arg/W, arg%W) of the same
// entry, and q runs in increasing order over the non-zero d_q (float32 sums
// from 0; fused multiply-adds on the vector path), it is equal to
//
//	for f := f0; f < f1; f++ {
//		for i := 0; i < B; i++ {    // samples with a non-zero d_q only
//			for k := range G_i[f] {
//				dw[f*K+k] += rw[i] * G_i[f][k]   // dw[f*K+k] += G_i[f][k] when rw is nil
//			}
//			db[f] += rw[i] * g_i[f]
//			sq[i] += Σ_k G_i[f][k]² + g_i[f]²   // in float64
//		}
//	}
//
// (for dw, the product and sum with rw[i] are one fused multiply-add on the
// vector path; db rounds both on every path). Each sample's gradient is
// built before it is weighted, which is what makes its norm nearly free. Every element of dw, db and sq is summed in a fixed
// order, so callers may split the filters over goroutines (giving each its
// own sq to add in a fixed order afterwards). db, rw and sq may be nil. dw is
// (F, C, KH, KW), db has F elements, rw and sq have B; rows outside
// [f0, f1) are not touched. It panics if a size is negative, a length is
// wrong, 0 ≤ f0 ≤ f1 ≤ F does not hold, PQ exceeds OH·OW, or an arg of the
// filters used lies outside [0, (OH−1)·W+OW) (the offsets whose receptive
// field lies inside the input; ConvPoolReLU only yields offsets with
// arg%W < OW).
func AddConvPoolWeightGrad(dw, db []float32, sq []float64, src, delta []float32, arg []int32, rw []float32, B, C, H, W, F, KH, KW, PQ, f0, f1 int) {
	const op = "AddConvPoolWeightGrad"
	OH, OW := convOut(op, B, C, H, W, F, KH, KW)
	checkPooledRange(op, f0, f1, F)
	checkPooled(op, src, delta, arg, B, C, H, W, F, PQ, OH, OW, f0, f1)
	checkLen(op, "dw", dw, prod(op, F, C, KH, KW))
	if db != nil {
		checkLen(op, "db", db, F)
	}
	if rw != nil {
		checkLen(op, "rw", rw, B)
	}
	if sq != nil {
		checkLen(op, "sq", sq, B)
	}
	if FastPath() && KW <= 8 {
		convPoolWeightGradVec(dw, db, sq, src, delta, arg, rw, B, C, H, W, F, KH, KW, PQ, f0, f1)
	} else {
		convPoolWeightGradGeneric(dw, db, sq, src, delta, arg, rw, B, C, H, W, F, KH, KW, PQ, f0, f1)
	}
}

// AddConvPoolGradNormSq adds to dst[i], for each sample i, the squared norm
// of sample i's own gradient of a conv layer followed by a 2×2 max-pool, from
// the pooled gradient (layouts at the top of this file). With G_i the (F,
// C·KH·KW) weight gradient and g_i the bias gradient that
// AddConvPoolWeightGrad would compute for sample i alone (unit weight), it is
// equal to
//
//	dst[i] += Σ_f Σ_k G_i[f,k]²  (+ Σ_f g_i[f]² when bias)
//
// where G_i and g_i are summed in float32 as in AddConvPoolWeightGrad and
// their squares are summed in float64, rounded to float32 once per sample.
// It is the conv part of the per-sample gradient norm (METHOD.md §5) at the
// cost of one weight-gradient pass, without unfolded patches or a dense
// output gradient; it agrees with AddConvGradNormSq on Im2Col patches and the
// unpooled gradient to float32 rounding. It panics as AddConvPoolWeightGrad
// does.
func AddConvPoolGradNormSq(dst []float32, src, delta []float32, arg []int32, B, C, H, W, F, KH, KW, PQ int, bias bool) {
	const op = "AddConvPoolGradNormSq"
	OH, OW := convOut(op, B, C, H, W, F, KH, KW)
	checkPooled(op, src, delta, arg, B, C, H, W, F, PQ, OH, OW, 0, F)
	checkLen(op, "dst", dst, B)
	if FastPath() {
		convPoolGradNormSqVec(dst, src, delta, arg, B, C, H, W, F, KH, KW, PQ, bias)
	} else {
		convPoolGradNormSqGeneric(dst, src, delta, arg, B, C, H, W, F, KH, KW, PQ, bias)
	}
}

// convPoolGradNormSqGeneric is the portable path of AddConvPoolGradNormSq.
func convPoolGradNormSqGeneric(dst []float32, src, delta []float32, arg []int32, B, C, H, W, F, KH, KW, PQ int, bias bool) {
	const op = "AddConvPoolGradNormSq"
	g := f32Pool.get(prod(op, C, KH, KW) + 1)
	defer f32Pool.put(g)
	gw, gb := (*g)[:C*KH*KW], (*g)[C*KH*KW:]
	S := C * H * W
	for i := 0; i < B; i++ {
		var s float64
		for f := 0; f < F; f++ {
			clear(*g)
			sd := src[i*S : (i+1)*S]
			dd := delta[(i*F+f)*PQ : (i*F+f+1)*PQ]
			ad := arg[(i*F+f)*PQ : (i*F+f+1)*PQ]
			convPoolWeightGradGeneric(gw, gb, nil, sd, dd, ad, nil, 1, C, H, W, 1, KH, KW, PQ, 0, 1)
			s += sumSq32(gw)
			if bias {
				s += float64(gb[0]) * float64(gb[0])
			}
		}
		dst[i] = float32(float64(dst[i]) + s)
	}
}

// ConvPoolInputGrad computes the gradient with respect to the input of a conv
// layer followed by a 2×2 max-pool, from the pooled gradient (layouts at the
// top of this file): each non-zero delta[i,f,q] adds delta·w[f] at the
// receptive field of position arg[i,f,q], without col2im. It is equal to
//
//	for i, c, y, x:
//		s := float32(0)
//		for ky := 0; ky < KH; ky++ {
//			for f := 0; f < F; f++ {
//				for q := 0; q < PQ; q++ {
//					d, u := delta[(i*F+f)*PQ+q], arg[(i*F+f)*PQ+q]
//					kx := x - u%W
//					if d != 0 && u/W == y-ky && 0 <= kx && kx < KW {
//						s += d * w[((f*C+c)*KH+ky)*KW+kx]
//					}
//				}
//			}
//		}
//		dsrc[((i*C+c)*H+y)*W+x] = s
//
// in float32 (fused multiply-adds on the vector path, which also adds exact
// zeros for the taps outside a row's kernel: they can only turn a −0 into +0).
// Each input row is gathered in registers and stored once. Samples are
// independent, so callers may split the batch. dsrc is (B, C, H, W) and is
// overwritten. It panics as AddConvPoolWeightGrad does.
func ConvPoolInputGrad(dsrc []float32, delta []float32, arg []int32, w []float32, B, C, H, W, F, KH, KW, PQ int) {
	const op = "ConvPoolInputGrad"
	OH, OW := convOut(op, B, C, H, W, F, KH, KW)
	checkPooled(op, dsrc, delta, arg, B, C, H, W, F, PQ, OH, OW, 0, F)
	checkLen(op, "w", w, prod(op, F, C, KH, KW))
	if B == 0 {
		return
	}
	if FastPath() && W <= 16 && KW <= 8 {
		convPoolInputGradVec(dsrc, delta, arg, w, B, C, H, W, F, KH, KW, OH, PQ)
	} else {
		convPoolInputGradGeneric(dsrc, delta, arg, w, B, C, H, W, F, KH, KW, OH, PQ)
	}
}

// poolEntries lists one sample's non-zero pooled gradients grouped by the
// output row oy of their position, in (f, q) order within a row: d[j],
// f[j] and ox[j] for j in [start[oy], start[oy+1]).
type poolEntries struct {
	d     []float32
	f, ox []int
	start []int // OH+1
}

// bucket fills e from one sample's delta and arg (F·PQ entries each), with
// a counting sort on oy = arg/W. It has no data-dependent branches (the
// zero pattern of a gradient is unpredictable): zero entries are counted as
// 0 and written to a junk slot at the end of the buffers.
func (e *poolEntries) bucket(delta []float32, arg []int32, F, PQ, W, OH int) {
	st := e.start[:OH+1]
	clear(st)
	arg = arg[:len(delta)]
	w := uint32(W)
	for j, d := range delta {
		nz := 0
		if d != 0 {
			nz = 1
		}
		st[uint32(arg[j])/w+1] += nz
	}
	for oy := 0; oy < OH; oy++ {
		st[oy+1] += st[oy]
	}
	// Fill using st[oy] as the running cursor, then shift back.
	junk := len(e.d) - 1
	for j, d := range delta {
		u := uint32(arg[j])
		oy := u / w
		k := junk
		nz := 0
		if d != 0 {
			k, nz = st[oy], 1
		}
		e.d[k], e.f[k], e.ox[k] = d, j/PQ, int(u-oy*w)
		st[oy] += nz
	}
	for oy := OH; oy > 0; oy-- {
		st[oy] = st[oy-1]
	}
	st[0] = 0
}

var entriesPool freeList[poolEntries]

// getEntries returns pooled entry buffers for up to n entries (plus the
// junk slot) and OH rows; give them back with entriesPool.give.
func getEntries(n, OH int) *poolEntries {
	e := entriesPool.take(func(e *poolEntries) bool { return cap(e.d) >= n+1 && cap(e.start) >= OH+1 })
	if e == nil {
		e = new(poolEntries)
	}
	if cap(e.d) < n+1 {
		e.d, e.f, e.ox = make([]float32, n+1), make([]int, n+1), make([]int, n+1)
	}
	e.d, e.f, e.ox = e.d[:n+1], e.f[:n+1], e.ox[:n+1]
	if cap(e.start) < OH+1 {
		e.start = make([]int, OH+1)
	}
	e.start = e.start[:OH+1]
	return e
}

package kernels

import "fmt"

// Layouts of the convolution gradient-norm kernels, for B samples, T output
// positions, K = Cin·kh·kw patch entries and C output channels:
//
//	patches (B, T, K): patches[(i*T+t)*K+k] is entry k of the unfolded input
//	                   patch a_{i,t} under output position t of sample i (any
//	                   fixed order of k: the norm does not depend on it);
//	delta   (B, C, T): delta[(i*C+c)*T+t] = ∂L_i/∂z_{i,c,t}, the output
//	                   gradient in the conv's own NCHW layout (H·W = T).
//
// Sample i's weight gradient is G_i = Σ_t δ_{i,t} a_{i,t}ᵀ (C×K), where
// δ_{i,t} = delta[i, :, t], and its bias gradient is Σ_t δ_{i,t}.

// ConvNormMethod names a way to compute a conv layer's per-sample squared
// gradient norm.
type ConvNormMethod int

const (
	// ConvNormDirect materialises G_i one row at a time: cost T·K·C
	// multiply-adds per sample, less for every zero entry of delta.
	ConvNormDirect ConvNormMethod = iota
	// ConvNormGram uses ||G_i||² = Σ_{t,s} (a_t·a_s)(δ_t·δ_s), visiting each
	// unordered pair once: cost T(T+1)/2·(K+C) multiply-adds per sample,
	// less for positions whose δ_t is all zero and pairs with δ_t·δ_s = 0.
	ConvNormGram
)

// String returns "direct" or "gram".
func (m ConvNormMethod) String() string {
	switch m {
	case ConvNormDirect:
		return "direct"
	case ConvNormGram:
		return "gram"
	}
	return fmt.Sprintf("ConvNormMethod(%d)", int(m))
}

// Cost returns the number of multiply-adds method m spends per sample on a
// layer with T positions, K patch entries and C output channels when the
// output gradient has no zeros (see the constants).
func (m ConvNormMethod) Cost(T, K, C int) float64 {
	t, k, c := float64(T), float64(K), float64(C)
	switch m {
	case ConvNormDirect:
		return t * k * c
	case ConvNormGram:
		return t * (t + 1) / 2 * (k + c)
	}
	panic(fmt.Sprintf("kernels: Cost of unknown %v", m))
}

// ChooseConvNormMethod returns the cheaper method by Cost for a layer with T
// positions, K patch entries and C channels (ties go to ConvNormDirect). It is
// the choice AddConvGradNormSq makes. For the seed CNN it is ConvNormDirect
// for both conv layers (conv1: 144,000 against 5,558,400 multiply-adds;
// conv2: 320,000 against 561,600).
func ChooseConvNormMethod(T, K, C int) ConvNormMethod {
	if ConvNormGram.Cost(T, K, C) < ConvNormDirect.Cost(T, K, C) {
		return ConvNormGram
	}
	return ConvNormDirect
}

// ConvNormScratchLen returns the length of scratch the AddConvGradNormSq
// functions need for T positions, K patch entries and C channels; it is
// enough for every method.
func ConvNormScratchLen(T, K, C int) int {
	const op = "ConvNormScratchLen"
	g := prod(op, T, K+C)
	if K > g {
		return K
	}
	return g
}

// AddConvGradNormSq adds, for each of the B samples, the squared norm of
// sample i's gradient of a conv layer to dst, by the method
// ChooseConvNormMethod(T, K, C) picks for the layer. The result equals
// AddConvGradNormSqDirect's up to float64 rounding; see there for the math,
// the layouts and the arguments.
//
// The choice is made per layer from the sizes alone. Both methods skip zeros
// of delta, but the direct one gains more from them: behind a 2×2 max-pool
// (and a ReLU) at most one entry of delta in four is non-zero, which divides
// the direct cost by four or more, while a position t is zero in all C
// channels only rarely (at most (3/4)^C of them), so the Gram cost barely
// moves.
func AddConvGradNormSq(dst []float32, patches, delta []float32, B, T, K, C int, bias bool, scratch []float64) {
	const op = "AddConvGradNormSq"
	checkConvArgs(op, dst, patches, delta, B, T, K, C, scratch)
	if ChooseConvNormMethod(T, K, C) == ConvNormGram {
		addConvGradNormSq(dst, patches, delta, B, T, K, C, bias, scratch, convNormSqGram)
	} else {
		addConvGradNormSq(dst, patches, delta, B, T, K, C, bias, scratch, convNormSqDirect)
	}
}

// AddConvGradNormSqDirect adds, for each of the B samples, the squared
// Frobenius norm of sample i's gradient of a conv layer with C output
// channels to dst. With patches (B, T, K) and delta (B, C, T) as described at
// the top of this file, it is equal to
//
//	for i := 0; i < B; i++ {
//		for c := 0; c < C; c++ {
//			for k := 0; k < K; k++ {
//				g := Σ_t delta[(i*C+c)*T+t] * patches[(i*T+t)*K+k]   // G_i[c,k]
//				dst[i] += g*g
//			}
//			if bias {
//				bc := Σ_t delta[(i*C+c)*T+t]
//				dst[i] += bc*bc
//			}
//		}
//	}
//
// with the sums in float64 and one float32 rounding per dst element. It
// materialises G_i one row at a time (cost T·K·C per sample), skipping the
// zero entries of delta, which contribute nothing.
//
// dst is accumulated into (see AddDenseGradNormSq). scratch is work space of
// at least ConvNormScratchLen(T, K, C) elements, or nil to use an internal
// pool; its contents on entry do not matter. len(dst) must be B, len(patches)
// B*T*K and len(delta) B*C*T. The function panics if a size is negative or a
// length is wrong.
func AddConvGradNormSqDirect(dst []float32, patches, delta []float32, B, T, K, C int, bias bool, scratch []float64) {
	const op = "AddConvGradNormSqDirect"
	checkConvArgs(op, dst, patches, delta, B, T, K, C, scratch)
	addConvGradNormSq(dst, patches, delta, B, T, K, C, bias, scratch, convNormSqDirect)
}

// AddConvGradNormSqGram computes what AddConvGradNormSqDirect does by the
// Gram form
//
//	||G_i||_F² = Σ_t Σ_s (a_{i,t}·a_{i,s}) (δ_{i,t}·δ_{i,s})
//
// It first packs, in float64, the positions whose δ_{i,t} is not all zero,
// then visits each unordered pair of them once (cost T'(T'+1)/2·(K+C) for T'
// such positions). The bias term, the arguments and the accumulation into dst
// are as for AddConvGradNormSqDirect.
func AddConvGradNormSqGram(dst []float32, patches, delta []float32, B, T, K, C int, bias bool, scratch []float64) {
	const op = "AddConvGradNormSqGram"
	checkConvArgs(op, dst, patches, delta, B, T, K, C, scratch)
	addConvGradNormSq(dst, patches, delta, B, T, K, C, bias, scratch, convNormSqGram)
}

// addConvGradNormSq runs the per-sample kernel normSq over the batch without
// checks. normSq is called once per sample, never inside the inner loops.
func addConvGradNormSq(dst []float32, patches, delta []float32, B, T, K, C int, bias bool, scratch []float64,
	normSq func(work []float64, a, d []float32, T, K, C int) float64) {
	work, buf := convScratch(scratch, T, K, C)
	for i := range B {
		d := delta[i*C*T : (i+1)*C*T]
		v := normSq(work, patches[i*T*K:(i+1)*T*K], d, T, K, C)
		if bias {
			v += convBiasNormSq(d, T)
		}
		dst[i] = float32(float64(dst[i]) + v)
	}
	if buf != nil {
		f64Pool.put(buf)
	}
}

func checkConvArgs(op string, dst, patches, delta []float32, B, T, K, C int, scratch []float64) {
	checkLen(op, "dst", dst, B)
	checkLen(op, "patches", patches, prod(op, B, T, K))
	checkLen(op, "delta", delta, prod(op, B, C, T))
	if scratch != nil {
		if n := ConvNormScratchLen(T, K, C); len(scratch) < n {
			panic(fmt.Sprintf("kernels: %s: len(scratch) = %d, want at least ConvNormScratchLen = %d", op, len(scratch), n))
		}
	}
}

// convScratch returns scratch, or a pooled buffer (returned as buf, to be
// given back with putF64) when scratch is nil.
func convScratch(scratch []float64, T, K, C int) (work []float64, buf *[]float64) {
	if scratch != nil {
		return scratch, nil
	}
	buf = f64Pool.get(ConvNormScratchLen(T, K, C))
	return *buf, buf
}

// convBiasNormSq returns ||Σ_t δ_t||² = Σ_c (Σ_t d[c*T+t])² for one sample.
func convBiasNormSq(d []float32, T int) float64 {
	var s float64
	for len(d) >= T && T > 0 {
		var b float64
		for _, v := range d[:T] {
			b += float64(v)
		}
		s += b * b
		d = d[T:]
	}
	return s
}

// convNormSqDirect returns ||Σ_t δ_t a_tᵀ||_F² for one sample: a is (T, K),
// d is (C, T), work has at least K elements. It builds row c of G in work,
// G[c,:] = Σ_t d[c,t]·a[t,:] (skipping zero d[c,t]), and adds its squares.
func convNormSqDirect(work []float64, a, d []float32, T, K, C int) float64 {
	var tot float64
	row := work[:K]
	for c := range C {
		clear(row)
		dc := d[c*T : (c+1)*T]
		for t, v := range dc {
			if v == 0 {
				continue
			}
			f := float64(v)
			at := a[t*K : (t+1)*K]
			r := row[:len(at)]
			for k, x := range at {
				r[k] += f * float64(x)
			}
		}
		tot += sumSq64(row)
	}
	return tot
}

// convNormSqGram returns Σ_{t,s} (a_t·a_s)(δ_t·δ_s) for one sample: a is
// (T, K), d is (C, T), work has at least T·(K+C) elements.
func convNormSqGram(work []float64, a, d []float32, T, K, C int) float64 {
	// Pack the positions with a non-zero gradient: A is (n, K), D is (n, C).
	A := work[:T*K]
	D := work[T*K : T*(K+C)]
	n := 0
	for t := range T {
		nz := false
		for j := t; j < len(d); j += T {
			if d[j] != 0 {
				nz = true
				break
			}
		}
		if !nz {
			continue
		}
		dn := D[n*C : (n+1)*C]
		for c := range dn {
			dn[c] = float64(d[c*T+t])
		}
		an := A[n*K : (n+1)*K]
		at := a[t*K : (t+1)*K]
		for k, x := range at {
			an[k] = float64(x)
		}
		n++
	}
	var diag, off float64
	for r := range n {
		ar := A[r*K : (r+1)*K]
		dr := D[r*C : (r+1)*C]
		diag += dot64(ar, ar) * dot64(dr, dr)
		for s := range r {
			dd := dot64(dr, D[s*C:(s+1)*C])
			if dd == 0 {
				continue
			}
			off += dot64(ar, A[s*K:(s+1)*K]) * dd
		}
	}
	return diag + 2*off
}

// dot64 returns Σ x[k]·y[k]; len(y) must be at least len(x).
func dot64(x, y []float64) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	for len(x) >= 4 {
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
		x, y = x[4:], y[4:]
	}
	for k, v := range x {
		s0 += v * y[k]
	}
	return (s0 + s1) + (s2 + s3)
}

// sumSq64 returns Σ x[k]².
func sumSq64(x []float64) float64 {
	var s0, s1, s2, s3 float64
	for len(x) >= 4 {
		s0 += x[0] * x[0]
		s1 += x[1] * x[1]
		s2 += x[2] * x[2]
		s3 += x[3] * x[3]
		x = x[4:]
	}
	for _, v := range x {
		s0 += v * v
	}
	return (s0 + s1) + (s2 + s3)
}

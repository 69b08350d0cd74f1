//go:build goexperiment.simd && amd64

package kernels

func sgdMomentumSIMD(w, v, g []float32, lr, mu float32) {
	n := len(w)
	v, g = v[:n], g[:n]
	vm, vl := bcast8(mu), bcast8(-lr)
	j := 0
	for ; j+8 <= n; j += 8 {
		vj := load8(v[j:]).MulAdd(vm, load8(g[j:]))
		vj.StoreSlice(v[j:])
		vj.MulAdd(vl, load8(w[j:])).StoreSlice(w[j:])
	}
	if j < n {
		// The tail with masked lanes, so that every element gets the same
		// fused operations wherever a caller splits the slices.
		vj := loadPart(v[j:]).MulAdd(vm, loadPart(g[j:]))
		storePart(vj, v[j:])
		storePart(vj.MulAdd(vl, loadPart(w[j:])), w[j:])
	}
}

package kernels

import "fmt"

// SGDMomentum applies one step of SGD with momentum to the parameters w
// with velocity v and gradient g: it is equal to
//
//	for j := range w {
//		v[j] = mu*v[j] + g[j]
//		w[j] = w[j] - lr*v[j]
//	}
//
// in float32 (each with one fused multiply-add on the vector path, two
// roundings on the portable one). Elements are independent, so callers may
// split the slices. It panics unless len(w) == len(v) == len(g), or if lr or
// mu is not finite.
func SGDMomentum(w, v, g []float32, lr, mu float32) {
	const op = "SGDMomentum"
	checkLen(op, "v", v, len(w))
	checkLen(op, "g", g, len(w))
	if lr-lr != 0 || mu-mu != 0 {
		panic(fmt.Sprintf("kernels: %s: lr = %v, mu = %v must be finite", op, lr, mu))
	}
	if FastPath() {
		sgdAsm(w, v, g, lr, mu)
		return
	}
	v, g = v[:len(w)], g[:len(w)]
	for j := range w {
		vj := float32(mu*v[j]) + g[j]
		v[j] = vj
		w[j] -= float32(lr * vj)
	}
}

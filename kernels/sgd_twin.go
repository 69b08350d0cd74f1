package kernels

// SGDMomentumTwin is the plain-Go twin of the device sgd_momentum
// (update.cu): one step of SGD with momentum, in float32 with every
// operation rounded (no fused multiply-add), equal to
//
//	for i := range w {
//		v[i] = mu*v[i] + g[i]
//		w[i] = w[i] - lr*v[i]
//	}
//
// which is also what the CPU backend computes, so the device result is
// bit-identical. It panics unless w, v and g have equal lengths.
func SGDMomentumTwin(w, v, g []float32, lr, mu float32) {
	const op = "SGDMomentumTwin"
	checkLen(op, "v", v, len(w))
	checkLen(op, "g", g, len(w))
	for i := range w {
		// The conversions force a rounding after each operation (the Go
		// spec allows fusing x*y + z otherwise).
		vv := float32(mu*v[i]) + g[i]
		v[i] = vv
		w[i] -= float32(lr * vv)
	}
}

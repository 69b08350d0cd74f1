package kernels

// ReLUBackTwin is the plain-Go twin of the device relu_bwd (pool.cu): the
// backward of h = max(z, 0) given the output h. It is equal to
//
//	for i := range dz {
//		dz[i] = h[i] > 0 ? dh[i] : 0
//	}
//
// dz may be dh itself. It panics unless the three lengths are equal.
func ReLUBackTwin(dz, dh, h []float32) {
	const op = "ReLUBackTwin"
	checkLen(op, "dh", dh, len(dz))
	checkLen(op, "h", h, len(dz))
	for i := range dz {
		if h[i] > 0 {
			dz[i] = dh[i]
		} else {
			dz[i] = 0
		}
	}
}

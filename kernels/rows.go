package kernels

// AddBiasReLU adds bias[j] to every row of the rows×cols matrix x (row
// stride ld) and, when relu is set, clamps the result at 0. It is equal to
//
//	for i := 0; i < rows; i++ {
//		for j := 0; j < cols; j++ {
//			v := x[i*ld+j] + bias[j]
//			if relu && !(v > 0) {
//				v = 0 // also for NaN
//			}
//			x[i*ld+j] = v
//		}
//	}
//
// It panics if a size is negative, ld < max(1, cols), or a slice is too
// short.
func AddBiasReLU(x []float32, ld int, bias []float32, rows, cols int, relu bool) {
	const op = "AddBiasReLU"
	prod(op, rows, cols)
	checkMatrix(op, "x", x, rows, cols, ld)
	checkLen(op, "bias", bias, cols)
	if FastPath() {
		addBiasReLUVec(x, ld, bias, rows, cols, relu)
		return
	}
	for i := 0; i < rows; i++ {
		row := x[i*ld : i*ld+cols]
		for j, b := range bias {
			v := row[j] + b
			if relu && !(v > 0) {
				v = 0
			}
			row[j] = v
		}
	}
}

// ReLUMask passes a gradient through a ReLU (or any unit whose output is 0
// where its gradient is): it is equal to
//
//	for j := range dst {
//		if out[j] > 0 {
//			dst[j] = grad[j]
//		} else {
//			dst[j] = 0
//		}
//	}
//
// dst may be grad. It panics unless the three lengths are equal.
func ReLUMask(dst, grad, out []float32) {
	const op = "ReLUMask"
	checkLen(op, "grad", grad, len(dst))
	checkLen(op, "out", out, len(dst))
	if FastPath() {
		reluMaskVec(dst, grad, out)
		return
	}
	grad, out = grad[:len(dst)], out[:len(dst)]
	for j := range dst {
		g := grad[j]
		if !(out[j] > 0) {
			g = 0
		}
		dst[j] = g
	}
}

// ScaleRows multiplies row i of the rows×cols matrix src by s[i]:
// dst[i*cols+j] = s[i] * src[i*cols+j] (one rounding). dst may be src. It
// panics if a size is negative or a length is wrong.
func ScaleRows(dst, src []float32, s []float32, rows, cols int) {
	const op = "ScaleRows"
	n := prod(op, rows, cols)
	checkLen(op, "dst", dst, n)
	checkLen(op, "src", src, n)
	checkLen(op, "s", s, rows)
	if FastPath() {
		scaleRowsVec(dst, src, s, rows, cols)
		return
	}
	for i, si := range s {
		d := dst[i*cols : (i+1)*cols]
		for j, v := range src[i*cols : (i+1)*cols] {
			d[j] = si * v
		}
	}
}

// ColumnSums writes the sum of each column of the rows×cols matrix src
// (row stride ld) into dst, adding the rows in increasing order: it is
// equal to
//
//	for j := 0; j < cols; j++ {
//		s := float32(0) // s := dst[j] when accumulate
//		for i := 0; i < rows; i++ {
//			s += src[i*ld+j]
//		}
//		dst[j] = s
//	}
//
// (a bias gradient Σ_i δ_i). Columns are independent, so callers may split
// them. It panics if a size is negative, ld < max(1, cols), or a slice has
// the wrong length (dst) or is too short (src).
func ColumnSums(dst []float32, accumulate bool, src []float32, ld, rows, cols int) {
	const op = "ColumnSums"
	prod(op, rows, cols)
	checkLen(op, "dst", dst, cols)
	checkMatrix(op, "src", src, rows, cols, ld)
	if !accumulate {
		clear(dst)
	}
	if FastPath() {
		columnSumsVec(dst, src, ld, rows, cols)
		return
	}
	for i := 0; i < rows; i++ {
		for j, v := range src[i*ld : i*ld+cols] {
			dst[j] += v
		}
	}
}

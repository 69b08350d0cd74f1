//go:build goexperiment.simd && amd64

package kernels

func addBiasReLUSIMD(x []float32, ld int, bias []float32, rows, cols int, relu bool) {
	var zero f32x8
	c8 := cols &^ 7
	for i := 0; i < rows; i++ {
		row := x[i*ld : i*ld+cols]
		j := 0
		for ; j < c8; j += 8 {
			v := load8(row[j:]).Add(load8(bias[j:]))
			if relu {
				v = v.Merge(zero, v.Greater(zero))
			}
			v.StoreSlice(row[j:])
		}
		if j < cols {
			v := loadPart(row[j:]).Add(loadPart(bias[j:]))
			if relu {
				v = v.Merge(zero, v.Greater(zero))
			}
			storePart(v, row[j:])
		}
	}
}

func reluMaskSIMD(dst, grad, out []float32) {
	var zero f32x8
	n := len(dst)
	grad, out = grad[:n], out[:n]
	j := 0
	for ; j+8 <= n; j += 8 {
		load8(grad[j:]).Merge(zero, load8(out[j:]).Greater(zero)).StoreSlice(dst[j:])
	}
	for ; j < n; j++ {
		g := grad[j]
		if !(out[j] > 0) {
			g = 0
		}
		dst[j] = g
	}
}

func scaleRowsSIMD(dst, src []float32, s []float32, rows, cols int) {
	for i, si := range s {
		d := dst[i*cols : (i+1)*cols]
		x := src[i*cols : (i+1)*cols]
		v := bcast8(si)
		j := 0
		for ; j+8 <= cols; j += 8 {
			v.Mul(load8(x[j:])).StoreSlice(d[j:])
		}
		for ; j < cols; j++ {
			d[j] = si * x[j]
		}
	}
}

func sumRowsSIMD(dst []float32, src []float32, ld, rows, cols int) {
	c8 := cols &^ 7
	for j := 0; j < c8; j += 8 {
		s := load8(dst[j:])
		for i := 0; i < rows; i++ {
			s = s.Add(load8(src[i*ld+j:]))
		}
		s.StoreSlice(dst[j:])
	}
	for i := 0; i < rows; i++ {
		for j, v := range src[i*ld+c8 : i*ld+cols] {
			dst[c8+j] += v
		}
	}
}

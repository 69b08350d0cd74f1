package kernels

// convPoolReLUGeneric is the portable path of ConvPoolReLU. Like the
// vector path it computes the conv on the flat full-width grid u = oy·W+ox,
// u < U = (OH−1)·W+OW (columns ox ≥ OW are computed and ignored by the
// pooling), here 2 filters × 4 positions at a time in 8 scalar registers;
// the last block of positions overlaps the one before. Every element is
// summed over (c, ky, kx) in increasing order.
func convPoolReLUGeneric(out []float32, arg []int32, src, w, bias []float32, B, C, H, W, F, KH, KW int) {
	OH, OW := H-KH+1, W-KW+1
	PQ := (OH / 2) * (OW / 2)
	U := (OH-1)*W + OW
	K := C * KH * KW
	HW := H * W
	buf := f32Pool.get(2 * U)
	defer f32Pool.put(buf)
	z := *buf
	for i := 0; i < B; i++ {
		img := src[i*C*HW : (i+1)*C*HW]
		for f := 0; f < F; f += 2 {
			nf := min(2, F-f)
			w0 := w[f*K : (f+1)*K]
			w1 := w[(f+nf-1)*K : (f+nf)*K] // the same filter when nf == 1
			for u := 0; u < U; u += 4 {
				u0 := u
				if U >= 4 {
					u0 = min(u, U-4)
				}
				if u0+4 > U { // fewer than 4 positions in all
					for v := u0; v < U; v++ {
						z[v], z[U+v] = convDot(img, w0, C, HW, W, KH, KW, v), convDot(img, w1, C, HW, W, KH, KW, v)
					}
					continue
				}
				var a0, a1, a2, a3, b0, b1, b2, b3 float32
				tap := 0
				for c := 0; c < C; c++ {
					for ky := 0; ky < KH; ky++ {
						row := img[c*HW+ky*W+u0 : c*HW+ky*W+u0+KW+3]
						for kx := 0; kx < KW; kx++ {
							x := row[kx : kx+4 : kx+4]
							x0, x1, x2, x3 := x[0], x[1], x[2], x[3]
							v := w0[tap]
							a0 += float32(v * x0)
							a1 += float32(v * x1)
							a2 += float32(v * x2)
							a3 += float32(v * x3)
							v = w1[tap]
							b0 += float32(v * x0)
							b1 += float32(v * x1)
							b2 += float32(v * x2)
							b3 += float32(v * x3)
							tap++
						}
					}
				}
				r := z[u0 : u0+4 : u0+4]
				r[0], r[1], r[2], r[3] = a0, a1, a2, a3
				r = z[U+u0 : U+u0+4 : U+u0+4]
				r[0], r[1], r[2], r[3] = b0, b1, b2, b3
			}
			j := (i*F + f) * PQ
			poolReLU(out[j:j+nf*PQ], arg[j:j+nf*PQ], z, W, U, bias[f:f+nf], nf, OH, OW, W)
		}
	}
}

// convDot returns the conv output at flat position u of one filter.
func convDot(img, wf []float32, C, HW, W, KH, KW, u int) float32 {
	var s float32
	tap := 0
	for c := 0; c < C; c++ {
		for ky := 0; ky < KH; ky++ {
			for kx := 0; kx < KW; kx++ {
				s += float32(wf[tap] * img[c*HW+ky*W+kx+u])
				tap++
			}
		}
	}
	return s
}

// convPoolWeightGradGeneric is the portable path of AddConvPoolWeightGrad:
// per filter and sample it builds G_i in a pooled buffer, then adds it.
func convPoolWeightGradGeneric(dw, db []float32, sq []float64, src, delta []float32, arg []int32, rw []float32, B, C, H, W, F, KH, KW, PQ, f0, f1 int) {
	K := C * KH * KW
	buf := f32Pool.get(K)
	defer f32Pool.put(buf)
	g := *buf
	for f := f0; f < f1; f++ {
		dwf := dw[f*K : (f+1)*K]
		for i := 0; i < B; i++ {
			img := src[i*C*H*W : (i+1)*C*H*W]
			dd := delta[(i*F+f)*PQ : (i*F+f+1)*PQ]
			ad := arg[(i*F+f)*PQ : (i*F+f+1)*PQ]
			clear(g)
			var gb float32
			n := 0
			for q, d := range dd {
				if d == 0 {
					continue
				}
				n++
				t := int(ad[q])
				oy, ox := t/W, t%W
				gb += d
				k := 0
				for c := 0; c < C; c++ {
					for ky := 0; ky < KH; ky++ {
						in := img[(c*H+oy+ky)*W+ox : (c*H+oy+ky)*W+ox+KW]
						gr := g[k : k+KW]
						for kx, x := range in {
							gr[kx] += float32(d * x)
						}
						k += KW
					}
				}
			}
			if n == 0 {
				continue
			}
			if rw != nil {
				wi := rw[i]
				for k, v := range g {
					dwf[k] += float32(wi * v)
				}
				if db != nil {
					db[f] += float32(wi * gb)
				}
			} else {
				for k, v := range g {
					dwf[k] += v
				}
				if db != nil {
					db[f] += gb
				}
			}
			if sq != nil {
				sq[i] += sumSq32(g) + float64(gb)*float64(gb)
			}
		}
	}
}

// convPoolInputGradGeneric is the portable path of ConvPoolInputGrad: per
// sample it buckets the non-zero gradients by output row, then sums each
// input row's terms in the documented order.
func convPoolInputGradGeneric(dsrc []float32, delta []float32, arg []int32, w []float32, B, C, H, W, F, KH, KW, OH, PQ int) {
	K := C * KH * KW
	e := getEntries(F*PQ, OH)
	defer entriesPool.give(e)
	for i := 0; i < B; i++ {
		e.bucket(delta[i*F*PQ:(i+1)*F*PQ], arg[i*F*PQ:(i+1)*F*PQ], F, PQ, W, OH)
		img := dsrc[i*C*H*W : (i+1)*C*H*W]
		clear(img)
		for c := 0; c < C; c++ {
			for y := 0; y < H; y++ {
				row := img[(c*H+y)*W : (c*H+y+1)*W]
				for ky := 0; ky < KH; ky++ {
					oy := y - ky
					if oy < 0 || oy >= OH {
						continue
					}
					for j := e.start[oy]; j < e.start[oy+1]; j++ {
						d, ox := e.d[j], e.ox[j]
						wr := w[e.f[j]*K+(c*KH+ky)*KW : e.f[j]*K+(c*KH+ky+1)*KW]
						out := row[ox : ox+KW]
						for kx, v := range wr {
							out[kx] += float32(d * v)
						}
					}
				}
			}
		}
	}
}

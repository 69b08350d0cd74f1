//go:build goexperiment.simd && amd64

package kernels

import "simd/archsimd"

// convPoolReLUSIMD is the vector path of ConvPoolReLU. Per sample and pair
// of filters (then a single filter) it computes the conv on the flat
// full-width grid u = oy·W + ox, u < U = (OH−1)·W + OW, where the input of
// tap (c, ky, kx) is img[c·H·W + ky·W + kx + u]: a contiguous run, so the
// loop is plain 8-lane loads and fused multiply-adds, 32 positions at a time
// (the last block overlaps the one before instead of masking). Columns
// ox ≥ OW of that grid are computed and ignored by the pooling. Every kept
// element is a chain of multiply-adds over (c, ky, kx) in increasing order,
// whichever block computes it.
func convPoolReLUSIMD(out []float32, arg []int32, src, w, bias []float32, B, C, H, W, F, KH, KW int) {
	OH, OW := H-KH+1, W-KW+1
	PQ := (OH / 2) * (OW / 2)
	K := C * KH * KW
	g := convGeom{C: C, H: H, W: W, KH: KH, KW: KW}
	// Output vectors of 8 lanes: (input offset, output offset) pairs. When
	// OW is a multiple of 8 they tile the output rows exactly (z has row
	// stride OW); otherwise they tile the flat grid u < U (row stride W),
	// the last vector overlapping the one before.
	var vin, vout []int
	rowMode := OW%8 == 0 && OH*OW >= 32
	ld, U := OW, OH*OW
	if !rowMode {
		ld, U = W, (OH-1)*W+OW
	}
	vb := intPool.get(2 * (U/8 + 4))
	defer intPool.put(vb)
	vin, vout = (*vb)[:0], (*vb)[U/8+4:U/8+4]
	if rowMode {
		for oy := 0; oy < OH; oy++ {
			for ox := 0; ox < OW; ox += 8 {
				vin, vout = append(vin, oy*W+ox), append(vout, oy*OW+ox)
			}
		}
	} else if U >= 32 {
		for u := 0; u < U; u += 8 {
			vin, vout = append(vin, min(u, U-8)), append(vout, min(u, U-8))
		}
	}
	buf := f32Pool.get(2 * U)
	defer f32Pool.put(buf)
	z := *buf
	for i := 0; i < B; i++ {
		img := src[i*C*H*W : (i+1)*C*H*W]
		for f := 0; f < F; f += 2 {
			nf := min(2, F-f)
			w0 := w[f*K : (f+1)*K]
			if len(vin) == 0 { // tiny outputs: masked vectors
				for u := 0; u < U; u += 8 {
					g.conv1xPart(z, img, w0, u, min(8, U-u))
					if nf == 2 {
						g.conv1xPart(z[U:], img, w[(f+1)*K:(f+2)*K], u, min(8, U-u))
					}
				}
			} else {
				for j := 0; j < len(vin); j += 4 {
					j0 := min(j, len(vin)-4)
					if nf == 2 {
						g.conv2x32(z, U, img, w0, w[(f+1)*K:(f+2)*K], vin[j0:j0+4], vout[j0:j0+4])
					} else {
						g.conv1x32(z, img, w0, vin[j0:j0+4], vout[j0:j0+4])
					}
				}
			}
			j := (i*F + f) * PQ
			poolReLUSIMD(out[j:j+nf*PQ], arg[j:j+nf*PQ], z, ld, U, bias[f:f+nf], nf, OH, OW, W)
		}
	}
}

type convGeom struct{ C, H, W, KH, KW int }

// conv2x32 computes 4 output vectors of 8 positions of 2 filters into z
// (plane stride U): vector j starts at input offset vin[j] (oy·W+ox) and
// output offset vout[j].
func (g convGeom) conv2x32(z []float32, U int, img, w0, w1 []float32, vin, vout []int) {
	var a0, a1, a2, a3, b0, b1, b2, b3 f32x8
	w1 = w1[:len(w0)]
	tap := 0
	HW := g.H * g.W
	ip := base(img)
	i0, i1, i2, i3 := vin[0], vin[1], vin[2], vin[3]
	hi := max(i0, i1, i2, i3) + g.KW + 7 // one past the last lane a tap row reads
	for c := 0; c < g.C; c++ {
		for ky := 0; ky < g.KH; ky++ {
			first := c*HW + ky*g.W
			_ = img[first : first+hi] // every lane read below
			q := at(ip, first)
			for kx := 0; kx < g.KW; kx++ {
				r := at(q, kx)
				x0 := loadAt(at(r, i0))
				x1 := loadAt(at(r, i1))
				x2 := loadAt(at(r, i2))
				x3 := loadAt(at(r, i3))
				v := bcast8(w0[tap])
				a0 = x0.MulAdd(v, a0)
				a1 = x1.MulAdd(v, a1)
				a2 = x2.MulAdd(v, a2)
				a3 = x3.MulAdd(v, a3)
				v = bcast8(w1[tap])
				b0 = x0.MulAdd(v, b0)
				b1 = x1.MulAdd(v, b1)
				b2 = x2.MulAdd(v, b2)
				b3 = x3.MulAdd(v, b3)
				tap++
			}
		}
	}
	a0.StoreSlice(z[vout[0]:])
	a1.StoreSlice(z[vout[1]:])
	a2.StoreSlice(z[vout[2]:])
	a3.StoreSlice(z[vout[3]:])
	b0.StoreSlice(z[U+vout[0]:])
	b1.StoreSlice(z[U+vout[1]:])
	b2.StoreSlice(z[U+vout[2]:])
	b3.StoreSlice(z[U+vout[3]:])
}

// conv1x32 is conv2x32 for one filter.
func (g convGeom) conv1x32(z []float32, img, wf []float32, vin, vout []int) {
	var a0, a1, a2, a3 f32x8
	tap := 0
	HW := g.H * g.W
	ip := base(img)
	i0, i1, i2, i3 := vin[0], vin[1], vin[2], vin[3]
	hi := max(i0, i1, i2, i3) + g.KW + 7
	for c := 0; c < g.C; c++ {
		for ky := 0; ky < g.KH; ky++ {
			first := c*HW + ky*g.W
			_ = img[first : first+hi]
			q := at(ip, first)
			for kx := 0; kx < g.KW; kx++ {
				r := at(q, kx)
				v := bcast8(wf[tap])
				a0 = loadAt(at(r, i0)).MulAdd(v, a0)
				a1 = loadAt(at(r, i1)).MulAdd(v, a1)
				a2 = loadAt(at(r, i2)).MulAdd(v, a2)
				a3 = loadAt(at(r, i3)).MulAdd(v, a3)
				tap++
			}
		}
	}
	a0.StoreSlice(z[vout[0]:])
	a1.StoreSlice(z[vout[1]:])
	a2.StoreSlice(z[vout[2]:])
	a3.StoreSlice(z[vout[3]:])
}

// conv1xPart computes n ≤ 8 flat positions u0… of one filter (masked loads,
// so nothing past the last input element is read).
func (g convGeom) conv1xPart(z []float32, img, wf []float32, u0, n int) {
	var a f32x8
	tap := 0
	HW := g.H * g.W
	for ch := 0; ch < g.C; ch++ {
		for ky := 0; ky < g.KH; ky++ {
			base := ch*HW + ky*g.W + u0
			for kx := 0; kx < g.KW; kx++ {
				x := loadPart(img[base+kx : base+kx+n])
				a = x.MulAdd(bcast8(wf[tap]), a)
				tap++
			}
		}
	}
	storePart(a, z[u0:u0+n])
}

// windowOffsets are the offsets 2j of the first column of 4 consecutive
// pooling windows.
var windowOffsets = [4]int32{0, 2, 4, 6}

// poolReLUSIMD is poolReLU with 4 windows per step: the even and odd
// columns of two input rows are split by shuffles, and the max, its position
// and the bias + ReLU are computed with compares and blends in the same order
// as poolReLU, so both give identical results.
func poolReLUSIMD(out []float32, arg []int32, z []float32, ld, ps int, bias []float32, nf, OH, OW, W int) {
	PH, PW := OH/2, OW/2
	PW4 := PW &^ 3
	if PW4 == 0 {
		poolReLU(out, arg, z, ld, ps, bias, nf, OH, OW, W)
		return
	}
	offs := archsimd.LoadInt32x4Slice(windowOffsets[:])
	one := archsimd.BroadcastInt32x4(1)
	down := archsimd.BroadcastInt32x4(int32(W))
	var zero archsimd.Float32x4
	for f := 0; f < nf; f++ {
		bv := archsimd.BroadcastFloat32x4(bias[f])
		zf := z[f*ps:]
		o := out[f*PH*PW : (f+1)*PH*PW]
		a := arg[f*PH*PW : (f+1)*PH*PW]
		for py := 0; py < PH; py++ {
			r0 := zf[2*py*ld : 2*py*ld+2*PW]
			r1 := zf[(2*py+1)*ld : (2*py+1)*ld+2*PW]
			for px := 0; px < PW4; px += 4 {
				lo := archsimd.LoadFloat32x4Slice(r0[2*px:])
				hi := archsimd.LoadFloat32x4Slice(r0[2*px+4:])
				e0 := lo.SelectFromPair(0, 2, 4, 6, hi)
				o0 := lo.SelectFromPair(1, 3, 5, 7, hi)
				lo = archsimd.LoadFloat32x4Slice(r1[2*px:])
				hi = archsimd.LoadFloat32x4Slice(r1[2*px+4:])
				e1 := lo.SelectFromPair(0, 2, 4, 6, hi)
				o1 := lo.SelectFromPair(1, 3, 5, 7, hi)
				corner := archsimd.BroadcastInt32x4(int32(2*py*W + 2*px)).Add(offs)
				m, pos := e0, corner
				k := o0.Greater(m)
				m, pos = o0.Merge(m, k), corner.Add(one).Merge(pos, k)
				corner = corner.Add(down)
				k = e1.Greater(m)
				m, pos = e1.Merge(m, k), corner.Merge(pos, k)
				k = o1.Greater(m)
				m, pos = o1.Merge(m, k), corner.Add(one).Merge(pos, k)
				m = m.Add(bv)
				m = m.Merge(zero, m.Greater(zero))
				m.StoreSlice(o[py*PW+px:])
				pos.StoreSlice(a[py*PW+px:])
			}
		}
		if PW4 < PW {
			// The last PW−PW4 windows of every row.
			for py := 0; py < PH; py++ {
				for px := PW4; px < PW; px++ {
					m, pos := poolWindow(zf, ld, W, py, px)
					m += bias[f]
					if !(m > 0) {
						m = 0
					}
					o[py*PW+px], a[py*PW+px] = m, pos
				}
			}
		}
	}
}

// convPoolWeightGradSIMD is the vector path of AddConvPoolWeightGrad for
// kernels at most 8 wide. Per filter it first compacts the non-zero
// gradients and the offsets of their receptive fields, without branches,
// with each sample's start. Then, per group of 5 filter rows (c, ky…) of one
// channel, whose inputs are 5 rows of one plane W apart, it keeps the 5 rows
// of dw and of the current sample's G_i in registers, one vector of KW lanes
// each (lanes ≥ KW hold junk and are never stored or squared), builds G_i
// over the sample's entries and adds rw[i]·G_i.
func convPoolWeightGradSIMD(dw, db []float32, sq []float64, src, delta []float32, arg []int32, rw []float32, B, C, H, W, F, KH, KW, PQ, f0, f1 int) {
	K := C * KH * KW
	HW := H * W
	S := C * HW
	dbuf, obuf, sbuf := f32Pool.get(B*PQ), intPool.get(B*PQ), intPool.get(B+1)
	defer f32Pool.put(dbuf)
	defer intPool.put(obuf)
	defer intPool.put(sbuf)
	sp := base(src)
	var rows [5][8]float32
	for f := f0; f < f1; f++ {
		ds, os, sb := *dbuf, *obuf, *sbuf
		n := 0
		for i := 0; i < B; i++ {
			sb[i] = n
			dd := delta[(i*F+f)*PQ : (i*F+f+1)*PQ]
			ad := arg[(i*F+f)*PQ : (i*F+f+1)*PQ]
			ad = ad[:len(dd)]
			first := i * S
			for q, d := range dd {
				ds[n] = d
				os[n] = first + int(ad[q])
				nz := 0
				if d != 0 {
					nz = 1
				}
				n += nz
			}
		}
		sb[B] = n
		// Bias: g_i = Σ_q d_q per sample.
		for i := 0; i < B; i++ {
			if sb[i] == sb[i+1] {
				continue
			}
			var gb float32
			for _, d := range ds[sb[i]:sb[i+1]] {
				gb += d
			}
			if db != nil {
				if rw != nil {
					db[f] += float32(rw[i] * gb)
				} else {
					db[f] += gb
				}
			}
			if sq != nil {
				sq[i] += float64(gb) * float64(gb)
			}
		}
		g := dw[f*K : (f+1)*K]
		for c := 0; c < C; c++ {
			for ky0 := 0; ky0 < KH; ky0 += 5 {
				nr := min(5, KH-ky0)
				row0 := c*KH + ky0
				var wacc [5]f32x8
				for j := 0; j < nr; j++ {
					wacc[j] = loadPart(g[(row0+j)*KW : (row0+j+1)*KW])
				}
				w0, w1, w2, w3, w4 := wacc[0], wacc[1], wacc[2], wacc[3], wacc[4]
				s1, s2, s3, s4 := min(1, nr-1)*W, min(2, nr-1)*W, min(3, nr-1)*W, min(4, nr-1)*W
				off := c*HW + ky0*W
				span := s4 + 8 // elements one group reads from its first row
				for i := 0; i < B; i++ {
					j0, j1 := sb[i], sb[i+1]
					if j0 == j1 {
						continue
					}
					var a0, a1, a2, a3, a4 f32x8
					oi := os[j0:j1]
					for j, d := range ds[j0:j1] {
						first := oi[j] + off
						v := bcast8(d)
						if first+span <= len(src) {
							q := at(sp, first)
							a0 = loadAt(q).MulAdd(v, a0)
							a1 = loadAt(at(q, s1)).MulAdd(v, a1)
							a2 = loadAt(at(q, s2)).MulAdd(v, a2)
							a3 = loadAt(at(q, s3)).MulAdd(v, a3)
							a4 = loadAt(at(q, s4)).MulAdd(v, a4)
						} else {
							a0 = loadNear(src, first, KW).MulAdd(v, a0)
							a1 = loadNear(src, first+s1, KW).MulAdd(v, a1)
							a2 = loadNear(src, first+s2, KW).MulAdd(v, a2)
							a3 = loadNear(src, first+s3, KW).MulAdd(v, a3)
							a4 = loadNear(src, first+s4, KW).MulAdd(v, a4)
						}
					}
					if rw != nil {
						v := bcast8(rw[i])
						w0, w1, w2, w3, w4 = a0.MulAdd(v, w0), a1.MulAdd(v, w1), a2.MulAdd(v, w2), a3.MulAdd(v, w3), a4.MulAdd(v, w4)
					} else {
						w0, w1, w2, w3, w4 = w0.Add(a0), w1.Add(a1), w2.Add(a2), w3.Add(a3), w4.Add(a4)
					}
					if sq != nil {
						a0.Store(&rows[0])
						a1.Store(&rows[1])
						a2.Store(&rows[2])
						a3.Store(&rows[3])
						a4.Store(&rows[4])
						var t float64
						for r := 0; r < nr; r++ {
							for _, x := range rows[r][:KW] {
								t += float64(x) * float64(x)
							}
						}
						sq[i] += t
					}
				}
				wacc = [5]f32x8{w0, w1, w2, w3, w4}
				for j := 0; j < nr; j++ {
					storePart(wacc[j], g[(row0+j)*KW:(row0+j+1)*KW])
				}
			}
		}
	}
}

// loadNear loads the n ≤ 8 lanes s[off:off+n] (masked) with zeros above.
func loadNear(s []float32, off, n int) f32x8 {
	return loadPart(s[off : off+n])
}

// convPoolInputGradSIMD is the vector path of ConvPoolInputGrad for rows
// of at most 16 pixels and kernels at most 8 wide. The filter rows are first
// copied into a table of 32-float rows, each holding its KW taps at offset
// 16 between zeros, so that one unaligned load at offset 16−ox yields the
// row shifted to start at lane ox with zeros elsewhere. Each input row
// (c, y) is then the sum, in registers, of d·(shifted filter row) over the
// sample's entries in output rows y−ky, and is stored once: no
// read-modify-write of overlapping windows. Rows are stored 16 lanes wide
// where that stays inside their channel (the lanes past W are zero and are
// overwritten by the next rows), else with a mask.
func convPoolInputGradSIMD(dsrc []float32, delta []float32, arg []int32, w []float32, B, C, H, W, F, KH, KW, OH, PQ int) {
	const pad, stride = 16, 32
	R := C * KH
	K := R * KW
	tb := f32Pool.get(F * R * stride)
	defer f32Pool.put(tb)
	tab := *tb
	clear(tab)
	for f := 0; f < F; f++ {
		for r := 0; r < R; r++ {
			copy(tab[(f*R+r)*stride+pad:(f*R+r)*stride+pad+KW], w[f*K+r*KW:f*K+(r+1)*KW])
		}
	}
	e := getEntries(F*PQ, OH)
	defer entriesPool.give(e)
	// Per entry: the table offset of its filter's row 0, shifted by ox.
	ob := intPool.get(F * PQ)
	defer intPool.put(ob)
	offs := *ob
	tp := base(tab)
	S := C * H * W
	for i := 0; i < B; i++ {
		e.bucket(delta[i*F*PQ:(i+1)*F*PQ], arg[i*F*PQ:(i+1)*F*PQ], F, PQ, W, OH)
		n := e.start[OH]
		for j := 0; j < n; j++ {
			offs[j] = e.f[j]*R*stride + pad - e.ox[j]
		}
		ds, os := e.d[:n], offs[:n]
		img := dsrc[i*S : (i+1)*S]
		// 4 channels at a time (the last group repeats its last channel and
		// stores it once), for 8 independent chains of multiply-adds.
		cs := KH * stride // table distance between channels
		for c0 := 0; c0 < C; c0 += 4 {
			d1, d2, d3 := min(1, C-1-c0)*cs, min(2, C-1-c0)*cs, min(3, C-1-c0)*cs
			for y := 0; y < H; y++ {
				var l0, h0, l1, h1, l2, h2, l3, h3 f32x8
				for ky := 0; ky < KH; ky++ {
					oy := y - ky
					if oy < 0 || oy >= OH {
						continue
					}
					rowOff := (c0*KH + ky) * stride
					j0, j1 := e.start[oy], e.start[oy+1]
					oj := os[j0:j1]
					for j, d := range ds[j0:j1] {
						// In the table by construction: row f·R + c·KH + ky,
						// lanes 16−ox … 31−ox.
						q := at(tp, oj[j]+rowOff)
						v := bcast8(d)
						l0 = loadAt(q).MulAdd(v, l0)
						h0 = loadAt(at(q, 8)).MulAdd(v, h0)
						q1, q2, q3 := at(q, d1), at(q, d2), at(q, d3)
						l1 = loadAt(q1).MulAdd(v, l1)
						h1 = loadAt(at(q1, 8)).MulAdd(v, h1)
						l2 = loadAt(q2).MulAdd(v, l2)
						h2 = loadAt(at(q2, 8)).MulAdd(v, h2)
						l3 = loadAt(q3).MulAdd(v, l3)
						h3 = loadAt(at(q3, 8)).MulAdd(v, h3)
					}
				}
				n := 16 // lanes past W spill into later rows of the channel
				if y*W+16 > H*W {
					n = W // not past the channel's end
				}
				storeRow(img[(c0*H+y)*W:], n, l0, h0)
				if c0+1 < C {
					storeRow(img[((c0+1)*H+y)*W:], n, l1, h1)
				}
				if c0+2 < C {
					storeRow(img[((c0+2)*H+y)*W:], n, l2, h2)
				}
				if c0+3 < C {
					storeRow(img[((c0+3)*H+y)*W:], n, l3, h3)
				}
			}
		}
	}
}

// storeRow stores the first n ≤ 16 lanes of lo, hi at the start of dst.
// Rows whose 16 lanes end inside their channel are stored 16 lanes wide:
// the lanes past the row's width hold zeros, which the stores of the next
// rows (later, same channel) overwrite.
func storeRow(dst []float32, n int, lo, hi f32x8) {
	if n == 16 {
		lo.StoreSlice(dst[:8])
		hi.StoreSlice(dst[8:16])
		return
	}
	storePart(lo, dst[:min(n, 8)])
	if n > 8 {
		storePart(hi, dst[8:n])
	}
}

// convPoolGradNormSqSIMD is the vector path of AddConvPoolGradNormSq. Per
// sample and filter it compacts the non-zero gradients, accumulates the
// sample's filter gradient 5 rows (c, ky…) at a time in registers in the
// same order as convPoolWeightGradSIMD (so the same float32 values), and
// adds the squares of its KW valid lanes in float64; nothing is written
// except dst. Kernels wider than 8 take the portable path.
func convPoolGradNormSqSIMD(dst []float32, src, delta []float32, arg []int32, B, C, H, W, F, KH, KW, PQ int, bias bool) {
	HW := H * W
	S := C * HW
	if KW > 8 {
		g := f32Pool.get(C*KH*KW + 1)
		defer f32Pool.put(g)
		gw, gb := (*g)[:C*KH*KW], (*g)[C*KH*KW:]
		for i := 0; i < B; i++ {
			var s float64
			for f := 0; f < F; f++ {
				clear(*g)
				j := (i*F + f) * PQ
				convPoolWeightGradGeneric(gw, gb, nil, src[i*S:(i+1)*S], delta[j:j+PQ], arg[j:j+PQ], nil, 1, C, H, W, 1, KH, KW, PQ, 0, 1)
				s += sumSq32(gw)
				if bias {
					s += float64(gb[0]) * float64(gb[0])
				}
			}
			dst[i] = float32(float64(dst[i]) + s)
		}
		return
	}
	dbuf, obuf := f32Pool.get(PQ), intPool.get(PQ)
	defer f32Pool.put(dbuf)
	defer intPool.put(obuf)
	var rows [5][8]float32
	for i := 0; i < B; i++ {
		img := src[i*S : (i+1)*S]
		sp := base(img)
		var tot float64
		for f := 0; f < F; f++ {
			ds, os := *dbuf, *obuf
			n := 0
			dd := delta[(i*F+f)*PQ : (i*F+f+1)*PQ]
			ad := arg[(i*F+f)*PQ : (i*F+f+1)*PQ]
			ad = ad[:len(dd)]
			for q, d := range dd {
				ds[n] = d
				os[n] = int(ad[q])
				nz := 0
				if d != 0 {
					nz = 1
				}
				n += nz
			}
			if n == 0 {
				continue
			}
			ds, os = ds[:n], os[:n]
			if bias {
				var b float32
				for _, d := range ds {
					b += d
				}
				tot += float64(b) * float64(b)
			}
			for c := 0; c < C; c++ {
				for ky0 := 0; ky0 < KH; ky0 += 5 {
					nr := min(5, KH-ky0)
					s1, s2, s3, s4 := min(1, nr-1)*W, min(2, nr-1)*W, min(3, nr-1)*W, min(4, nr-1)*W
					off := c*HW + ky0*W
					span := s4 + 8
					var a0, a1, a2, a3, a4 f32x8
					for j, d := range ds {
						first := os[j] + off
						v := bcast8(d)
						if first+span <= len(img) {
							q := at(sp, first)
							a0 = loadAt(q).MulAdd(v, a0)
							a1 = loadAt(at(q, s1)).MulAdd(v, a1)
							a2 = loadAt(at(q, s2)).MulAdd(v, a2)
							a3 = loadAt(at(q, s3)).MulAdd(v, a3)
							a4 = loadAt(at(q, s4)).MulAdd(v, a4)
						} else {
							a0 = loadNear(img, first, KW).MulAdd(v, a0)
							a1 = loadNear(img, first+s1, KW).MulAdd(v, a1)
							a2 = loadNear(img, first+s2, KW).MulAdd(v, a2)
							a3 = loadNear(img, first+s3, KW).MulAdd(v, a3)
							a4 = loadNear(img, first+s4, KW).MulAdd(v, a4)
						}
					}
					a0.Store(&rows[0])
					a1.Store(&rows[1])
					a2.Store(&rows[2])
					a3.Store(&rows[3])
					a4.Store(&rows[4])
					for r := 0; r < nr; r++ {
						for _, x := range rows[r][:KW] {
							tot += float64(x) * float64(x)
						}
					}
				}
			}
		}
		dst[i] = float32(float64(dst[i]) + tot)
	}
}

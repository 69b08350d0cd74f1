package kernels

// The vector path of the fused convolutions (both vector paths): the Go
// loops of the former archsimd kernels, with their inner loops in the
// gather kernels of asm_amd64.s (8 lanes: the vectors are short image
// rows, and on the CPUs we target a 16-lane multiply-add does no more work
// per cycle than two 8-lane ones). Every element is the same chain of
// fused multiply-adds as before.

// convPoolReLUVec is the vector path of ConvPoolReLU. Per sample and pair
// of filters (then a single filter) it computes the conv on the flat
// full-width grid u = oy·W + ox, u < U = (OH−1)·W + OW, where the input of
// tap (c, ky, kx) is img[c·H·W + ky·W + kx + u]: a contiguous run, so the
// inner loop (convFwdF2 over the taps) is plain 8-lane loads and fused
// multiply-adds, 32 positions at a time (the last block overlaps the one
// before instead of masking). Columns ox ≥ OW of that grid are computed
// and ignored by the pooling. Every kept element is a chain of
// multiply-adds over (c, ky, kx) in increasing order, whichever block
// computes it. Outputs of fewer than 32 positions take the portable path.
func convPoolReLUVec(out []float32, arg []int32, src, w, bias []float32, B, C, H, W, F, KH, KW int) {
	OH, OW := H-KH+1, W-KW+1
	PQ := (OH / 2) * (OW / 2)
	K := C * KH * KW
	HW := H * W
	// Output vectors of 8 lanes: (input offset, output offset) pairs. When
	// OW is a multiple of 8 they tile the output rows exactly (z has row
	// stride OW); otherwise they tile the flat grid u < U (row stride W),
	// the last vector overlapping the one before.
	rowMode := OW%8 == 0 && OH*OW >= 32
	ld, U := OW, OH*OW
	if !rowMode {
		ld, U = W, (OH-1)*W+OW
	}
	if U < 32 {
		convPoolReLUGeneric(out, arg, src, w, bias, B, C, H, W, F, KH, KW)
		return
	}
	vb := intPool.get(2*(U/8+4) + K)
	defer intPool.put(vb)
	vin, vout := (*vb)[:0], (*vb)[U/8+4:U/8+4]
	taps := (*vb)[2*(U/8+4):]
	if rowMode {
		for oy := 0; oy < OH; oy++ {
			for ox := 0; ox < OW; ox += 8 {
				vin, vout = append(vin, oy*W+ox), append(vout, oy*OW+ox)
			}
		}
	} else {
		for u := 0; u < U; u += 8 {
			vin, vout = append(vin, min(u, U-8)), append(vout, min(u, U-8))
		}
	}
	t := 0
	for c := 0; c < C; c++ {
		for ky := 0; ky < KH; ky++ {
			for kx := 0; kx < KW; kx++ {
				taps[t] = c*HW + ky*W + kx
				t++
			}
		}
	}
	last := taps[K-1] + 7 // the last lane a vector at input offset 0 reads
	buf := f32Pool.get(2 * U)
	defer f32Pool.put(buf)
	z := *buf
	for i := 0; i < B; i++ {
		img := src[i*C*HW : (i+1)*C*HW]
		for f := 0; f < F; f += 2 {
			nf := min(2, F-f)
			w0 := w[f*K : (f+1)*K]
			for j := 0; j < len(vin); j += 4 {
				j0 := min(j, len(vin)-4)
				st := [4]int{vin[j0], vin[j0+1], vin[j0+2], vin[j0+3]}
				zo := [4]int{vout[j0], vout[j0+1], vout[j0+2], vout[j0+3]}
				_ = img[max(st[0], st[1], st[2], st[3])+last]     // every lane read
				_ = z[U*(nf-1)+max(zo[0], zo[1], zo[2], zo[3])+7] // every lane written
				if nf == 2 {
					convFwdF2(&img[0], &taps[0], K, &w0[0], &w[(f+1)*K], &st[0], &z[0], &zo[0], U)
				} else {
					convFwdF1(&img[0], &taps[0], K, &w0[0], &st[0], &z[0], &zo[0])
				}
			}
			j := (i*F + f) * PQ
			poolReLUVec(out[j:j+nf*PQ], arg[j:j+nf*PQ], z, ld, U, bias[f:f+nf], nf, OH, OW, W)
		}
	}
}

// windowOffsets are the offsets 2w of the first column of 8 consecutive
// pooling windows.
var windowOffsets = [8]int32{0, 2, 4, 6, 8, 10, 12, 14}

// poolReLUVec is poolReLU with 8 windows per step (poolRowAVX2), then 4
// (poolRow4AVX2): the even and odd columns of two input rows are split by
// shuffles, and the max, its position and the bias + ReLU are computed
// with compares and blends in the same order as poolReLU, so both give
// identical results.
func poolReLUVec(out []float32, arg []int32, z []float32, ld, ps int, bias []float32, nf, OH, OW, W int) {
	PH, PW := OH/2, OW/2
	PW8 := PW &^ 7
	PW4 := PW &^ 3
	if PW4 == 0 {
		poolReLU(out, arg, z, ld, ps, bias, nf, OH, OW, W)
		return
	}
	for f := 0; f < nf; f++ {
		zf := z[f*ps:]
		o := out[f*PH*PW : (f+1)*PH*PW]
		a := arg[f*PH*PW : (f+1)*PH*PW]
		for py := 0; py < PH; py++ {
			r0 := zf[2*py*ld : 2*py*ld+2*PW4]
			r1 := zf[(2*py+1)*ld : (2*py+1)*ld+2*PW4]
			or, ar := o[py*PW:py*PW+PW4], a[py*PW:py*PW+PW4]
			if PW8 > 0 {
				poolRowAVX2(&r0[0], &r1[0], PW8/8, &or[0], &ar[0], 2*py*W, W, bias[f], &windowOffsets[0])
			}
			if PW4 > PW8 {
				poolRow4AVX2(&r0[2*PW8], &r1[2*PW8], 1, &or[PW8], &ar[PW8], 2*py*W+2*PW8, W, bias[f], &windowOffsets[0])
			}
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

// zeroOff is the offset list of a single gathered row at its base.
var zeroOff = [1]int{0}

// rowStrides8 are the strides of 5 rows of 8 lanes packed one after another.
var rowStrides8 = [5]int{0, 8, 16, 24, 32}

// convGrad5 adds, for the entries (d[j], first = off[j]) of one sample, the
// chains a[r] = src[base + first + st[r] : +8]·d[j] + a[r] (r < 5, 8 lanes)
// in entry order. Entries whose 8 lanes of the last row would pass the end
// of src go through a zero-padded copy of their KW valid lanes (lanes ≥ KW
// are junk either way and never used).
func convGrad5(a *[5 * 8]float32, src []float32, base int, off []int, d []float32, st *[5]int, nr, KW int, safe bool) {
	if len(d) == 0 {
		return
	}
	if safe {
		gatherS5V1F1(&src[base], &off[0], len(d), &d[0], &st[0], &a[0])
		return
	}
	span := st[4] + 8
	for j := 0; j < len(d); {
		k := j
		for k < len(d) && base+off[k]+span <= len(src) {
			k++
		}
		if k > j {
			gatherS5V1F1(&src[base], &off[j], k-j, &d[j], &st[0], &a[0])
			j = k
			continue
		}
		var rows [5 * 8]float32
		first := base + off[j]
		for r := 0; r < nr; r++ {
			copy(rows[r*8:r*8+KW], src[first+st[r]:first+st[r]+KW])
		}
		var sc [5]int
		for r := range sc {
			sc[r] = rowStrides8[min(r, nr-1)]
		}
		gatherS5V1F1(&rows[0], &zeroOff[0], 1, &d[j], &sc[0], &a[0])
		j++
	}
}

// convPoolWeightGradVec is the vector path of AddConvPoolWeightGrad for
// kernels at most 8 wide. Per filter it first compacts the non-zero
// gradients and the offsets of their receptive fields, without branches,
// with each sample's start. Then, per group of 5 filter rows (c, ky…) of one
// channel, whose inputs are 5 rows of one plane W apart, it keeps the 5 rows
// of dw and of the current sample's G_i, one vector of KW lanes each (lanes
// ≥ KW hold junk and are never stored or squared), builds G_i over the
// sample's entries and adds rw[i]·G_i (fused) or G_i: for 5 rows and no
// norms in one call over the samples (convWGrad5RW, convWGrad5Add), else
// per sample (convGrad5), with the same chains either way.
func convPoolWeightGradVec(dw, db []float32, sq []float64, src, delta []float32, arg []int32, rw []float32, B, C, H, W, F, KH, KW, PQ, f0, f1 int) {
	K := C * KH * KW
	HW := H * W
	S := C * HW
	dbuf, obuf, sbuf := f32Pool.get(B*PQ), intPool.get(B*PQ), intPool.get(B+1)
	defer f32Pool.put(dbuf)
	defer intPool.put(obuf)
	defer intPool.put(sbuf)
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
				var wacc [5 * 8]float32
				for j := 0; j < nr; j++ {
					copy(wacc[j*8:j*8+KW], g[(row0+j)*KW:(row0+j+1)*KW])
				}
				var st [5]int
				for r := range st {
					st[r] = min(r, nr-1) * W
				}
				off := c*HW + ky0*W
				i0 := 0
				if sq == nil && nr == 5 {
					// All samples but an unsafe last one in one call, the
					// sample's gradient kept in registers.
					i0 = B
					if B*S+st[4]+8 > len(src) {
						i0 = B - 1
					}
					if i0 > 0 {
						if rw != nil {
							convWGrad5RW(&src[off], &os[0], &ds[0], &sb[0], i0, W, &wacc[0], &rw[0])
						} else {
							convWGrad5Add(&src[off], &os[0], &ds[0], &sb[0], i0, W, &wacc[0])
						}
					}
				}
				for i := i0; i < B; i++ {
					j0, j1 := sb[i], sb[i+1]
					if j0 == j1 {
						continue
					}
					var a [5 * 8]float32
					// Only the last sample's rows can end past src.
					safe := (i+1)*S+st[4]+8 <= len(src)
					convGrad5(&a, src, off, os[j0:j1], ds[j0:j1], &st, nr, KW, safe)
					if rw != nil {
						gatherS5V1F1(&a[0], &zeroOff[0], 1, &rw[i], &rowStrides8[0], &wacc[0])
					} else {
						for l := range wacc {
							wacc[l] += a[l]
						}
					}
					if sq != nil {
						var t float64
						for r := 0; r < nr; r++ {
							for _, x := range a[r*8 : r*8+KW] {
								t += float64(x) * float64(x)
							}
						}
						sq[i] += t
					}
				}
				for j := 0; j < nr; j++ {
					copy(g[(row0+j)*KW:(row0+j+1)*KW], wacc[j*8:j*8+KW])
				}
			}
		}
	}
}

// convPoolGradNormSqVec is the vector path of AddConvPoolGradNormSq. Per
// sample and filter it compacts the non-zero gradients, accumulates the
// sample's filter gradient 5 rows (c, ky…) at a time in the same order as
// convPoolWeightGradVec (so the same float32 values), and adds the squares
// of its KW valid lanes in float64; nothing is written except dst. Kernels
// wider than 8 take the portable loop.
func convPoolGradNormSqVec(dst []float32, src, delta []float32, arg []int32, B, C, H, W, F, KH, KW, PQ int, bias bool) {
	HW := H * W
	S := C * HW
	if KW > 8 {
		convPoolGradNormSqGeneric(dst, src, delta, arg, B, C, H, W, F, KH, KW, PQ, bias)
		return
	}
	dbuf, obuf := f32Pool.get(PQ), intPool.get(PQ)
	defer f32Pool.put(dbuf)
	defer intPool.put(obuf)
	for i := 0; i < B; i++ {
		img := src[i*S : (i+1)*S]
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
					var st [5]int
					for r := range st {
						st[r] = min(r, nr-1) * W
					}
					var a [5 * 8]float32
					convGrad5(&a, img, c*HW+ky0*W, os, ds, &st, nr, KW, false)
					for r := 0; r < nr; r++ {
						for _, x := range a[r*8 : r*8+KW] {
							tot += float64(x) * float64(x)
						}
					}
				}
			}
		}
		dst[i] = float32(float64(dst[i]) + tot)
	}
}

// convPoolInputGradVec is the vector path of ConvPoolInputGrad for rows
// of at most 16 pixels and kernels at most 8 wide. The filter rows are first
// copied into a table of 32-float rows, each holding its KW taps at offset
// 16 between zeros, so that one load at offset 16−ox yields the row shifted
// to start at lane ox with zeros elsewhere. Each input row (c, y) of 4
// channels at a time is then the sum of d·(shifted filter row) over the
// sample's entries in output rows y−ky (gatherS4V2F1: 4 channels × 16
// lanes), and is stored once: no read-modify-write of overlapping windows.
func convPoolInputGradVec(dsrc []float32, delta []float32, arg []int32, w []float32, B, C, H, W, F, KH, KW, OH, PQ int) {
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
	S := C * H * W
	cs := KH * stride // table distance between channels
	var acc [4 * 16]float32
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
		for c0 := 0; c0 < C; c0 += 4 {
			st := [4]int{0, min(1, C-1-c0) * cs, min(2, C-1-c0) * cs, min(3, C-1-c0) * cs}
			for y := 0; y < H; y++ {
				clear(acc[:])
				for ky := 0; ky < KH; ky++ {
					oy := y - ky
					if oy < 0 || oy >= OH {
						continue
					}
					j0, j1 := e.start[oy], e.start[oy+1]
					if j0 == j1 {
						continue
					}
					// In the table by construction: row f·R + c·KH + ky,
					// lanes 16−ox … 31−ox.
					gatherS4V2F1(&tab[(c0*KH+ky)*stride], &os[j0], j1-j0, &ds[j0], &st[0], &acc[0])
				}
				for r := 0; r < 4 && c0+r < C; r++ {
					copy(img[((c0+r)*H+y)*W:((c0+r)*H+y+1)*W], acc[16*r:16*r+W])
				}
			}
		}
	}
}

package ref

import "github.com/sgds/sgds/kernels/internal/check"

// MaxPool2 is the reference of the device maxpool2_fwd (pool.cu): a
// 2×2 max-pool with stride 2 over B·C planes of H×W (NCHW), flooring odd
// sizes (PH = H/2, PW = W/2), optionally followed by a ReLU. For every
// plane p and window (py, px) it is equal to
//
//	best := index of the first maximum of in[p, 2py+dy, 2px+dx] in the order
//	        (dy, dx) = (0,0), (0,1), (1,0), (1,1)   (strict >, so ties keep the first)
//	argmax[p, py, px] = (2py+dy)*W + (2px+dx) of best
//	out[p, py, px] = v or, with relu, v > 0 ? v : 0     (v = the maximum)
//
// out and argmax are overwritten. len(in) must be B*C*H*W and len(out),
// len(argmax) B*C*PH*PW; it panics otherwise.
func MaxPool2(out []float32, argmax []int32, in []float32, B, C, H, W int, relu bool) {
	const op = "ref.MaxPool2"
	planes := check.Size(op, B, C)
	PH, PW := H/2, W/2
	check.Len(op, "in", in, check.Size(op, planes, H, W))
	check.Len(op, "out", out, planes*PH*PW)
	check.Len(op, "argmax", argmax, planes*PH*PW)
	for p := 0; p < planes; p++ {
		plane := in[p*H*W : (p+1)*H*W]
		for py := 0; py < PH; py++ {
			for px := 0; px < PW; px++ {
				y, x := 2*py, 2*px
				best := y*W + x
				v := plane[best]
				for _, c := range [3]int{y*W + x + 1, (y+1)*W + x, (y+1)*W + x + 1} {
					if plane[c] > v {
						v, best = plane[c], c
					}
				}
				o := (p*PH+py)*PW + px
				if relu && !(v > 0) {
					v = 0
				}
				out[o] = v
				argmax[o] = int32(best)
			}
		}
	}
}

// MaxPool2Back is the reference of the device maxpool2_bwd: the gradient
// of MaxPool2. For every input pixel (plane p, position
// pos = y*W + x) it is equal to
//
//	o := (p*PH + y/2)*PW + x/2
//	din[p*H*W+pos] = dout[o]  if y/2 < PH, x/2 < PW, argmax[o] == pos and (!relu or out[o] > 0)
//	               = 0        otherwise
//
// din is overwritten; out is MaxPool2's output (read only with relu).
// It panics on wrong lengths.
func MaxPool2Back(din, dout []float32, argmax []int32, out []float32, B, C, H, W int, relu bool) {
	const op = "ref.MaxPool2Back"
	planes := check.Size(op, B, C)
	PH, PW := H/2, W/2
	check.Len(op, "din", din, check.Size(op, planes, H, W))
	check.Len(op, "dout", dout, planes*PH*PW)
	check.Len(op, "argmax", argmax, planes*PH*PW)
	if relu {
		check.Len(op, "out", out, planes*PH*PW)
	}
	for p := 0; p < planes; p++ {
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				pos := y*W + x
				var g float32
				if py, px := y/2, x/2; py < PH && px < PW {
					o := (p*PH+py)*PW + px
					if int(argmax[o]) == pos && (!relu || out[o] > 0) {
						g = dout[o]
					}
				}
				din[p*H*W+pos] = g
			}
		}
	}
}

package engine

import "fmt"

// Layer is one (weight, bias) layer of a model, read from its parameter
// list by Layers. A convolution computes, per sample,
// relu(maxpool2×2(conv_valid(x; W) + b)) with x of shape (Cin, H, W) and W of
// shape (Cout, Cin, KH, KW); a dense layer computes a·W + b with W stored
// (In, Out), followed by a ReLU on every layer but the last.
type Layer struct {
	// Kind is what the layer computes: Dense or ConvPool. Layers sets it;
	// every backend switches on it and refuses a kind it does not know.
	Kind Kind
	// Param is the index of the weight in ModelSpec.Params; the bias is
	// Param+1.
	Param int
	// Convolution: input (Cin, H, W), filters (Cout, Cin, KH, KW), valid
	// output OH×OW = (H−KH+1)×(W−KW+1), pooled output PH×PW = ⌊OH/2⌋×⌊OW/2⌋.
	Cin, H, W, Cout, KH, KW, OH, OW, PH, PW int
	// Dense: In inputs, Out outputs.
	In, Out int
	// ReLU is true on every layer but the last.
	ReLU bool
}

// Kind is what a layer computes. Its zero value is no kind: every layer
// Layers returns has one of the constants.
type Kind uint8

const (
	// Dense computes a·W + b, then a ReLU unless it is the last layer.
	Dense Kind = iota + 1
	// ConvPool computes relu(maxpool2×2(conv_valid(x; W) + b)).
	ConvPool
)

// String names the kind ("dense", "conv+pool").
func (k Kind) String() string {
	switch k {
	case Dense:
		return "dense"
	case ConvPool:
		return "conv+pool"
	default:
		return fmt.Sprintf("Kind(%d)", uint8(k))
	}
}

// UnknownKind is the error (or panic value) of a backend handed a layer
// whose kind it does not know.
func UnknownKind(l Layer) error {
	return fmt.Errorf("layer of parameter %d has unknown kind %v", l.Param, l.Kind)
}

// InSize is the number of input values of one sample.
func (l Layer) InSize() int {
	switch l.Kind {
	case ConvPool:
		return l.Cin * l.H * l.W
	case Dense:
		return l.In
	default:
		panic(UnknownKind(l))
	}
}

// OutSize is the number of output values of one sample (after pooling).
func (l Layer) OutSize() int {
	switch l.Kind {
	case ConvPool:
		return l.Cout * l.PH * l.PW
	case Dense:
		return l.Out
	default:
		panic(UnknownKind(l))
	}
}

// Positions is the number of conv output positions T = OH·OW (0 for dense).
func (l Layer) Positions() int { return l.OH * l.OW }

// PatchSize is the length K = Cin·KH·KW of one unfolded conv patch (0 for
// dense).
func (l Layer) PatchSize() int { return l.Cin * l.KH * l.KW }

// Layers reads the layers of model m from its parameter list: (weight,
// bias) pairs, 4-D weights (Cout, Cin, KH, KW) for convolutions and 2-D
// (In, Out) for dense layers, convolutions first, the last layer dense with
// Classes outputs. It is the one place where every backend learns a model's
// topology.
func Layers(m ModelSpec) ([]Layer, error) {
	if len(m.Params) == 0 || len(m.Params)%2 != 0 {
		return nil, fmt.Errorf("model %s: want (weight, bias) pairs, got %d parameters", m.Name, len(m.Params))
	}
	var ls []Layer
	c, h, w := 0, 0, 0
	flat := m.InputSize()
	if len(m.Input) == 3 {
		c, h, w = m.Input[0], m.Input[1], m.Input[2]
	}
	for p := 0; p < len(m.Params); p += 2 {
		ws, bs := m.Params[p].Shape, m.Params[p+1].Shape
		switch len(ws) {
		case 4:
			if len(ls) > 0 && ls[len(ls)-1].Kind != ConvPool {
				return nil, fmt.Errorf("model %s: a convolution after a dense layer", m.Name)
			}
			if c != ws[1] || len(bs) != 1 || bs[0] != ws[0] || ws[2] > h || ws[3] > w || ws[2] < 1 || ws[3] < 1 {
				return nil, fmt.Errorf("model %s: conv %s%v does not fit input (%d, %d, %d)", m.Name, m.Params[p].Name, ws, c, h, w)
			}
			l := Layer{Kind: ConvPool, Param: p, Cin: c, H: h, W: w, Cout: ws[0], KH: ws[2], KW: ws[3], ReLU: true}
			l.OH, l.OW = h-l.KH+1, w-l.KW+1
			l.PH, l.PW = l.OH/2, l.OW/2
			if l.PH < 1 || l.PW < 1 {
				return nil, fmt.Errorf("model %s: conv %s output %d×%d is too small to pool", m.Name, m.Params[p].Name, l.OH, l.OW)
			}
			ls = append(ls, l)
			c, h, w = l.Cout, l.PH, l.PW
			flat = c * h * w
		case 2:
			if ws[0] != flat || len(bs) != 1 || bs[0] != ws[1] {
				return nil, fmt.Errorf("model %s: dense %s%v does not fit %d inputs", m.Name, m.Params[p].Name, ws, flat)
			}
			ls = append(ls, Layer{Kind: Dense, Param: p, In: ws[0], Out: ws[1], ReLU: true})
			flat = ws[1]
		default:
			return nil, fmt.Errorf("model %s: parameter %s has shape %v (want 2-D or 4-D)", m.Name, m.Params[p].Name, ws)
		}
	}
	last := &ls[len(ls)-1]
	if last.Kind != Dense || last.Out != m.Classes {
		return nil, fmt.Errorf("model %s: the last layer must be dense with %d outputs", m.Name, m.Classes)
	}
	last.ReLU = false
	return ls, nil
}

// BatchBytesPerSample estimates the bytes a training step of model m holds
// per sample of its batch: the gathered input and, per layer, the outputs,
// their gradients and (for pooling) the argmax indices, as float32 or
// int32 (6.2 KiB for the MLP, 100 KiB for the CNN). A batch of B needs
// B·BatchBytesPerSample(m), to be checked with limits.Check before the Net
// is built.
func BatchBytesPerSample(m ModelSpec) int64 {
	values := int64(m.InputSize()) + 4 // input; label, weight, loss, score
	ls, err := Layers(m)
	if err != nil {
		return 4 * values * 4 // unreachable for a known model
	}
	for _, l := range ls {
		switch l.Kind {
		case ConvPool:
			values += 3*int64(l.Cout*l.OH*l.OW) + 2*int64(l.OutSize())
		case Dense:
			values += 3 * int64(l.Out)
		default:
			panic(UnknownKind(l))
		}
	}
	return 4 * values
}

//go:build !cuda

package gorgonia

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/sgds/sgds/engine"
)

// graph is one gorgonia expression graph of a model at a fixed batch size:
// inputs x (images), y (one-hot labels) and w (per-sample cost weights),
// the parameters bound to shared tensors, and the nodes we read back.
type graph struct {
	g      *G.ExprGraph
	batch  int
	x, y   *G.Node
	w      *G.Node
	params []*G.Node
	logits *G.Node
	nll    *G.Node // (B): L_i = −log softmax(logits_i)[y_i]
	// readNLL copies nll into nllVal when it runs. The tape machine may
	// overwrite an intermediate node's memory once its last reader has run
	// (cost reads nll), so nll.Value() is not safe to read after RunAll.
	readNLL, readLogits *G.Node
	nllVal, logitsVal   G.Value
	cost                *G.Node // scalar Σ w_i·L_i
	// pre holds each trainable layer's pre-activation z (before pooling or
	// ReLU), in parameter-pair order; used for per-sample gradient norms.
	pre []*G.Node
	// inputs of the dense layers (a in z = a·W + b) and the unfolded
	// patches of the conv layers, in the same order as pre.
	layerIn []*G.Node

	xT, yT, wT *tensor.Dense

	// Per-sample gradient norms: d cost/d z of every layer, and copies of
	// the layer inputs and of those gradients read during the run.
	dz           []*G.Node
	reads        G.Nodes
	inVal, dzVal []G.Value
}

// addNormReads adds the read nodes that copy every layer's input and
// output gradient, so that their values survive until the run ends.
func (gr *graph) addNormReads() {
	gr.inVal = make([]G.Value, len(gr.layerIn))
	gr.dzVal = make([]G.Value, len(gr.dz))
	for l, a := range gr.layerIn {
		if a != gr.x {
			gr.inVal[l] = tensor.New(tensor.WithShape(a.Shape()...), tensor.Of(tensor.Float32))
			gr.reads = append(gr.reads, G.Read(a, &gr.inVal[l]))
		}
		gr.dzVal[l] = tensor.New(tensor.WithShape(gr.dz[l].Shape()...), tensor.Of(tensor.Float32))
		gr.reads = append(gr.reads, G.Read(gr.dz[l], &gr.dzVal[l]))
	}
}

// layerInput returns the value of layer l's input after a run.
func (gr *graph) layerInput(l int) []float32 {
	if gr.layerIn[l] == gr.x {
		return gr.xT.Data().([]float32)
	}
	return gr.inVal[l].Data().([]float32)
}

// buildGraph builds the forward graph of model m for batch rows, binding
// the parameters to the given tensors (shared, not copied).
func buildGraph(m engine.ModelSpec, batch int, paramT []*tensor.Dense) (*graph, error) {
	g := G.NewGraph()
	gr := &graph{g: g, batch: batch}
	inShape := append([]int{batch}, m.Input...)
	gr.xT = tensor.New(tensor.WithShape(inShape...), tensor.Of(tensor.Float32))
	gr.yT = tensor.New(tensor.WithShape(batch, m.Classes), tensor.Of(tensor.Float32))
	gr.wT = tensor.New(tensor.WithShape(batch), tensor.Of(tensor.Float32))
	gr.x = G.NewTensor(g, tensor.Float32, len(inShape), G.WithShape(inShape...), G.WithName("x"), G.WithValue(gr.xT))
	gr.y = G.NewMatrix(g, tensor.Float32, G.WithShape(batch, m.Classes), G.WithName("y"), G.WithValue(gr.yT))
	gr.w = G.NewVector(g, tensor.Float32, G.WithShape(batch), G.WithName("w"), G.WithValue(gr.wT))
	for i, p := range m.Params {
		n := G.NewTensor(g, tensor.Float32, len(p.Shape), G.WithShape(p.Shape...), G.WithName(p.Name), G.WithValue(paramT[i]))
		gr.params = append(gr.params, n)
	}
	ls, err := engine.Layers(m)
	if err != nil {
		return nil, err
	}
	if err := gr.layers(ls); err != nil {
		return nil, err
	}
	logp, err := G.LogSoftMax(gr.logits, 1)
	if err != nil {
		return nil, err
	}
	picked, err := G.HadamardProd(logp, gr.y)
	if err != nil {
		return nil, err
	}
	s, err := G.Sum(picked, 1)
	if err != nil {
		return nil, err
	}
	if gr.nll, err = G.Neg(s); err != nil {
		return nil, err
	}
	gr.nllVal = tensor.New(tensor.WithShape(batch), tensor.Of(tensor.Float32))
	gr.readNLL = G.Read(gr.nll, &gr.nllVal)
	gr.logitsVal = tensor.New(tensor.WithShape(batch, m.Classes), tensor.Of(tensor.Float32))
	gr.readLogits = G.Read(gr.logits, &gr.logitsVal)
	wl, err := G.HadamardProd(gr.nll, gr.w)
	if err != nil {
		return nil, err
	}
	if gr.cost, err = G.Sum(wl); err != nil {
		return nil, err
	}
	return gr, nil
}

// dense appends z = a·W + b and returns z.
func (gr *graph) dense(a, w, b *G.Node) (*G.Node, error) {
	aw, err := G.Mul(a, w)
	if err != nil {
		return nil, err
	}
	z, err := G.BroadcastAdd(aw, b, nil, []byte{0})
	if err != nil {
		return nil, err
	}
	gr.pre = append(gr.pre, z)
	gr.layerIn = append(gr.layerIn, a)
	return z, nil
}

// conv appends z = conv(a, W) + b (valid convolution, stride 1) and
// returns z in (B, C, H', W') layout.
func (gr *graph) conv(a, w, b *G.Node) (*G.Node, error) {
	ks := tensor.Shape{w.Shape()[2], w.Shape()[3]}
	c, err := G.Conv2d(a, w, ks, []int{0, 0}, []int{1, 1}, []int{1, 1})
	if err != nil {
		return nil, err
	}
	cout := w.Shape()[0]
	b4, err := G.Reshape(b, tensor.Shape{1, cout, 1, 1})
	if err != nil {
		return nil, err
	}
	z, err := G.BroadcastAdd(c, b4, nil, []byte{0, 2, 3})
	if err != nil {
		return nil, err
	}
	gr.pre = append(gr.pre, z)
	gr.layerIn = append(gr.layerIn, a)
	return z, nil
}

// layers appends the layers ls to the input x: a convolution is
// relu(maxpool2×2(conv(a, W) + b)), a dense layer a·W + b (the input
// flattened to rows first) followed by a ReLU on every layer but the last,
// whose output is the logits.
func (gr *graph) layers(ls []engine.Layer) error {
	a := gr.x
	for _, l := range ls {
		w, b := gr.params[l.Param], gr.params[l.Param+1]
		var err error
		switch l.Kind {
		case engine.ConvPool:
			if a, err = gr.conv(a, w, b); err != nil {
				return err
			}
			if a, err = G.MaxPool2D(a, tensor.Shape{2, 2}, []int{0, 0}, []int{2, 2}); err != nil {
				return err
			}
		case engine.Dense:
			if a.Dims() != 2 {
				if a, err = G.Reshape(a, tensor.Shape{gr.batch, l.In}); err != nil {
					return err
				}
			}
			if a, err = gr.dense(a, w, b); err != nil {
				return err
			}
		default:
			return engine.UnknownKind(l)
		}
		if l.ReLU {
			if a, err = G.Rectify(a); err != nil {
				return err
			}
		}
	}
	gr.logits = a
	return nil
}

package engine

import (
	"strings"
	"testing"
)

func TestLayersOfTheBuiltInModels(t *testing.T) {
	cnn, _ := LookupModel("cnn")
	ls, err := Layers(cnn)
	if err != nil {
		t.Fatal(err)
	}
	want := []Layer{
		{Kind: ConvPool, Param: 0, Cin: 1, H: 28, W: 28, Cout: 10, KH: 5, KW: 5, OH: 24, OW: 24, PH: 12, PW: 12, ReLU: true},
		{Kind: ConvPool, Param: 2, Cin: 10, H: 12, W: 12, Cout: 20, KH: 5, KW: 5, OH: 8, OW: 8, PH: 4, PW: 4, ReLU: true},
		{Kind: Dense, Param: 4, In: 320, Out: 50, ReLU: true},
		{Kind: Dense, Param: 6, In: 50, Out: 10},
	}
	if len(ls) != len(want) {
		t.Fatalf("%d layers, want %d", len(ls), len(want))
	}
	for i := range want {
		if ls[i] != want[i] {
			t.Errorf("layer %d: %+v, want %+v", i, ls[i], want[i])
		}
	}
	if ls[1].Positions() != 64 || ls[1].PatchSize() != 250 || ls[1].OutSize() != 320 || ls[0].InSize() != 784 {
		t.Errorf("sizes of conv2: T=%d K=%d out=%d", ls[1].Positions(), ls[1].PatchSize(), ls[1].OutSize())
	}
	mlp, _ := LookupModel("mlp")
	if ls, err := Layers(mlp); err != nil || len(ls) != 2 || ls[0].In != 784 || ls[1].Out != 10 || ls[1].ReLU || !ls[0].ReLU {
		t.Errorf("mlp layers %+v, %v", ls, err)
	}
}

func TestLayersRejectsBadSpecs(t *testing.T) {
	cnn, _ := LookupModel("cnn")
	for name, mut := range map[string]func(m *ModelSpec){
		"odd parameter count": func(m *ModelSpec) { m.Params = m.Params[:3] },
		"conv after dense":    func(m *ModelSpec) { m.Params = append(m.Params[4:6:6], m.Params[:2]...) },
		"wrong classes":       func(m *ModelSpec) { m.Classes = 7 },
		"3-D weight":          func(m *ModelSpec) { m.Params[0].Shape = []int{10, 1, 25} },
		"filter too large":    func(m *ModelSpec) { m.Input = []int{1, 4, 4} },
	} {
		m := cnn
		m.Params = append([]ParamSpec(nil), cnn.Params...)
		mut(&m)
		if _, err := Layers(m); err == nil || !strings.Contains(err.Error(), "model cnn") {
			t.Errorf("%s: got %v, want an error naming the model", name, err)
		}
	}
}

func TestLayerKinds(t *testing.T) {
	if Dense.String() != "dense" || ConvPool.String() != "conv+pool" || Kind(0).String() != "Kind(0)" {
		t.Errorf("kind names %q, %q, %q", Dense, ConvPool, Kind(0))
	}
	defer func() {
		if err, ok := recover().(error); !ok || !strings.Contains(err.Error(), "unknown kind Kind(0)") {
			t.Errorf("OutSize of a layer without a kind: recovered %v, want an unknown-kind error", err)
		}
	}()
	_ = Layer{Out: 3}.OutSize()
}

package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/run"
	"github.com/sgds/sgds/training"
)

// filledCompare is a comparison of cfg over trainN samples as its
// compare.json holds it at the end: every run with all its epochs, every
// grid point and every target, with long numbers.
func filledCompare(cfg CompareConfig, trainN int) *CompareResult {
	rng := rand.New(rand.NewPCG(1, 2))
	res := &CompareResult{Config: cfg, TrainSamples: trainN, TargetOn: "val", Complete: true}
	grid := int64(0)
	for _, s := range cfg.Seeds {
		for _, m := range cfg.Methods {
			r := &RunResult{Method: m.Name, Seed: s, Done: true}
			seen := int64(0)
			for e := 1; e <= cfg.Base.Epochs; e++ {
				for ; grid <= seen+int64(trainN); grid += int64(cfg.Base.EvalEvery) {
					acc, loss := rng.Float64(), rng.Float64()*3
					r.Evals = append(r.Evals, training.GridEval{GridSamples: grid, SamplesSeen: grid + 63, Epoch: e, TrainSeconds: 1234.5678901234567 * rng.Float64(),
						ForwardSamples: grid * 3, BackwardSamples: grid, ValAcc: &acc, ValLoss: &loss, EvalSeconds: rng.Float64()})
				}
				seen += int64(trainN)
				acc, vacc, kept := rng.Float64(), rng.Float64(), trainN
				r.Epochs = append(r.Epochs, training.EpochMetrics{Epoch: e, TrainLoss: rng.Float64(), TestAcc: acc, TestLoss: rng.Float64(), ValAcc: &vacc, ValLoss: &vacc,
					TrainSeconds: 1234.5678901234567 * rng.Float64(), SamplesSeen: seen, ForwardSamples: seen * 3, BackwardSamples: seen, EpochSamples: trainN,
					EvalSeconds: rng.Float64(), Kept: &kept, Distinct: &kept})
				r.TestAcc, r.ValAcc = append(r.TestAcc, acc), append(r.ValAcc, vacc)
			}
			grid = 0
			for _, tg := range cfg.Targets {
				r.Targets = append(r.Targets, training.TargetHit{Target: tg, Epoch: 3, GridSamples: 123456789, SamplesSeen: 123456799, TrainSeconds: 12.345678901234567})
			}
			res.Runs = append(res.Runs, r)
		}
	}
	res.Summarise()
	return res
}

// TestCompareBytesBound (R3): CompareBytes bounds the size of the
// compare.json of every shape of comparison, so that CheckCompareSize
// admits only comparisons whose result ReadCompare reads back.
func TestCompareBytesBound(t *testing.T) {
	for _, sh := range []struct{ methods, seeds, targets, epochs, n, every int }{
		{1, 1, 1, 1, 64, 64}, {2, 3, 4, 3, 640, 64}, {4, 2, MaxTargets, 2, 1000, 100}, {3, 5, 7, 4, 5000, 128},
	} {
		t.Run(fmt.Sprintf("%+v", sh), func(t *testing.T) {
			cfg := smallCompare(t)
			cfg.Base.Epochs, cfg.Base.EvalEvery = sh.epochs, sh.every
			cfg.Methods = cfg.Methods[:min(len(cfg.Methods), sh.methods)]
			cfg.Baselines = []string{cfg.Methods[0].Name}
			cfg.Seeds, cfg.Targets = nil, nil
			for i := range sh.seeds {
				cfg.Seeds = append(cfg.Seeds, uint64(1e18)+uint64(i))
			}
			for i := range sh.targets {
				cfg.Targets = append(cfg.Targets, 0.5+float64(i)/1000)
			}
			res := filledCompare(cfg, sh.n)
			b, err := json.MarshalIndent(res, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			bound, ok := CompareBytes(cfg, sh.n)
			if !ok || int64(len(b)) > bound {
				t.Errorf("compare.json of %d bytes, bound %d (ok %v)", len(b), bound, ok)
			}
		})
	}
	cfg := smallCompare(t)
	cfg.Base.Epochs, cfg.Base.EvalEvery = 100_000, 64
	if err := CheckCompareSize(cfg, 640); err == nil {
		t.Error("a comparison of 100,000 epochs on a fine grid passed the size check")
	}
}

// TestCompareSaveErrorOnce (R18): seeds trained in parallel that fail to
// save alike (a full disk) report the error once.
func TestCompareSaveErrorOnce(t *testing.T) {
	d := smallData(t, 256)
	cfg := smallCompare(t)
	cfg.Base.Epochs, cfg.Parallel, cfg.Targets = 1, 2, nil
	cfg.Methods, cfg.Baselines = cfg.Methods[:1], nil
	full := errors.New("write compare.json: no space left on device")
	calls := 0
	var mu sync.Mutex
	_, err := Compare(context.Background(), cfg, d, CompareOptions{Save: func(*CompareResult) error {
		mu.Lock()
		defer mu.Unlock()
		if calls++; calls > 1 {
			return full
		}
		return nil
	}})
	if err == nil || strings.Count(err.Error(), full.Error()) != 1 {
		t.Fatalf("error %q: want the save error once", err)
	}
}

// countingBackend is the cpu backend counting the nets alive at once.
type countingBackend struct {
	engine.Backend
	mu         sync.Mutex
	live, most int
}

func (b *countingBackend) Name() string { return "counting-test" }

func (b *countingBackend) New(m engine.ModelSpec, init []engine.Param, cfg engine.Config) (engine.Net, error) {
	n, err := b.Backend.New(m, init, cfg)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live++
	b.most = max(b.most, b.live)
	return &countedNet{Net: n, b: b}, nil
}

type countedNet struct {
	engine.Net
	b    *countingBackend
	once sync.Once
}

func (n *countedNet) Close() error {
	n.once.Do(func() {
		n.b.mu.Lock()
		n.b.live--
		n.b.mu.Unlock()
	})
	return n.Net.Close()
}

// TestCompareBuildsOneNetPerSeed (R4): compare holds one net per seed in
// training, not one per method, and its results are those of the methods
// trained alone.
func TestCompareBuildsOneNetPerSeed(t *testing.T) {
	cpu, err := engine.LookupBackend("cpu")
	if err != nil {
		t.Fatal(err)
	}
	cb := &countingBackend{Backend: cpu}
	engine.Register(cb)
	d := smallData(t, 512)
	cfg := smallCompare(t)
	cfg.Base.Device, cfg.Base.Epochs, cfg.Parallel, cfg.Seeds = cb.Name(), 2, 1, []uint64{1}
	res, err := Compare(context.Background(), cfg, d, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cb.most != 1 || cb.live != 0 {
		t.Errorf("%d nets alive at most, %d left open: want one at a time, all closed", cb.most, cb.live)
	}
	// The parked runs continue exactly: a method trained alone gives the
	// same accuracies.
	for _, m := range cfg.Methods[:2] {
		rc := m.Config(cfg.Base)
		rc.Device, rc.Seed, rc.EvalEvery = "cpu", cfg.Seeds[0], res.Config.Base.EvalEvery
		tr, net, err := run.Train(context.Background(), rc, d, nil, run.Hooks{Targets: cfg.Targets})
		if err != nil {
			t.Fatal(err)
		}
		net.Close()
		r := res.Run(m.Name, cfg.Seeds[0])
		for e := range tr.History {
			if tr.History[e].TestAcc != r.Epochs[e].TestAcc || tr.History[e].TrainLoss != r.Epochs[e].TrainLoss {
				t.Errorf("%s epoch %d: compare %v/%v, alone %v/%v", m.Name, e+1, r.Epochs[e].TestAcc, r.Epochs[e].TrainLoss, tr.History[e].TestAcc, tr.History[e].TrainLoss)
			}
		}
	}
}

package engine_test

import (
	"errors"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/sampler"
)

func sampleCheckpoint() *engine.Checkpoint {
	m, _ := engine.LookupModel("mlp")
	acc := 0.5
	return &engine.Checkpoint{
		Meta: engine.CheckpointMeta{Model: "mlp", Config: []byte(`{"x":1}`),
			History: []engine.EpochMetrics{{Epoch: 1, TrainLoss: 0.3, TestAcc: 0.9, ValAcc: &acc, SamplesSeen: 100}},
			Hits:    []engine.TargetHit{{Target: 0.8, Epoch: 1}},
			Partial: &engine.PartialEpoch{Epoch: 2, Plan: sampler.Plan{Indices: []int{3, 1, 2}}, Pos: 1, Steps: 1}},
		Params:     engine.InitParams(m, 1),
		Velocity:   engine.InitParams(m, 2),
		OrderState: []byte{1, 2, 3},
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	c := sampleCheckpoint()
	p := filepath.Join(t.TempDir(), "ck.bin")
	if err := engine.SaveCheckpoint(p, c); err != nil {
		t.Fatal(err)
	}
	got, err := engine.LoadCheckpoint(p)
	if err != nil {
		t.Fatal(err)
	}
	c.Meta.Version = got.Meta.Version
	if !reflect.DeepEqual(c, got) {
		t.Fatalf("round trip changed the checkpoint")
	}
}

// TestCheckpointCorruption flips random bytes and truncates: every variant
// must be rejected with ErrBadCheckpoint.
func TestCheckpointCorruption(t *testing.T) {
	b, err := sampleCheckpoint().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 200; i++ {
		c := append([]byte(nil), b...)
		if i%2 == 0 {
			c[r.IntN(len(c))] ^= byte(1 + r.IntN(255))
		} else {
			c = c[:r.IntN(len(c))]
		}
		if _, err := engine.UnmarshalCheckpoint(c); !errors.Is(err, engine.ErrBadCheckpoint) {
			t.Fatalf("variant %d accepted or wrong error: %v", i, err)
		}
	}
}

// FuzzUnmarshalCheckpoint: arbitrary bytes give a checkpoint or
// ErrBadCheckpoint, never a panic. The checksum is recomputed over fuzzed
// bodies half of the time so that the decoder behind it is exercised.
func FuzzUnmarshalCheckpoint(f *testing.F) {
	b, _ := sampleCheckpoint().MarshalBinary()
	f.Add(b, false)
	f.Add(b[:40], true)
	f.Add([]byte("SGDSCKPT"), true)
	f.Fuzz(func(t *testing.T, data []byte, fixSum bool) {
		if fixSum {
			data = engine.Reseal(data)
		}
		c, err := engine.UnmarshalCheckpoint(data)
		if err != nil {
			if !errors.Is(err, engine.ErrBadCheckpoint) {
				t.Fatalf("error %v does not wrap ErrBadCheckpoint", err)
			}
			return
		}
		if _, err := c.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
	})
}

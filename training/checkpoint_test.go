package training_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/internal/limits"
	"github.com/sgds/sgds/internal/safefile"
	"github.com/sgds/sgds/internal/testfs"
	"github.com/sgds/sgds/sampler"
	"github.com/sgds/sgds/training"
)

func sampleCheckpoint() *training.Checkpoint { return sampleCheckpointOf("mlp") }

func sampleCheckpointOf(model string) *training.Checkpoint {
	m, _ := engine.LookupModel(model)
	acc, loss := 0.5, 0.7
	return &training.Checkpoint{
		Meta: training.CheckpointMeta{Model: model, Config: []byte(`{"x":1}`),
			History: []training.EpochMetrics{{Epoch: 1, TrainLoss: 0.3, TestAcc: 0.9, ValAcc: &acc, TrainSeconds: 1.5, SamplesSeen: 100, EpochSamples: 100}},
			Hits:    []training.TargetHit{{Target: 0.8, Epoch: 1, GridSamples: 100, TrainSeconds: 1.5, SamplesSeen: 100}},
			Evals: []training.GridEval{
				{GridSamples: 50, SamplesSeen: 50, Epoch: 1, TrainSeconds: 0.7, ValAcc: &acc, ValLoss: &loss},
				{GridSamples: 100, SamplesSeen: 100, Epoch: 1, TrainSeconds: 1.5, ValAcc: &acc, ValLoss: &loss},
			},
			Partial: &training.PartialEpoch{Epoch: 2, Plan: sampler.Plan{Indices: []int{3, 1, 2}}, Pos: 1, Steps: 1}},
		Params:     engine.InitParams(m, 1),
		Velocity:   engine.InitParams(m, 2),
		OrderState: []byte{1, 2, 3},
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	c := sampleCheckpoint()
	p := filepath.Join(t.TempDir(), "ck.bin")
	if err := training.SaveCheckpoint(p, c); err != nil {
		t.Fatal(err)
	}
	got, err := training.LoadCheckpoint(p)
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
		if _, err := training.UnmarshalCheckpoint(c); !errors.Is(err, training.ErrBadCheckpoint) {
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
			data = training.Reseal(data)
		}
		c, err := training.UnmarshalCheckpoint(data)
		if err != nil {
			if !errors.Is(err, training.ErrBadCheckpoint) {
				t.Fatalf("error %v does not wrap ErrBadCheckpoint", err)
			}
			return
		}
		if _, err := c.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
	})
}

// resealed encodes c (MarshalBinary seals it with a valid checksum) and
// decodes it again: what a crafted file with a correct checksum gives.
func resealed(t testing.TB, c *training.Checkpoint) error {
	t.Helper()
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	_, err = training.UnmarshalCheckpoint(b)
	return err
}

// TestCheckpointNonFinite: NaN or infinite parameters or momentum with a
// valid checksum are refused, naming the tensor and the index.
func TestCheckpointNonFinite(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(c *training.Checkpoint)
		want   string
	}{
		{"NaN parameter", func(c *training.Checkpoint) { c.Params[0].Data[5] = float32(math.NaN()) }, "parameters fc1.w[5] is NaN"},
		{"-Inf parameter", func(c *training.Checkpoint) { c.Params[3].Data[9] = float32(math.Inf(-1)) }, "parameters fc2.b[9] is -Inf"},
		{"Inf momentum", func(c *training.Checkpoint) { c.Velocity[2].Data[0] = float32(math.Inf(1)) }, "momentum fc2.w[0] is +Inf"},
		{"NaN momentum", func(c *training.Checkpoint) { c.Velocity[1].Data[255] = float32(math.NaN()) }, "momentum fc1.b[255] is NaN"},
		{"momentum of another shape", func(c *training.Checkpoint) { c.Velocity = c.Velocity[:3] }, "momentum do not fit"},
		{"no momentum", func(c *training.Checkpoint) { c.Velocity = nil }, "momentum do not fit"},
		{"unknown model", func(c *training.Checkpoint) { c.Meta.Model = "resnet" }, "unknown model"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ck := sampleCheckpoint()
			c.mutate(ck)
			err := resealed(t, ck)
			if !errors.Is(err, training.ErrBadCheckpoint) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrBadCheckpoint naming %q", err, c.want)
			}
		})
	}
}

// TestCheckpointFields: every field of the metadata is validated; each
// crafted value is refused with an error naming the field.
func TestCheckpointFields(t *testing.T) {
	neg := -3
	cases := []struct {
		name   string
		mutate func(m *training.CheckpointMeta)
		want   string
	}{
		{"negative steps", func(m *training.CheckpointMeta) { m.Partial.Steps = -1 }, "partial.steps"},
		{"more steps than positions", func(m *training.CheckpointMeta) { m.Partial.Steps = 2 }, "partial.steps"},
		{"steps without a position", func(m *training.CheckpointMeta) { m.Partial.Pos = 0 }, "partial.steps"},
		{"negative seconds", func(m *training.CheckpointMeta) { m.Partial.Seconds = -100 }, "partial.seconds is -100"},
		{"absurd seconds", func(m *training.CheckpointMeta) { m.Partial.Seconds = 1e300 }, "partial.seconds"},
		{"loss sum 1e308", func(m *training.CheckpointMeta) { m.Partial.LossSum = 1e308 }, "partial.loss_sum"},
		{"negative loss sum", func(m *training.CheckpointMeta) { m.Partial.LossSum = -1 }, "partial.loss_sum"},
		{"position past the plan", func(m *training.CheckpointMeta) { m.Partial.Pos, m.Partial.Steps = 4, 4 }, "partial.pos"},
		{"negative position", func(m *training.CheckpointMeta) { m.Partial.Pos = -1 }, "partial.pos"},
		{"epoch 1,000,000", func(m *training.CheckpointMeta) { m.Partial.Epoch = 1_000_000 }, "partial.epoch"},
		{"negative index", func(m *training.CheckpointMeta) { m.Partial.Plan.Indices[2] = -7 }, "partial.plan.indices[2]"},
		{"weights of another length", func(m *training.CheckpointMeta) { m.Partial.Plan.Weights = []float64{1} }, "partial.plan.weights"},
		{"negative weight", func(m *training.CheckpointMeta) { m.Partial.Plan.Weights = []float64{1, -1, 1} }, "partial.plan.weights[1]"},
		{"stats of another epoch", func(m *training.CheckpointMeta) { m.Partial.Stats = &sampler.Stats{Epoch: 9, Drawn: 3} }, "partial.stats.epoch"},
		{"stats of another plan", func(m *training.CheckpointMeta) { m.Partial.Stats = &sampler.Stats{Epoch: 2, Drawn: 30} }, "partial.stats.drawn"},
		{"history skips an epoch", func(m *training.CheckpointMeta) { m.History[0].Epoch = 1_000_000 }, "history[0].epoch"},
		{"seconds going back", func(m *training.CheckpointMeta) {
			m.History = append(m.History, m.History[0])
			m.History[1].Epoch, m.History[1].TrainSeconds, m.History[1].SamplesSeen = 2, 1, 200
			m.Partial.Epoch = 3
		}, "history[1].train_seconds"},
		{"samples not adding up", func(m *training.CheckpointMeta) { m.History[0].SamplesSeen = 99 }, "history[0].samples_seen"},
		{"negative training seconds", func(m *training.CheckpointMeta) { m.History[0].TrainSeconds = -100 }, "history[0].train_seconds"},
		{"accuracy above 1", func(m *training.CheckpointMeta) { m.History[0].TestAcc = 1.5 }, "history[0].test_acc"},
		{"validation accuracy below 0", func(m *training.CheckpointMeta) { v := -0.1; m.History[0].ValAcc = &v }, "history[0].val_acc"},
		{"huge loss", func(m *training.CheckpointMeta) { m.History[0].TrainLoss = 1e300 }, "history[0].train_loss"},
		{"negative kept", func(m *training.CheckpointMeta) { m.History[0].Kept = &neg }, "history[0].kept"},
		{"hit at an epoch not begun", func(m *training.CheckpointMeta) { m.Hits[0].Epoch = 3 }, "hits[0].epoch"},
		{"hit in the interrupted epoch without one", func(m *training.CheckpointMeta) { m.Hits[0].Epoch = 2; m.Partial = nil }, "hits[0].epoch"},
		{"hit matching no evaluation", func(m *training.CheckpointMeta) { m.Hits[0].GridSamples = 60 }, "hits[0]"},
		{"evaluation grid not increasing", func(m *training.CheckpointMeta) { m.Evals[1].GridSamples = 50 }, "evals[1].grid_samples"},
		{"evaluation before its grid point", func(m *training.CheckpointMeta) { m.Evals[0].SamplesSeen = 49 }, "evals[0].samples_seen"},
		{"evaluation accuracy above 1", func(m *training.CheckpointMeta) { v := 1.5; m.Evals[0].ValAcc = &v }, "evals[0].val_acc"},
		{"evaluation loss huge", func(m *training.CheckpointMeta) { v := 1e300; m.Evals[1].ValLoss = &v }, "evals[1].val_loss"},
		{"evaluation time negative", func(m *training.CheckpointMeta) { m.Evals[1].TrainSeconds = -1 }, "evals[1].train_seconds"},
		{"evaluation without accuracy", func(m *training.CheckpointMeta) { m.Evals[0].ValAcc = nil }, "evals[0]"},
		{"evaluation in an epoch not begun", func(m *training.CheckpointMeta) { m.Evals[1].Epoch = 3 }, "evals[1].epoch"},
		{"hit target 0", func(m *training.CheckpointMeta) { m.Hits[0].Target = 0 }, "hits[0].target"},
		{"hit target twice", func(m *training.CheckpointMeta) { m.Hits = append(m.Hits, m.Hits[0]) }, "hits[1].target"},
		{"hit time not the epoch's", func(m *training.CheckpointMeta) { m.Hits[0].TrainSeconds = -5 }, "hits[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ck := sampleCheckpoint()
			c.mutate(&ck.Meta)
			err := resealed(t, ck)
			if !errors.Is(err, training.ErrBadCheckpoint) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrBadCheckpoint naming %q", err, c.want)
			}
		})
	}
	// The sample itself and an epoch boundary without a partial are valid.
	ck := sampleCheckpoint()
	if err := resealed(t, ck); err != nil {
		t.Fatal(err)
	}
	ck.Meta.Partial = nil
	if err := resealed(t, ck); err != nil {
		t.Fatal(err)
	}
}

// TestCheckpointRun: a checkpoint is checked against the configuration it
// was saved with before a run is built for it.
// TestCheckpointOldVersion refuses a version 1 checkpoint (its SGD-S
// settings had PascalCase keys that would read as defaults) saying why.
func TestCheckpointOldVersion(t *testing.T) {
	b, err := sampleCheckpoint().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint32(b[8:], 1)
	p := filepath.Join(t.TempDir(), training.CheckpointFile)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = training.LoadCheckpoint(p)
	if !errors.Is(err, training.ErrBadCheckpoint) || !strings.Contains(err.Error(), "version 1") || !strings.Contains(err.Error(), "older sgds") {
		t.Fatalf("err = %v", err)
	}
	if _, err := training.UnmarshalCheckpoint(b); !errors.Is(err, training.ErrBadCheckpoint) || !strings.Contains(err.Error(), "version 1") {
		t.Fatalf("UnmarshalCheckpoint: %v", err)
	}
}

func TestCheckpointRun(t *testing.T) {
	t.Setenv(limits.EnvBudget, "")
	ok := training.CheckpointRun{Epochs: 3, Batch: 1, TrainN: 10}
	if err := sampleCheckpoint().CheckRun(ok); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		r    training.CheckpointRun
		want string
	}{
		{"epochs below the history", training.CheckpointRun{Epochs: 0, Batch: 1}, "0 epochs"},
		{"interrupted epoch beyond the configured", training.CheckpointRun{Epochs: 1, Batch: 1}, "partial.epoch is 2, the run is configured for 1"},
		{"batch 0", training.CheckpointRun{Epochs: 3, Batch: 0}, "batch 0"},
		{"batch of 10,000,000", training.CheckpointRun{Epochs: 3, Batch: 10_000_000}, "batch 10000000"},
		{"batch of 10^18", training.CheckpointRun{Epochs: 3, Batch: 1_000_000_000_000_000_000}, "over the memory budget"},
		{"position not steps × batch", training.CheckpointRun{Epochs: 3, Batch: 64}, "partial.pos is 1 after 1 steps of batch 64"},
		{"index beyond the training set", training.CheckpointRun{Epochs: 3, Batch: 1, TrainN: 3}, "partial.plan.indices[0] is 3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := sampleCheckpoint().CheckRun(c.r)
			if !errors.Is(err, training.ErrBadCheckpoint) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrBadCheckpoint naming %q", err, c.want)
			}
		})
	}
	ck := sampleCheckpoint()
	ck.Meta.Partial = nil
	ck.Meta.History = append(ck.Meta.History, ck.Meta.History[0], ck.Meta.History[0])
	for i := range ck.Meta.History {
		ck.Meta.History[i].Epoch, ck.Meta.History[i].SamplesSeen = i+1, int64(100*(i+1))
	}
	if err := ck.CheckRun(training.CheckpointRun{Epochs: 2, Batch: 64}); err == nil || !strings.Contains(err.Error(), "reaches epoch 3") {
		t.Fatalf("history beyond the configured epochs: err = %v", err)
	}
	if err := ck.CheckRun(training.CheckpointRun{Epochs: 3, Batch: 64}); err != nil {
		t.Fatalf("a finished run: %v", err)
	}
	t.Setenv(limits.EnvBudget, "1MiB")
	if err := ck.CheckRun(training.CheckpointRun{Epochs: 3, Batch: 1000}); !errors.Is(err, limits.ErrOverBudget) {
		t.Fatalf("batch 1000 in 1 MiB: err = %v", err)
	}
}

// TestLoadCheckpointSpecialFiles: a checkpoint.bin that is a FIFO, a link
// to /dev/zero or a folder is refused at once; a sparse 2 GB file is
// refused after its first bytes (bound: 1 MiB allocated) or, with a valid
// head, by its size, before it is read.
func TestLoadCheckpointSpecialFiles(t *testing.T) {
	type special struct {
		testfs.Special
		want error
	}
	var cases []special
	for _, s := range testfs.NotRegular() {
		cases = append(cases, special{s, safefile.ErrNotRegular})
	}
	cases = append(cases,
		special{testfs.Special{Name: "sparse 2 GB", Make: func(p string) error {
			return testfs.Sparse(p, 2_000_000_000)
		}, Want: []string{"wrong magic"}}, training.ErrBadCheckpoint},
		special{testfs.Special{Name: "sparse 2 GB with a valid head", Make: func(p string) error {
			head := binary.LittleEndian.AppendUint32([]byte("SGDSCKPT"), training.CheckpointVersion)
			if err := os.WriteFile(p, head, 0o644); err != nil {
				return err
			}
			return testfs.Sparse(p, 2_000_000_000)
		}, Want: []string{"limit"}}, safefile.ErrTooLarge},
	)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), training.CheckpointFile)
			if err := c.Make(p); err != nil {
				t.Skip(err)
			}
			var err error
			var n uint64
			testfs.Within(t, 5*time.Second, func() {
				n = testfs.Allocated(func() { _, err = training.LoadCheckpoint(p) })
			})
			if !errors.Is(err, c.want) || !errors.Is(err, training.ErrBadCheckpoint) || !c.Named(err) || !strings.Contains(err.Error(), p) {
				t.Fatalf("err = %v, want ErrBadCheckpoint and %v naming %s and %q", err, c.want, p, c.Want)
			}
			if n > 1<<20 {
				t.Fatalf("allocated %d bytes to refuse it", n)
			}
		})
	}
}

// FuzzCheckpointNonFinite sets fuzzed float32 bit patterns into the
// parameters and momentum and fuzzed numbers into the interrupted epoch's
// fields of a valid checkpoint (of the CNN, the smaller model, for speed),
// or flips bits of its encoding, reseals the checksum and decodes: a
// decoded checkpoint has only finite tensors and interrupted-epoch fields
// in range, and a non-finite value is refused with an error naming its
// tensor and index.
func FuzzCheckpointNonFinite(f *testing.F) {
	base := sampleCheckpointOf("cnn")
	f.Add(uint8(0), uint32(5), math.Float32bits(float32(math.NaN())), uint8(0), 0.0, int64(0), uint32(0))
	f.Add(uint8(5), uint32(3), math.Float32bits(float32(math.Inf(1))), uint8(1), -100.0, int64(-1), uint32(0))
	f.Add(uint8(2), uint32(0), uint32(0x3f800000), uint8(2), 1e308, int64(1_000_000), uint32(0))
	f.Add(uint8(1), uint32(9), uint32(0x7f800001), uint8(3), math.Inf(1), int64(3), uint32(1))
	f.Add(uint8(7), uint32(1), uint32(0xff800000), uint8(4), 0.5, int64(2), uint32(4000))
	f.Fuzz(func(t *testing.T, tensor uint8, index, bits uint32, field uint8, x float64, k int64, flip uint32) {
		ck := *base
		ck.Params, ck.Velocity = engine.CloneParams(base.Params), engine.CloneParams(base.Velocity)
		meta, err := json.Marshal(base.Meta)
		if err != nil {
			t.Fatal(err)
		}
		ck.Meta = training.CheckpointMeta{}
		if err := json.Unmarshal(meta, &ck.Meta); err != nil {
			t.Fatal(err)
		}
		all := append(append([]engine.Param(nil), ck.Params...), ck.Velocity...)
		p := all[int(tensor)%len(all)]
		i := int(index) % len(p.Data)
		p.Data[i] = math.Float32frombits(bits)
		what := "parameters"
		if int(tensor)%len(all) >= len(ck.Params) {
			what = "momentum"
		}
		pe := ck.Meta.Partial
		if !math.IsNaN(x) && !math.IsInf(x, 0) { // JSON cannot hold them
			switch field % 6 {
			case 0:
				pe.Seconds = x
			case 1:
				pe.LossSum = x
			case 2:
				ck.Meta.History[0].TrainSeconds = x
			case 3:
				ck.Meta.History[0].TrainLoss = x
			}
		}
		switch field % 6 {
		case 4:
			pe.Steps = int(k)
		case 5:
			pe.Epoch = int(k)
		}
		b, err := ck.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		flipped := false
		if flip != 0 { // flip a bit of the encoding and reseal the checksum
			b[int(flip)%len(b)] ^= byte(1 << (flip >> 29))
			b = training.Reseal(b)
			flipped = true
		}
		got, err := training.UnmarshalCheckpoint(b)
		if err != nil {
			if !errors.Is(err, training.ErrBadCheckpoint) {
				t.Fatalf("error %v does not wrap ErrBadCheckpoint", err)
			}
			if v := float64(p.Data[i]); !flipped && (math.IsNaN(v) || math.IsInf(v, 0)) &&
				!strings.Contains(err.Error(), fmt.Sprintf("%s %s[%d]", what, p.Name, i)) {
				t.Fatalf("non-finite %s %s[%d]: error %v does not name it", what, p.Name, i, err)
			}
			return
		}
		for _, ps := range [][]engine.Param{got.Params, got.Velocity} {
			for _, q := range ps {
				for j, v := range q.Data {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						t.Fatalf("accepted %s[%d] = %v", q.Name, j, v)
					}
				}
			}
		}
		if gp := got.Meta.Partial; gp != nil {
			ok := gp.Steps >= 0 && gp.Steps <= gp.Pos && gp.Seconds >= 0 && gp.Seconds <= 1e9 &&
				gp.LossSum >= 0 && gp.LossSum <= float64(gp.Pos)*math.MaxFloat32 && gp.Epoch == len(got.Meta.History)+1
			if !ok {
				t.Fatalf("accepted interrupted epoch %+v", *gp)
			}
		}
		for _, e := range got.Meta.History {
			if !(e.TrainSeconds >= 0 && e.TrainSeconds <= 1e9 && e.TrainLoss >= 0 && e.TrainLoss <= math.MaxFloat32) {
				t.Fatalf("accepted history %+v", e)
			}
		}
	})
}

func TestBatchBytesPerSample(t *testing.T) {
	for name, want := range map[string]int64{"mlp": 4 * (784 + 4 + 3*256 + 3*10), "cnn": 4 * (784 + 4 + 3*10*24*24 + 2*10*12*12 + 3*20*8*8 + 2*20*4*4 + 3*50 + 3*10)} {
		m, _ := engine.LookupModel(name)
		if got := engine.BatchBytesPerSample(m); got != want {
			t.Errorf("%s: %d bytes per sample, want %d", name, got, want)
		}
	}
}

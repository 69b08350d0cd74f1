package sampler_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/sgds/sgds/sampler"
)

// Draw indices with probability proportional to their weights: index 2 is
// three times as likely as index 0, index 1 is never drawn.
func ExampleAlias() {
	a, err := sampler.NewAlias([]float64{1, 0, 3})
	if err != nil {
		panic(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	counts := make([]int, a.Len())
	for range 40000 {
		counts[a.Draw(r)]++
	}
	fmt.Printf("p = %.2f %.2f %.2f\n", a.Prob(0), a.Prob(1), a.Prob(2))
	fmt.Printf("index 1 drawn %d times; index 2 drawn %.1f× as often as index 0\n",
		counts[1], float64(counts[2])/float64(counts[0]))
	// Output:
	// p = 0.25 0.00 0.75
	// index 1 drawn 0 times; index 2 drawn 3.0× as often as index 0
}

// The SGD-S schedule driving your own training loop: plan an epoch, train
// on each batch of its dataset indices, record the per-sample losses by
// dataset index, end the epoch. Here "training" is a stand-in that halves
// the loss of every sample it sees; in your loop it is your model's step,
// and the losses come from its forward pass.
func ExampleSchedule() {
	const n, batch = 1000, 50
	loss := make([]float32, n) // your model's current per-sample losses
	for i := range loss {
		loss[i] = float32(1 + i%7)
	}

	cfg := sampler.DefaultScheduleConfig() // 1 uniform epoch, drop 10% and re-add 1% per epoch
	cfg.BatchSize = batch
	s, err := sampler.NewSchedule(n, cfg, 42)
	if err != nil {
		panic(err)
	}
	for epoch := 1; epoch <= 4; epoch++ {
		plan, err := s.Plan(epoch) // dataset indices to visit, and their loss weights
		if err != nil {
			panic(err)
		}
		cost := 0.0 // the epoch's summed batch costs
		// Each batch: its dataset indices and their loss weights (1/B each when the plan sets none).
		for idx, w := range plan.Batches(batch) {
			losses := make([]float32, len(idx))
			for k, i := range idx { // your training step on samples idx
				cost += w[k] * float64(loss[i]) // the step minimises Σ w·L over the batch
				losses[k] = loss[i]
				loss[i] /= 2
			}
			if err := s.Record(idx, losses); err != nil { // losses by dataset index, from the step's forward pass
				panic(err)
			}
		}
		if err := s.EndEpoch(epoch); err != nil { // prunes the easiest, re-adds a few
			panic(err)
		}
		st := s.Stats()
		fmt.Printf("epoch %d: %d draws from %d kept, cost %.1f, next epoch draws from %d\n", epoch, st.Drawn, st.Kept, cost, s.KeptSize())
	}
	// Output:
	// epoch 1: 1000 draws from 1000 kept, cost 79.9, next epoch draws from 1000
	// epoch 2: 1000 draws from 1000 kept, cost 38.5, next epoch draws from 910
	// epoch 3: 910 draws from 910 kept, cost 18.0, next epoch draws from 829
	// epoch 4: 829 draws from 829 kept, cost 8.5, next epoch draws from 756
}

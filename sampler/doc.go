// Package sampler decides which training samples the engine learns from and
// when. It is pure host code with no dependency on the engine.
//
// # Alias table
//
// [Alias] draws an index i ∈ [0, n) with probability p_i = w_i / Σ_j w_j in
// O(1) per draw after an O(n) build (Walker's alias method, built with Vose's
// algorithm). The table holds, for each column j, a threshold t_j ∈ [0, 1]
// and an alias a_j; a draw picks a column j uniformly and returns j when a
// uniform u ∈ [0, 1) is below t_j, else a_j, so that
//
//	p_i = (t_i + Σ_{j : a_j = i} (1 − t_j)) / n.
//
// A column is one 64-bit word (threshold in the high bits, alias in the low
// ones) and a draw uses one 64-bit random value, so a draw costs one
// multiplication and one memory access. Weights are scaled by a power of two
// near their maximum when their sum could overflow, so any finite
// non-negative weights work, including ones spanning 1e-300 … 1e300; the
// implied probabilities match w_i/Σw to 1e-12 (for n ≤ 2^24).
//
// # Orders
//
// Every order ([Sequential], [Shuffled], [WithReplacement], [RS2], [Schedule],
// [InfoBatch], [Kakurenbo]) implements [Order]: the trainer asks for one
// [Plan] per epoch (the dataset indices to visit, in order, and optional
// per-position weights for the batch cost; [Plan.Batches] yields them batch
// by batch, 1/B each where the plan sets none), reports the per-sample
// scores (losses) of every step by dataset index with Record (an error
// wrapping [ErrBadIndex] for an index outside the data set), and calls
// EndEpoch at the end of each epoch. A [Schedule] sets the weights in every
// steady-state epoch by default (β = 0.75): train on Σ w·L, not the plain
// mean, or you train the biased variant. State and Restore save and resume
// an order so that a resumed run continues with the same draws.
// [WithReplacement] and [RS2] are the baselines a fair comparison needs:
// uniform draws with replacement, and a fresh random subset of a fixed
// fraction of the data per epoch (the equal-budget baseline of Okanovic et
// al., ICLR 2024).
//
// # Peer methods
//
// The host-side selection of the methods sgds compares against SGD-S:
// [InfoBatch] (Qin et al., ICLR 2024) and [Kakurenbo] (Nguyen et al.,
// NeurIPS 2023) are orders; [SelectiveBackprop] (Jiang et al., 2019) picks,
// from a forward pass of a candidate batch, the samples to backpropagate;
// [KF] (Katharopoulos and Fleuret, ICML 2018) draws a batch from k·B scored
// candidates with unbiased weights, switched on while its estimated
// variance reduction pays.
//
// The package works from any module: see the examples for an alias table and
// for the SGD-S schedule driving your own training loop (example_test.go, or
// `go test -run Example -v github.com/sgds/sgds/sampler`; go doc does not
// print examples).
//
// # Go version
//
// The package needs Go 1.23 ([iter] for [Plan.Batches]; [math/rand/v2] and
// range over integers need 1.22) and only the standard library. The module's
// go line says 1.26 because of dependencies of other packages in it
// (golang.org/x/term v0.48 and golang.org/x/sys v0.50, used by cmd/sgds,
// declare go 1.26; gonum and gonum/plot declare 1.24), so a module that
// imports sampler needs Go 1.26 as well.
//
// # SGD-S schedule
//
// [Schedule] implements "SGD on steroids" (docs/METHOD.md §3). The first
// TransientEpochs epochs, and the last round(FinalFull·Epochs) ones, visit all
// N samples in a fresh seeded shuffled order. Every other (steady-state) epoch
// draws K = |kept| dataset indices with replacement from the kept set with
// probability
//
//	p_i = (1 − λ)·s_i / Σ_{j∈kept} s_j + λ / K,   i ∈ kept,
//
// where s_i is the latest recorded score of sample i and λ = Mix (0.5 by
// default; larger in the first MixRamp steady-state epochs), by systematic
// sampling (the default: each sample ⌊K·p_i⌋ or ⌈K·p_i⌉ times, shuffled) or
// by independent alias-table draws (Systematic false, the post's). At the end
// of each steady-state epoch the round(DropFrac·K) kept samples with the
// lowest scores are dropped (never going below max(1, round(KeptFloor·N))
// samples), and round(ReaddFrac·N) samples are re-added, drawn uniformly
// without replacement from the samples outside the kept set. A drawn sample's
// loss gets the weight w_i = (K·p_i)^(−β) / (B·Σ_l p_l·(K·p_l)^(−β)) in the
// batch cost (E[w_i] = 1/B), with β = Debias (0.75 by default, as the
// importance weights of prioritized experience replay): β = 0 is the
// biased method (w = 1/B), β = 1 (Unbiased) makes the expected batch cost
// the uniform mean over the kept set, and in between a sample's pull on the
// gradient is (K·p_i)^(1−β) times its uniform share.
//
// # Determinism
//
// All randomness comes from PCG generators ([math/rand/v2]) whose seeds are
// derived from the order's seed, the purpose of the draw and the epoch
// number; nothing is seeded from the clock. A plan therefore depends only on
// the seed, the epoch and the recorded scores and kept set, which is exactly
// what State saves.
package sampler

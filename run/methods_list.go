package run

import (
	"fmt"
	"math"

	"github.com/sgds/sgds/engine"
	"github.com/sgds/sgds/sampler"
	"github.com/sgds/sgds/training"
)

// Methods describes every sampling method sgds runs (docs/METHOD.md §3
// and §8), in the order help and README list them. Adding a method is its
// sampler (package sampler), its test, one descriptor here and a field of
// Sampling for its settings.
var Methods = []Descriptor{
	{Name: "uniform", Summary: "a fresh shuffle per epoch, without replacement (plain SGD)",
		order: func(c Config, n int, seed, _ uint64) (sampler.Order, error) { return sampler.NewShuffled(n, seed) }},
	{Name: "uniform-replace", Summary: "N uniform draws with replacement per epoch",
		order: func(c Config, n int, seed, _ uint64) (sampler.Order, error) {
			return sampler.NewWithReplacement(n, seed)
		}},
	{Name: "rs2", Summary: "RS2: a fresh uniform random subset of a fraction of the data per epoch, without replacement (Okanovic et al., 2024)",
		Settings: []Setting{
			{Flag: "frac", Key: "frac", JSON: "frac", Value: "FRAC", Kind: KindFloat, Lo: 0, Hi: 1, LoOpen: true, Want: "a fraction", Required: true,
				Usage: "fraction `FRAC` of the training set visited per epoch, in (0, 1] (0: unset; --sampler rs2 needs it, the other samplers refuse it)",
				field: func(s *Sampling) any { return &s.Frac }},
		},
		present: func(s *Sampling) bool { return s.Frac != 0 },
		clear:   func(s *Sampling) { s.Frac = 0 },
		order: func(c Config, n int, seed, _ uint64) (sampler.Order, error) {
			return sampler.NewRS2(n, c.Frac, seed)
		}},
	{Name: "sequential", Summary: "the data set in its stored order, every epoch",
		order: func(c Config, n int, _, _ uint64) (sampler.Order, error) { return sampler.NewSequential(n) }},
	sgdsMethod,
	{Name: "infobatch", Summary: "InfoBatch: skip below-mean-loss samples with probability r, rescale the kept ones, full data at the end (Qin et al., 2024)",
		Settings: []Setting{
			floatSetting("infobatch-r", "r", "infobatch.r", "R", 0, 1, false, true, "a probability r",
				"probability `R` of skipping a sample whose last loss is below the mean, in [0, 1); the kept ones of those are weighted 1/(1−R)",
				func(s *Sampling) *float64 { return &s.InfoBatch.Prune }),
			floatSetting("infobatch-anneal", "anneal", "infobatch.anneal", "DELTA", 0, 1, false, false, "a fraction δ of the epochs",
				"fraction `DELTA` of the epochs that prune, in [0, 1]; the epochs after round(DELTA·epochs) train on the full data set",
				func(s *Sampling) *float64 { return &s.InfoBatch.Anneal }),
		},
		present: func(s *Sampling) bool { return s.InfoBatch != nil },
		reset: func(s *Sampling) {
			d := sampler.DefaultInfoBatchConfig(1)
			s.InfoBatch = &sampler.InfoBatchConfig{Prune: d.Prune, Anneal: d.Anneal}
		},
		clear: func(s *Sampling) { s.InfoBatch = nil },
		bind:  func(c *Config) { c.InfoBatch.BatchSize, c.InfoBatch.Epochs = c.Batch, c.Epochs },
		check: func(c Config) error { return c.InfoBatch.Validate() },
		order: func(c Config, n int, seed, _ uint64) (sampler.Order, error) {
			return sampler.NewInfoBatch(n, *c.InfoBatch, seed)
		}},
	{Name: "selective-backprop", Summary: "Selective-Backprop: forward every candidate, backpropagate sample i with probability CDF(L_i)^β (Jiang et al., 2019)",
		Settings: []Setting{
			floatSetting("sb-beta", "beta", "selective_backprop.beta", "BETA", 0, math.Inf(1), false, false, "a finite exponent β ≥ 0",
				"exponent `BETA` of P(backward pass) = CDF(loss)^BETA, finite and ≥ 0 (0: every candidate is trained on)",
				func(s *Sampling) *float64 { return &s.Selective.Beta }),
			intSetting("sb-window", "window", "selective_backprop.window", "N", 1, 1<<24, "a window of losses",
				fmt.Sprintf("the CDF is taken over the last `N` losses, in [1, %d]", 1<<24),
				func(s *Sampling) *int { return &s.Selective.Window }),
		},
		present: func(s *Sampling) bool { return s.Selective != nil },
		reset: func(s *Sampling) {
			d := sampler.DefaultSelectiveBackpropConfig()
			s.Selective = &d
		},
		clear: func(s *Sampling) { s.Selective = nil },
		check: func(c Config) error { return c.Selective.Validate() },
		order: func(c Config, n int, seed, draw uint64) (sampler.Order, error) {
			cands, err := sampler.NewShuffled(n, seed)
			if err != nil {
				return nil, err
			}
			sel, err := sampler.NewSelectiveBackprop(c.Selective.Beta, c.Selective.Window, draw)
			if err != nil {
				return nil, err
			}
			return training.NewSelectiveOrder(cands, sel)
		}},
	{Name: "kf-is", Summary: "Katharopoulos–Fleuret: presample k·B, draw B by the last-layer gradient-norm bound, switched on by the variance reduction τ (ICML 2018)",
		Settings: []Setting{
			intSetting("kf-k", "k", "kf_is.k", "K", 1, 1<<20, "a presampling factor k",
				fmt.Sprintf("score `K`·batch uniform candidates per step and draw the batch from them, in [1, %d]", 1<<20),
				func(s *Sampling) *int { return &s.KF.Presample }),
			floatSetting("kf-threshold", "threshold", "kf_is.threshold", "TAU", 0, math.Inf(1), false, false, "0 (the break-even (k+3)/3) or a finite threshold > 0",
				"importance sampling is on while the moving average of the variance reduction τ exceeds `TAU` (0: the break-even (k+3)/3; else finite and > 0)",
				func(s *Sampling) *float64 { return &s.KF.Threshold }),
			floatSetting("kf-tau-momentum", "tau-momentum", "kf_is.tau_momentum", "A", 0, 1, false, true, "a momentum a_τ",
				"momentum `A` of the moving average of τ, in [0, 1)",
				func(s *Sampling) *float64 { return &s.KF.Momentum }),
		},
		present: func(s *Sampling) bool { return s.KF != nil },
		reset: func(s *Sampling) {
			d := sampler.DefaultKFConfig()
			s.KF = &d
		},
		clear: func(s *Sampling) { s.KF = nil },
		check: func(c Config) error { return c.KF.Validate() },
		order: func(c Config, n int, seed, draw uint64) (sampler.Order, error) {
			cands, err := sampler.NewShuffled(n, seed)
			if err != nil {
				return nil, err
			}
			kf, err := sampler.NewKF(*c.KF, draw)
			if err != nil {
				return nil, err
			}
			return training.NewKFOrder(cands, kf)
		}},
	{Name: "kakurenbo", Summary: "KAKURENBO: hide up to a fraction of the confidently learned lowest-loss samples per epoch, refresh them by forward passes (Nguyen et al., 2023)",
		Settings: []Setting{
			floatSetting("kakurenbo-hide", "hide", "kakurenbo.hide", "FRAC", 0, 1, false, true, "a fraction F",
				"hide at most this fraction `FRAC` of the data per epoch (the lowest-loss confident samples), in [0, 1) (0: hide nothing)",
				func(s *Sampling) *float64 { return &s.Kakurenbo.MaxHide }),
			floatSetting("kakurenbo-tau", "tau", "kakurenbo.tau", "TAU", 0, 1, true, false, "a confidence τ",
				"confidence `TAU`: a sample may be hidden while its loss is ≤ −ln TAU, in (0, 1]",
				func(s *Sampling) *float64 { return &s.Kakurenbo.Confidence }),
		},
		present: func(s *Sampling) bool { return s.Kakurenbo != nil },
		reset: func(s *Sampling) {
			d := sampler.DefaultKakurenboConfig()
			s.Kakurenbo = &sampler.KakurenboConfig{MaxHide: d.MaxHide, Confidence: d.Confidence}
		},
		clear: func(s *Sampling) { s.Kakurenbo = nil },
		bind:  func(c *Config) { c.Kakurenbo.BatchSize = c.Batch },
		check: func(c Config) error { return c.Kakurenbo.Validate() },
		order: func(c Config, n int, seed, _ uint64) (sampler.Order, error) {
			return sampler.NewKakurenbo(n, *c.Kakurenbo, seed)
		}},
}

// sgdsMethod is SGD-S (docs/METHOD.md §3).
var sgdsMethod = Descriptor{Name: "sgds",
	Summary: "SGD-S: loss-proportional draws over a kept set that drops its easiest samples each epoch (the method of this project)",
	Settings: func() []Setting {
		sched := func(s *Sampling) *sampler.ScheduleConfig { return s.Schedule }
		return []Setting{
			{Flag: "score", Key: "score", JSON: "score", Value: "NAME", Kind: KindChoice, Choices: engine.Scores, Want: "a score",
				Usage: "per-sample score `NAME` the draws follow: loss, lastlayer (||softmax − onehot||) or gradnorm (exact ||∇θ L_i||)",
				field: func(s *Sampling) any { return &s.Score }},
			intSetting("transient", "transient", "schedule.transient_epochs", "EPOCHS", 0, math.MaxInt32, "a number of epochs",
				"uniform `EPOCHS` before the steady state (≥ 0; 0: sample by score from the first epoch)",
				func(s *Sampling) *int { return &sched(s).TransientEpochs }),
			floatSetting("drop", "drop", "schedule.drop_frac", "FRAC", 0, 1, false, true, "a fraction",
				"fraction `FRAC` of the kept set dropped (lowest scores) after each steady-state epoch, in [0, 1) (0: never drop)",
				func(s *Sampling) *float64 { return &sched(s).DropFrac }),
			floatSetting("readd", "readd", "schedule.readd_frac", "FRAC", 0, 1, false, true, "a fraction",
				"fraction `FRAC` of the data set re-added from the dropped samples after each steady-state epoch, in [0, 1) (0: never re-add)",
				func(s *Sampling) *float64 { return &sched(s).ReaddFrac }),
			floatSetting("kept-floor", "kept-floor", "schedule.kept_floor", "FRAC", 0, 1, false, false, "a fraction",
				"never prune the kept set below this fraction `FRAC` of the data set, in [0, 1] (0: no floor; 1: never prune)",
				func(s *Sampling) *float64 { return &sched(s).KeptFloor }),
			floatSetting("mix", "mix", "schedule.mix", "LAMBDA", 0, 1, false, false, "a mixing weight λ",
				"`LAMBDA` in p_i = (1−λ)·s_i/Σs + λ/|kept|, in [0, 1] (0: purely score-proportional; 1: uniform over the kept set)",
				func(s *Sampling) *float64 { return &sched(s).Mix }),
			{Flag: "readd-score", Key: "readd-score", JSON: "schedule.readd_score", Value: "last|mean", Kind: KindChoice,
				Choices: []string{string(sampler.ReaddLast), string(sampler.ReaddMean)}, Want: "a re-add score",
				Usage: "score a re-added sample starts with: `last|mean` (its last score, or the mean of the kept set)",
				field: func(s *Sampling) any { return &sched(s).ReaddScore }},
			{Flag: "unbiased", Key: "unbiased", JSON: "schedule.unbiased", Kind: KindBool,
				Usage: "weight each drawn sample by 1/(B·|kept|·p_i) so the expected gradient is the kept set's uniform one (--debias 1; overrides --debias)",
				field: func(s *Sampling) any { return &sched(s).Unbiased }},
			floatSetting("debias", "debias", "schedule.debias", "BETA", 0, 1, false, false, "an exponent",
				"weight each drawn sample by (|kept|·p_i)^(−`BETA`), scaled to mean 1/B, in [0, 1] (0: biased, the gradient leans to high scores by |kept|·p_i; 1: unbiased; between: by (|kept|·p_i)^(1−BETA))",
				func(s *Sampling) *float64 { return &sched(s).Debias }),
			floatSetting("final-full", "final-full", "schedule.final_full", "SHARE", 0, 1, false, false, "a share of the epochs",
				"the last `SHARE` of the epochs (round(SHARE·epochs) of them) visit the full data set once each, shuffled, without pruning, in [0, 1] (0: never)",
				func(s *Sampling) *float64 { return &sched(s).FinalFull }),
			{Flag: "systematic", Key: "systematic", JSON: "schedule.systematic", Kind: KindBool,
				Usage: "draw each epoch's |kept| samples by systematic sampling (sample i ⌊|kept|·p_i⌋ or ⌈|kept|·p_i⌉ times, shuffled); --systematic=false draws them independently, as the post did",
				field: func(s *Sampling) any { return &sched(s).Systematic }},
			intSetting("mix-ramp", "mix-ramp", "schedule.mix_ramp", "EPOCHS", 0, math.MaxInt32, "a number of epochs",
				"ease into score-driven draws over the first `EPOCHS` steady-state epochs, mixing with λ_j = λ + (1−λ)·(EPOCHS+1−j)/(EPOCHS+1) in the j-th (0: λ from the first)",
				func(s *Sampling) *int { return &sched(s).MixRamp }),
		}
	}(),
	present: func(s *Sampling) bool { return s.Schedule != nil },
	reset: func(s *Sampling) {
		d := sampler.DefaultScheduleConfig()
		s.Schedule = &d
		if s.Score == "" {
			s.Score = "loss"
		}
	},
	clear: func(s *Sampling) { s.Schedule, s.Score = nil, "" },
	bind:  func(c *Config) { c.Schedule.BatchSize = c.Batch },
	check: func(c Config) error {
		if err := c.Schedule.Validate(); err != nil {
			return fmt.Errorf("--batch: %w", err)
		}
		return nil
	},
	order: func(c Config, n int, seed, _ uint64) (sampler.Order, error) {
		sc := *c.Schedule
		sc.Epochs = c.Epochs
		return sampler.NewSchedule(n, sc, seed)
	},
}

// floatSetting and intSetting describe a numeric setting in [lo, hi]
// (open ends where loOpen, hiOpen; hi = +Inf for none).
func floatSetting(flag, key, json, value string, lo, hi float64, loOpen, hiOpen bool, want, usage string, field func(*Sampling) *float64) Setting {
	return Setting{Flag: flag, Key: key, JSON: json, Value: value, Usage: usage, Kind: KindFloat, Lo: lo, Hi: hi, LoOpen: loOpen, HiOpen: hiOpen,
		Want: want, field: func(s *Sampling) any { return field(s) }}
}

func intSetting(flag, key, json, value string, lo, hi int, want, usage string, field func(*Sampling) *int) Setting {
	return Setting{Flag: flag, Key: key, JSON: json, Value: value, Usage: usage, Kind: KindInt, Lo: float64(lo), Hi: float64(hi),
		Want: want, field: func(s *Sampling) any { return field(s) }}
}

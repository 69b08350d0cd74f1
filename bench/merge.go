package bench

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/sgds/sgds/internal/provenance"
	"github.com/sgds/sgds/run"
)

// ShardProvenance records where one shard of a merged comparison ran.
type ShardProvenance struct {
	Shard      Shard                 `json:"shard"`
	Provenance provenance.Provenance `json:"provenance"`
}

// Merge joins the N shards of one comparison (compare --shard K/N, K = 1 …
// N, each given once) into the comparison a single process would have
// run: the same configuration (Shard removed), each run taken from the
// shard that trained it, summaries and tables recomputed. The result's
// provenance is the first shard's, and Shards lists every shard's. The
// shards must agree on everything but their Shard and provenance.
func Merge(parts []*CompareResult) (*CompareResult, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("merge: no comparison given")
	}
	n := 0
	byK := map[int]*CompareResult{}
	var ref []byte
	for i, p := range parts {
		sh := p.Config.Shard
		if sh == nil {
			return nil, fmt.Errorf("merge: comparison %d is not a shard (run compare with --shard K/N)", i+1)
		}
		if n == 0 {
			n = sh.N
		}
		if sh.N != n {
			return nil, fmt.Errorf("merge: shard %s beside shards of %d parts", sh, n)
		}
		if byK[sh.K] != nil {
			return nil, fmt.Errorf("merge: shard %s is given twice", sh)
		}
		byK[sh.K] = p
		c := p.Config
		c.Shard = nil
		b, err := json.Marshal(struct {
			C            CompareConfig
			TrainSamples int
			TargetOn     string
		}{c, p.TrainSamples, p.TargetOn})
		if err != nil {
			return nil, err
		}
		if ref == nil {
			ref = b
		} else if !bytes.Equal(b, ref) {
			return nil, fmt.Errorf("merge: shard %s is of another comparison (its configuration, data or evaluation set differ from shard %d/%d's)", sh, parts[0].Config.Shard.K, n)
		}
	}
	if len(byK) != n {
		var missing []int
		for k := 1; k <= n; k++ {
			if byK[k] == nil {
				missing = append(missing, k)
			}
		}
		return nil, fmt.Errorf("merge: %d of %d shards given; missing %v", len(byK), n, missing)
	}
	first := parts[0]
	res := &CompareResult{Provenance: first.Provenance, Config: first.Config, TrainSamples: first.TrainSamples, TargetOn: first.TargetOn}
	res.Config.Shard = nil
	for k := 1; k <= n; k++ {
		res.Shards = append(res.Shards, ShardProvenance{Shard: *byK[k].Config.Shard, Provenance: byK[k].Provenance})
	}
	for i := range first.Runs {
		owner := byK[i%n+1]
		if i >= len(owner.Runs) {
			return nil, fmt.Errorf("merge: shard %s has %d runs, want %d", owner.Config.Shard, len(owner.Runs), len(first.Runs))
		}
		res.Runs = append(res.Runs, owner.Runs[i])
	}
	res.Summarise()
	return res, nil
}

// MergeTune joins the N shards of one tuning run (tune --shard K/N) into
// the tuning run one process would have made: the same configuration
// (Shard removed), every trial in grid order from the shard that trained
// it, the choices made again over all of them. Each shard must be
// complete and agree with the others on everything but its Shard and
// provenance.
func MergeTune(parts []*TuneResult) (*TuneResult, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("merge: no tuning run given")
	}
	n := 0
	byK := map[int]*TuneResult{}
	var ref []byte
	for i, p := range parts {
		sh := p.Config.Shard
		if sh == nil {
			return nil, fmt.Errorf("merge: tuning run %d is not a shard (run tune with --shard K/N)", i+1)
		}
		if n == 0 {
			n = sh.N
		}
		if sh.N != n || byK[sh.K] != nil {
			return nil, fmt.Errorf("merge: shard %s beside shards of %d parts, or given twice", sh, n)
		}
		if !p.Complete {
			return nil, fmt.Errorf("merge: tune shard %s has trials left; finish it with sgds tune --resume", sh)
		}
		byK[sh.K] = p
		c := p.Config
		c.Shard = nil
		b, err := json.Marshal(struct {
			C    TuneConfig
			Data any
		}{c, p.Data})
		if err != nil {
			return nil, err
		}
		if ref == nil {
			ref = b
		} else if !bytes.Equal(b, ref) {
			return nil, fmt.Errorf("merge: tune shard %s is of another tuning run (its configuration or data differ)", sh)
		}
	}
	if len(byK) != n {
		return nil, fmt.Errorf("merge: %d of %d tune shards given", len(byK), n)
	}
	first := parts[0]
	res := &TuneResult{Provenance: first.Provenance, Config: first.Config, Data: first.Data, Complete: true}
	res.Config.Shard = nil
	next := map[int]int{} // per shard, its next trial
	err := res.Config.grid(func(i int, m run.Method, sc string, lr, mom float64, seed uint64) error {
		k := i%n + 1
		p := byK[k]
		j := next[k]
		if j >= len(p.Trials) {
			return fmt.Errorf("merge: tune shard %d/%d has %d trials, fewer than its part of the grid", k, n, len(p.Trials))
		}
		tr := p.Trials[j]
		if tr.Method != m.Name || tr.LR != lr || tr.Momentum != mom || tr.Schedule != sc || tr.Seed != seed {
			return fmt.Errorf("merge: tune shard %d/%d's trial %d is not the grid's trial %d", k, n, j+1, i+1)
		}
		next[k]++
		res.Trials = append(res.Trials, tr)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for k := 1; k <= n; k++ {
		res.Shards = append(res.Shards, ShardProvenance{Shard: *byK[k].Config.Shard, Provenance: byK[k].Provenance})
	}
	res.choose()
	return res, nil
}

package bench

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/sgds/sgds/internal/provenance"
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

package sampler

import "math/rand/v2"

// Purposes of the generators a plan or an epoch end uses. Each (seed,
// purpose, epoch) triple selects an independent PCG stream.
const (
	purposeShuffle         uint64 = 1 + iota // uniform shuffled order of an epoch
	purposeDraw                              // steady-state draws of an epoch
	purposeReadd                             // choice of the re-added samples
	purposeTie                               // tie-breaking among equal scores
	purposeWithReplacement                   // uniform draws with replacement of an epoch
	purposeRS2                               // the random subset of an RS2 epoch
	purposeInfoBatch                         // InfoBatch's per-sample prune coins of an epoch
	purposeKakurenboTie                      // KAKURENBO's tie-breaking among equal losses
	purposeSelective                         // Selective-Backprop's coins of one Select call
	purposeKF                                // Katharopoulos–Fleuret draws of one Choose call
)

// mix64 is the SplitMix64 finaliser: a bijection of uint64 whose outputs for
// nearby inputs look independent.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// streamSeeds returns the two PCG seed words for one purpose in one epoch.
func streamSeeds(seed, purpose uint64, epoch int) (hi, lo uint64) {
	hi = mix64(seed ^ mix64(purpose))
	lo = mix64(hi ^ mix64(uint64(epoch)))
	return hi, lo
}

// stream is a reusable generator: reseeding does not allocate.
type stream struct {
	pcg rand.PCG
	rng *rand.Rand
}

func newStream() *stream {
	s := &stream{}
	s.rng = rand.New(&s.pcg)
	return s
}

// at reseeds the stream for (seed, purpose, epoch) and returns its generator.
func (s *stream) at(seed, purpose uint64, epoch int) *rand.Rand {
	s.pcg.Seed(streamSeeds(seed, purpose, epoch))
	return s.rng
}

// permute sets dst to a uniformly random permutation of 0 … len(dst)−1
// (Fisher–Yates).
func permute(dst []int, r *rand.Rand) {
	for i := range dst {
		dst[i] = i
	}
	shuffle(dst, r)
}

// shuffle puts dst in a uniformly random order (Fisher–Yates).
func shuffle(dst []int, r *rand.Rand) {
	for i := len(dst) - 1; i > 0; i-- {
		j := int(r.Uint64N(uint64(i + 1)))
		dst[i], dst[j] = dst[j], dst[i]
	}
}

package sampler

import (
	"testing"
	"time"
)

func TestPasses(t *testing.T) {
	w := benchWeights(60000)
	a, _ := NewAlias(w)
	for round := 0; round < 5; round++ {
		PassTimes = [3]time.Duration{}
		for range 300 {
			a.Reset(w)
		}
		t.Logf("per build: pass1 %v pass2 %v pass3 %v", PassTimes[0]/300, PassTimes[1]/300, PassTimes[2]/300)
	}
}

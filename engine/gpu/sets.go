package gpu

import (
	"fmt"

	"github.com/sgds/sgds/cuda"
	"github.com/sgds/sgds/engine/data"
)

// setKey identifies a data set by pointer and size: a set must not change
// once a Net has seen it, except by shrinking (data.Set.Limit), which makes
// it a new set.
type setKey struct {
	set *data.Set
	n   int
}

// devSet is a data set resident on the device, uploaded once and shared by
// every Net that trains or evaluates on it (refs counts them).
type devSet struct {
	key    setKey
	images *cuda.Float32s
	labels *cuda.Int32s
	refs   int
	idle   int // the device's tick when refs fell to 0
}

func (ds *devSet) bytes() int64 { return 4 * int64(ds.images.Len()+ds.labels.Len()) }

// idleBytes bounds the device memory held by sets that no Net uses any
// more: the nets of a comparison, built one after the other, then share
// one upload of the training and the test set.
const idleBytes = 1 << 30

// acquire returns set on the device, uploading it (on stream s, waiting for
// the copy) unless it is there already.
func (d *gpuDevice) acquire(set *data.Set, s *cuda.Stream) (*devSet, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	key := setKey{set, set.N}
	if ds, ok := d.sets[key]; ok {
		ds.refs++
		return ds, nil
	}
	P := set.Pixels()
	if len(set.Images) < set.N*P || len(set.Labels) < set.N {
		return nil, fmt.Errorf("gpu: data set %s holds %d image values and %d labels for %d samples of %d values",
			set.Name, len(set.Images), len(set.Labels), set.N, P)
	}
	ds := &devSet{key: key, refs: 1}
	err := func() error {
		var err error
		if ds.images, err = cuda.Alloc[float32](d.ctx, set.N*P); err != nil {
			return err
		}
		if ds.labels, err = cuda.Alloc[int32](d.ctx, set.N); err != nil {
			return err
		}
		if err := ds.images.CopyFrom(s, set.Images[:set.N*P]); err != nil {
			return err
		}
		if err := ds.labels.CopyFrom(s, set.Labels[:set.N]); err != nil {
			return err
		}
		return s.Synchronize()
	}()
	if err != nil {
		return nil, fmt.Errorf("gpu: uploading %s: %w", set.Name, joinFree(err, ds.free()))
	}
	d.sets[key] = ds
	return ds, nil
}

// release drops a Net's use of ds, then frees the least recently released
// idle sets beyond idleBytes.
func (d *gpuDevice) release(ds *devSet) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tick++
	if ds.refs--; ds.refs == 0 {
		ds.idle = d.tick
	}
	var idle int64
	for _, o := range d.sets {
		if o.refs == 0 {
			idle += o.bytes()
		}
	}
	var err error
	for idle > idleBytes {
		var oldest *devSet
		for _, o := range d.sets {
			if o.refs == 0 && (oldest == nil || o.idle < oldest.idle) {
				oldest = o
			}
		}
		idle -= oldest.bytes()
		delete(d.sets, oldest.key)
		if e := oldest.free(); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// free releases the set's device memory.
func (ds *devSet) free() error {
	err := ds.images.Free()
	if e := ds.labels.Free(); err == nil {
		err = e
	}
	return err
}

// joinFree returns err, with the error of freeing after it appended.
func joinFree(err, free error) error {
	if free == nil {
		return err
	}
	return fmt.Errorf("%w (and freeing: %v)", err, free)
}

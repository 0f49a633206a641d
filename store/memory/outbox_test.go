package memory

import (
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scimkit/scim/store"
)

// TestOutboxAsASlice runs sequences of appends, roll-backs and trims on an
// outbox and on a plain slice of Seq values, across array boundaries, and
// compares what they hold after every step.
func TestOutboxAsASlice(t *testing.T) {
	type op struct {
		push     int   // append this many events
		truncate int   // then roll back to this many held (-1: none)
		trimUpTo int64 // then drop the events with Seq ≤ this (0: none)
	}
	c := outboxChunk
	tests := []struct {
		name string
		ops  []op
	}{
		{"empty", []op{{0, -1, 0}}},
		{"one array", []op{{10, -1, 0}}},
		{"exactly full", []op{{c, -1, 0}, {1, -1, 0}}},
		{"three arrays", []op{{2*c + 5, -1, 0}}},
		{"roll back into an earlier array", []op{{2*c + 5, c - 3, 0}, {10, -1, 0}}},
		{"roll back to nothing", []op{{c + 1, 0, 0}, {3, -1, 0}}},
		{"roll back to an array boundary", []op{{2 * c, c, 0}, {1, -1, 0}}},
		{"trim inside the first array", []op{{c + 10, -1, 7}, {5, -1, 0}}},
		{"trim whole arrays", []op{{3*c + 2, -1, int64(2 * c)}, {c, -1, 0}}},
		{"trim everything", []op{{c + 3, -1, int64(c + 3)}, {2, -1, 0}}},
		{"trim beyond", []op{{5, -1, 100}, {2, -1, 0}}},
		{"roll back after a trim", []op{{2*c + 1, -1, int64(c + 100)}, {50, c - 120, 0}, {c, -1, 0}}},
		{"roll back a trimmed first array", []op{{c - 1, -1, 10}, {0, 5, 0}, {2, -1, 0}}},
		{"roll back all after a trim", []op{{c + 20, -1, int64(c + 5)}, {0, 0, 0}, {1, -1, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o outbox
			var model []int64
			var seq int64
			for step, op := range tt.ops {
				for range op.push {
					seq++
					o.push(eventRec{e: store.Event{Seq: seq}})
					model = append(model, seq)
				}
				if op.truncate >= 0 {
					o.truncate(op.truncate)
					model = model[:op.truncate]
					if len(model) > 0 {
						seq = model[len(model)-1]
					}
				}
				if op.trimUpTo > 0 {
					k := 0
					for k < len(model) && model[k] <= op.trimUpTo {
						k++
					}
					if got := o.after(op.trimUpTo); got != k {
						t.Fatalf("step %d: after(%d) = %d, want %d", step, op.trimUpTo, got, k)
					}
					o.dropFirst(k)
					model = model[k:]
				}
				if diff := cmp.Diff(model, outboxSeqs(&o), cmpopts.EquateEmpty()); diff != "" {
					t.Fatalf("step %d: events held (-want +got):\n%s", step, diff)
				}
				checkOutbox(t, &o)
			}
		})
	}
}

// TestOutboxRandom checks random operations against the slice model.
func TestOutboxRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var o outbox
	var model []int64
	var seq int64
	for step := range 1000 {
		switch rng.IntN(4) {
		case 0, 1:
			for range rng.IntN(300) {
				seq++
				o.push(eventRec{e: store.Event{Seq: seq}})
				model = append(model, seq)
			}
		case 2:
			n := rng.IntN(len(model) + 1)
			o.truncate(n)
			model = model[:n]
		case 3:
			k := rng.IntN(len(model) + 1)
			upTo := int64(0)
			if k > 0 {
				upTo = model[k-1]
			}
			if got := o.after(upTo); got != k {
				t.Fatalf("step %d: after(%d) = %d, want %d", step, upTo, got, k)
			}
			o.dropFirst(k)
			model = model[k:]
		}
		if diff := cmp.Diff(model, outboxSeqs(&o), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("step %d: events held (-want +got):\n%s", step, diff)
		}
		checkOutbox(t, &o)
	}
}

func outboxSeqs(o *outbox) []int64 {
	var out []int64
	for i := range o.len() {
		out = append(out, o.at(i).e.Seq)
	}
	return out
}

// checkOutbox checks the invariants: no empty array, all but the last
// full, the dropped and rolled-back slots cleared (so that their users are
// freed), the count right.
func checkOutbox(t *testing.T, o *outbox) {
	t.Helper()
	n := -o.head
	for i, c := range o.chunks {
		if len(c) == 0 || (i < len(o.chunks)-1 && len(c) != outboxChunk) {
			t.Fatalf("array %d of %d holds %d events", i, len(o.chunks), len(c))
		}
		n += len(c)
		if spare := c[len(c):cap(c)]; len(spare) > 0 && spare[0].e.Seq != 0 {
			t.Fatalf("array %d keeps a rolled-back event (Seq %d)", i, spare[0].e.Seq)
		}
	}
	if n != o.len() && !(len(o.chunks) == 0 && o.len() == 0) {
		t.Fatalf("len() = %d, arrays hold %d", o.len(), n)
	}
	if len(o.chunks) > 0 {
		for i, r := range o.chunks[0][:o.head] {
			if r.e.Seq != 0 {
				t.Fatalf("trimmed slot %d keeps Seq %d", i, r.e.Seq)
			}
		}
	} else if o.head != 0 {
		t.Fatalf("head %d without arrays", o.head)
	}
}

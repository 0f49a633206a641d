package memory

import "sort"

// outboxChunk is how many events one array of an outbox holds.
const outboxChunk = 1024

// outbox is a tenant's events in Seq order, kept in arrays of outboxChunk
// events. Appending never copies the events already recorded: with one
// growing array, the append that outgrew it copied the whole outbox (30 MB
// at 100,000 events) while holding the tenant's write lock, stalling every
// request of the tenant and leaving the old array to the garbage collector.
type outbox struct {
	chunks [][]eventRec // all full but the last; never an empty one
	head   int          // events of chunks[0] before head are trimmed
	n      int          // events held
}

// len is the number of events held.
func (o *outbox) len() int { return o.n }

// at returns the i-th event held, 0 ≤ i < len().
func (o *outbox) at(i int) *eventRec {
	i += o.head
	return &o.chunks[i/outboxChunk][i%outboxChunk]
}

// push appends rec.
func (o *outbox) push(rec eventRec) {
	last := len(o.chunks) - 1
	if last < 0 || len(o.chunks[last]) == outboxChunk {
		o.chunks = append(o.chunks, make([]eventRec, 0, outboxChunk))
		last++
	}
	o.chunks[last] = append(o.chunks[last], rec)
	o.n++
}

// truncate drops the events from the n-th on, n ≤ len().
func (o *outbox) truncate(n int) {
	for o.n > n {
		last := len(o.chunks) - 1
		c := o.chunks[last]
		start := 0
		if last == 0 {
			start = o.head
		}
		drop := min(o.n-n, len(c)-start)
		clear(c[len(c)-drop:]) // let the copies go
		c = c[:len(c)-drop]
		o.n -= drop
		if len(c) == start {
			o.chunks[last] = nil
			o.chunks = o.chunks[:last]
			if last == 0 {
				o.head = 0
			}
		} else {
			o.chunks[last] = c
		}
	}
}

// dropFirst drops the first k events, k ≤ len(): whole arrays are let go;
// in the first one kept, the dropped events are cleared.
func (o *outbox) dropFirst(k int) {
	if k == o.n {
		*o = outbox{}
		return
	}
	pos := o.head + k
	full := pos / outboxChunk
	clear(o.chunks[:full])
	o.chunks = o.chunks[full:]
	o.head = pos % outboxChunk
	clear(o.chunks[0][:o.head])
	o.n -= k
}

// after returns the index of the first event with Seq greater than seq.
func (o *outbox) after(seq int64) int {
	return sort.Search(o.n, func(i int) bool { return o.at(i).e.Seq > seq })
}

package scim

import (
	"context"
	"errors"
	"testing"
	"time"
)

type ctxKey struct{}

// withLazyDeadline returns a context and the function that ends it, as
// context.WithDeadline does.
func withLazyDeadline(parent context.Context, deadline time.Time) (context.Context, context.CancelFunc) {
	c := new(lazyDeadline)
	return c.init(parent, deadline), c.stop
}

// TestLazyDeadlineBehavesAsWithDeadline checks, step by step, that the lazy
// context answers as context.WithDeadline's on the same parent would:
// before and after its deadline, after its parent is cancelled, and after
// the request ends, with and without something waiting on Done.
func TestLazyDeadlineBehavesAsWithDeadline(t *testing.T) {
	type state struct {
		err, cause error
		done       bool
		value      any
		childErr   error // of a context.WithCancel child made at the start
	}
	observe := func(ctx, child context.Context, wait bool) state {
		s := state{err: ctx.Err(), cause: context.Cause(ctx), value: ctx.Value(ctxKey{}), childErr: child.Err()}
		if wait {
			select {
			case <-ctx.Done():
				s.done = true
			default:
			}
		} else {
			s.done = ctx.Err() != nil
		}
		return s
	}
	steps := []struct {
		name string
		act  func(cancelParent, cancel context.CancelFunc)
	}{
		{"fresh", func(context.CancelFunc, context.CancelFunc) {}},
		{"deadline passed", func(context.CancelFunc, context.CancelFunc) { time.Sleep(300 * time.Millisecond) }},
		{"parent cancelled", func(p, _ context.CancelFunc) { p() }},
		{"request over", func(_, c context.CancelFunc) { c() }},
	}
	for _, wait := range []bool{false, true} {
		for first := range steps {
			// Each scenario: the steps from first on, on a lazy context
			// and a context.WithDeadline side by side.
			base := context.WithValue(context.Background(), ctxKey{}, "v")
			lp, lpCancel := context.WithCancel(base)
			wp, wpCancel := context.WithCancel(base)
			deadline := time.Now().Add(200 * time.Millisecond)
			lazy, lazyCancel := withLazyDeadline(lp, deadline)
			want, wantCancel := context.WithDeadline(wp, deadline)
			// Without waiting on Done there is no child either: the lazy
			// context stays lazy, answering from the clock.
			lazyChild, wantChild := lazy, want
			if wait {
				var cancelLazyChild, cancelWantChild context.CancelFunc
				lazyChild, cancelLazyChild = context.WithCancel(lazy)
				wantChild, cancelWantChild = context.WithCancel(want)
				defer cancelLazyChild()
				defer cancelWantChild()
			}
			for i := first; i < len(steps); i++ {
				steps[i].act(lpCancel, lazyCancel)
				steps[i].act(wpCancel, wantCancel)
				got, exp := observe(lazy, lazyChild, wait), observe(want, wantChild, wait)
				if got != exp {
					t.Errorf("wait=%v, from %q, after %q: lazy %+v, WithDeadline %+v", wait, steps[first].name, steps[i].name, got, exp)
				}
				if d, _ := lazy.Deadline(); !d.Equal(deadline) {
					t.Errorf("Deadline() = %v, want %v", d, deadline)
				}
			}
			lpCancel()
			wpCancel()
			lazyCancel()
			wantCancel()
		}
	}
}

func TestLazyDeadlineStartsNoTimerWhenOnlyPolled(t *testing.T) {
	ctx, cancel := withLazyDeadline(context.Background(), time.Now().Add(time.Hour))
	lazy := ctx.(*lazyDeadline)
	for range 3 {
		if err := ctx.Err(); err != nil {
			t.Fatal(err)
		}
		_ = ctx.Value(ctxKey{})
	}
	if lazy.timed.Load() != nil {
		t.Error("Err and Value started the timer before the deadline")
	}
	cancel()
	if lazy.timed.Load() != nil {
		t.Error("ending the request started the timer")
	}
	if err := ctx.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("Err after the request ended = %v, want context.Canceled", err)
	}
	<-ctx.Done() // closed
}

func TestLazyDeadlineKeepsASoonerParentDeadline(t *testing.T) {
	parent, cancelParent := context.WithTimeout(context.Background(), time.Minute)
	defer cancelParent()
	ctx, cancel := withLazyDeadline(parent, time.Now().Add(time.Hour))
	defer cancel()
	pd, _ := parent.Deadline()
	if d, ok := ctx.Deadline(); !ok || !d.Equal(pd) {
		t.Errorf("Deadline() = %v, %v, want the parent's %v", d, ok, pd)
	}
}

package traceparent

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

const sample = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestRoundTrip(t *testing.T) {
	ctx := Context(context.Background(), sample)
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() || !sc.IsRemote() || !sc.IsSampled() || sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Fatalf("span context %+v", sc)
	}
	if got := Of(ctx); got != sample {
		t.Fatalf("Of = %q, want %q", got, sample)
	}
	if p := Ptr(ctx); p == nil || *p != sample {
		t.Fatalf("Ptr = %v", p)
	}
}

func TestBadValuesLeaveTheContext(t *testing.T) {
	for _, tp := range []string{
		"",
		"garbage",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace id
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero span id
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // forbidden version
		sample + string(make([]byte, MaxLen)),
	} {
		ctx := context.Background()
		if got := Context(ctx, tp); got != ctx {
			t.Errorf("Context(%q) changed the context", tp)
		}
	}
	if Of(context.Background()) != "" || Ptr(context.Background()) != nil {
		t.Error("a context without a span has a traceparent")
	}
	if ContextPtr(context.Background(), nil) != context.Background() {
		t.Error("ContextPtr(nil) changed the context")
	}
}

// FuzzContext: whatever a row holds, reading it never panics, and what it
// yields is either nothing or a valid traceparent that reads back the same.
func FuzzContext(f *testing.F) {
	for _, s := range []string{sample, "", "00-", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-extra"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tp string) {
		ctx := Context(context.Background(), tp)
		out := Of(ctx)
		if out == "" {
			return
		}
		if again := Of(Context(context.Background(), out)); again != out {
			t.Fatalf("%q read back as %q", out, again)
		}
	})
}

// Package logctx carries log attributes in a context.Context — the
// request id of an HTTP request, the job a worker runs, the incident a
// page belongs to — and a slog.Handler that adds them to every record
// logged with that context, so a line deep in a store call still says
// which request or job it served.
package logctx

import (
	"context"
	"log/slog"
	"slices"
)

type key struct{}

// With returns ctx carrying attrs after those it already carries. A key
// already carried is replaced, not repeated.
func With(ctx context.Context, attrs ...slog.Attr) context.Context {
	old := Attrs(ctx)
	out := make([]slog.Attr, 0, len(old)+len(attrs))
	for _, a := range old {
		if !slices.ContainsFunc(attrs, func(b slog.Attr) bool { return b.Key == a.Key }) {
			out = append(out, a)
		}
	}
	return context.WithValue(ctx, key{}, append(out, attrs...))
}

// Attrs are the attributes ctx carries.
func Attrs(ctx context.Context) []slog.Attr {
	if ctx == nil {
		return nil
	}
	a, _ := ctx.Value(key{}).([]slog.Attr)
	return a
}

// Handler adds the context's attributes to each record it handles. A
// record that names the same key itself keeps its own value only.
type Handler struct{ Next slog.Handler }

// NewHandler wraps next.
func NewHandler(next slog.Handler) Handler { return Handler{Next: next} }

// Enabled implements slog.Handler.
func (h Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.Next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h Handler) Handle(ctx context.Context, r slog.Record) error {
	if attrs := Attrs(ctx); len(attrs) > 0 {
		own := map[string]bool{}
		r.Attrs(func(a slog.Attr) bool { own[a.Key] = true; return true })
		r = r.Clone()
		for _, a := range attrs {
			if !own[a.Key] {
				r.AddAttrs(a)
			}
		}
	}
	return h.Next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return Handler{Next: h.Next.WithAttrs(attrs)}
}

// WithGroup implements slog.Handler.
func (h Handler) WithGroup(name string) slog.Handler { return Handler{Next: h.Next.WithGroup(name)} }

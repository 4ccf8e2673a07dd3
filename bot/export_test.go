package bot

import (
	"context"

	"github.com/slack-go/slack/socketmode"
)

// HandleSocketRequest exposes SocketMode.handle to the external tests.
func (s *SocketMode) HandleSocketRequest(ctx context.Context, req *socketmode.Request) (any, bool) {
	return s.handle(ctx, req)
}

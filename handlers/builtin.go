package handlers

import (
	"github.com/heraldhq/herald/bot"
)

// RegisterBuiltins adds every built-in handler to reg. This is the one list
// of what Herald does out of the box; cmd/herald calls it once.
func RegisterBuiltins(reg *bot.Registries, d Deps) error {
	steps := []func() error{
		func() error { return reg.Slash.Register(declareSlash(d)) },
		func() error { return reg.Jobs.Register(JobPostHeadline, postHeadline(d)) },
		func() error { return reg.Events.Register(mentionHandler(d, reg.Commands)) },
		func() error { return reg.Commands.Register(helpCommand(d, reg.Commands)) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

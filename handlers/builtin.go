package handlers

import (
	"github.com/heraldhq/herald/bot"
)

// RegisterBuiltins adds every built-in handler to reg. This is the one list
// of what Herald does out of the box; cmd/herald calls it once.
func RegisterBuiltins(reg *bot.Registries, d Deps) error {
	d.notifications = reg.Notifications
	steps := []error{
		// Declaring.
		reg.Slash.Register(declareSlash(d)),
		reg.Shortcuts.Register(declareFromMessage(d)),
		reg.Views.Register(declareSubmit(d)),
		reg.Views.Register(editSubmit(d)),
		reg.Jobs.Register(JobDeclareConfirm, confirmDeclared(d)),

		// The headline post and its buttons.
		reg.Jobs.Register(JobHeadline, refreshHeadline(d)),
		reg.Actions.Register(editButton(d)),
		reg.Actions.Register(createCommsButton(d)),
		reg.Actions.Register(pageButton(d)),
		reg.Actions.Register(closeButton(d)),
		reg.Actions.Register(reopenButton(d)),

		// Comms channels and what closing sends.
		reg.Jobs.Register(JobCommsCreate, createComms(d)),
		reg.Jobs.Register(JobCommsNotice, postNotice(d)),
		reg.Jobs.Register(JobCommsArchive, archiveComms(d)),
		reg.Jobs.Register(JobReportDM, reportDM(d)),

		// Reminders.
		reg.Notifications.Register(noLeadReminder(d)),
		reg.Notifications.Register(noSeverityReminder(d)),
		reg.Notifications.Register(statusUpdateReminder(d)),
		reg.Notifications.Register(takeABreakReminder(d)),
		reg.Notifications.Register(closeMeReminder(d)),

		// @incident commands.
		reg.Events.Register(mentionHandler(d, reg.Commands)),
		reg.Commands.Register(helpCommand(d, reg.Commands)),
	}
	for _, err := range steps {
		if err != nil {
			return err
		}
	}
	return nil
}

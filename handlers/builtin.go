package handlers

import (
	"github.com/heraldhq/herald/bot"
)

// RegisterBuiltins adds every built-in handler to reg. This is the one list
// of what Herald does out of the box; cmd/herald calls it once.
func RegisterBuiltins(reg *bot.Registries, d Deps) error {
	if d.Reminders == nil {
		d.Reminders = reg.Notifications
	}
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
		reg.Actions.Register(docButton()),
		reg.Actions.Register(createCommsButton(d)),
		reg.Actions.Register(pageButton(d)),
		reg.Views.Register(pageSubmit(d)),
		reg.Actions.Register(claimPageButton(d)),
		reg.Actions.Register(resolvePageButton(d)),
		reg.Actions.Register(claimBatchButton(d)),
		reg.Jobs.Register(JobPagingAlert, pagingAlert(d)),
		reg.Jobs.Register(JobPagingAlertOwner, pagingAlertOwner(d)),
		reg.Actions.Register(closeButton(d)),
		reg.Actions.Register(reopenButton(d)),

		// Comms channels and what closing sends.
		reg.Jobs.Register(JobCommsCreate, createComms(d)),
		reg.Jobs.Register(JobCommsNotice, postNotice(d)),
		reg.Jobs.Register(JobCommsArchive, archiveComms(d)),
		reg.Jobs.Register(JobReportDM, reportDM(d)),
		reg.Jobs.OnFailure(reportFailure(d)),

		// On-call: who is on call, covering, handoff announcements.
		reg.Slash.Register(oncallSlash(d)),
		reg.Jobs.Register(JobOncallPost, postOncall(d)),

		// Reminders.
		reg.Notifications.Register(noLeadReminder(d)),
		reg.Notifications.Register(noSeverityReminder(d)),
		reg.Notifications.Register(statusUpdateReminder(d)),
		reg.Notifications.Register(takeABreakReminder(d)),
		reg.Notifications.Register(closeMeReminder(d)),

		// Events and keywords.
		reg.Events.Register(messageHandler(d, reg.Keywords)),
		reg.Events.Register(pinAddedHandler(d)),
		reg.Events.Register(pinRemovedHandler(d)),
		reg.Events.Register(reactionHandler(d)),
		reg.Events.Register(channelRenameHandler(d)),
		reg.Events.Register(memberJoinedHandler(d)),
		reg.Jobs.Register(JobKeywordReply, postKeywordReply(d)),
		registerKeywords(reg.Keywords, d),

		// @incident commands.
		reg.Events.Register(mentionHandler(d, reg.Commands)),
		reg.Commands.Register(helpCommand(d, reg.Commands)),
		reg.Commands.Register(leadCommand(d)),
		reg.Commands.Register(summaryCommand(d)),
		reg.Commands.Register(impactCommand(d)),
		reg.Commands.Register(severityCommand(d)),
		reg.Commands.Register(statusCommand(d)),
		reg.Commands.Register(renameCommand(d)),
		reg.Commands.Register(durationCommand(d)),
		reg.Commands.Register(actionCommand(d)),
		reg.Commands.Register(actionsCommand(d)),
		reg.Commands.Register(noteCommand(d)),
		reg.Commands.Register(timelineCommand(d)),
		reg.Commands.Register(pageCommand(d)),
		reg.Commands.Register(ackCommand(d)),
		reg.Commands.Register(closeCommand(d)),
		reg.Commands.Register(reopenCommand(d)),
		reg.Commands.Register(rolesCommand(d)),
		reg.Commands.Register(roleCommand(d)),
		reg.Commands.Register(oncallCommand(d)),
		reg.Commands.Register(loginCommand(d)),
		reg.Actions.Register(setTextButton(d, summaryField)),
		reg.Actions.Register(setTextButton(d, impactField)),
		reg.Actions.Register(cancelButton(d)),
		reg.Actions.Register(changeTextButton(d, summaryField)),
		reg.Actions.Register(changeTextButton(d, impactField)),
		reg.Views.Register(changeTextSubmit(d, summaryField)),
		reg.Views.Register(changeTextSubmit(d, impactField)),
	}
	for _, err := range steps {
		if err != nil {
			return err
		}
	}
	return nil
}

package bot

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/robfig/cron/v3"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/heraldhq/herald/models"
)

// ErrDuplicateRegistration means two handlers claimed the same name.
var ErrDuplicateRegistration = errors.New("duplicate registration")

// ErrInvalidRegistration means a registration is missing something it needs.
var ErrInvalidRegistration = errors.New("invalid registration")

// registry is an ordered name → value map that refuses duplicates.
type registry[T any] struct {
	kind  string
	items map[string]T
	order []string
}

func newRegistry[T any](kind string) registry[T] {
	return registry[T]{kind: kind, items: map[string]T{}}
}

func (r *registry[T]) add(name string, v T) error {
	key := strings.ToLower(name)
	if key == "" {
		return fmt.Errorf("%w: %s with an empty name", ErrInvalidRegistration, r.kind)
	}
	if _, ok := r.items[key]; ok {
		return fmt.Errorf("%w: %s %q", ErrDuplicateRegistration, r.kind, name)
	}
	r.items[key] = v
	r.order = append(r.order, key)
	return nil
}

func (r *registry[T]) get(name string) (T, bool) {
	v, ok := r.items[strings.ToLower(name)]
	return v, ok
}

func (r *registry[T]) all() []T {
	out := make([]T, 0, len(r.order))
	for _, k := range r.order {
		out = append(out, r.items[k])
	}
	return out
}

// --- incident commands -------------------------------------------------

// CommandRequest is one `@incident <name> <args>` mention.
type CommandRequest struct {
	// Incident is the incident whose comms channel the mention was in, or
	// nil outside comms channels.
	Incident  *models.Incident
	ChannelID string
	UserID    string
	MessageTS string
	ThreadTS  string
	Name      string // the command as typed (may be an alias)
	Args      string // everything after the name, line breaks kept
}

// CommandFunc runs an incident command. Returning a *UsageError replies to
// the caller with the message and the command's usage.
type CommandFunc func(ctx context.Context, req CommandRequest) error

// Command is an `@incident` command.
type Command struct {
	Name    string
	Aliases []string
	Usage   string // arguments, e.g. "<text>"
	Help    string // one line
	// AnyChannel lets the command run outside comms channels (help does).
	AnyChannel bool
	Run        CommandFunc
}

// UsageError is a mistake of the caller's, explained to them.
type UsageError struct{ Message string }

func (e *UsageError) Error() string { return e.Message }

// Usagef builds a UsageError.
func Usagef(format string, args ...any) error {
	return &UsageError{Message: fmt.Sprintf(format, args...)}
}

// CommandRegistry holds the `@incident` commands.
type CommandRegistry struct {
	names   registry[*Command]
	aliases map[string]string
}

// NewCommandRegistry returns an empty registry.
func NewCommandRegistry() *CommandRegistry {
	return &CommandRegistry{names: newRegistry[*Command]("incident command"), aliases: map[string]string{}}
}

// Register adds a command; its name and aliases must be new.
func (r *CommandRegistry) Register(c Command) error {
	if c.Run == nil || !oneWord(c.Name) {
		return fmt.Errorf("%w: incident command %q needs a one-word name and a Run func", ErrInvalidRegistration, c.Name)
	}
	for _, a := range c.Aliases {
		if !oneWord(a) {
			// An empty alias would make Lookup("") find the command.
			return fmt.Errorf("%w: incident command %q has alias %q, which is not one word", ErrInvalidRegistration, c.Name, a)
		}
	}
	for _, a := range append([]string{c.Name}, c.Aliases...) {
		if _, ok := r.lookup(a); ok {
			return fmt.Errorf("%w: incident command %q", ErrDuplicateRegistration, a)
		}
	}
	cmd := c
	if err := r.names.add(c.Name, &cmd); err != nil {
		return err
	}
	for _, a := range c.Aliases {
		r.aliases[strings.ToLower(a)] = strings.ToLower(c.Name)
	}
	return nil
}

// oneWord reports whether s is a non-empty name without whitespace, which is
// all ParseMention can produce.
func oneWord(s string) bool {
	return s != "" && !strings.ContainsFunc(s, unicode.IsSpace)
}

func (r *CommandRegistry) lookup(name string) (*Command, bool) {
	if c, ok := r.names.get(name); ok {
		return c, true
	}
	if canonical, ok := r.aliases[strings.ToLower(name)]; ok {
		return r.names.get(canonical)
	}
	return nil, false
}

// Lookup finds a command by name or alias, case-insensitively.
func (r *CommandRegistry) Lookup(name string) (*Command, bool) { return r.lookup(name) }

// All lists the commands in registration order.
func (r *CommandRegistry) All() []*Command { return r.names.all() }

// Help renders the command list for `@incident help`, from the registry.
func (r *CommandRegistry) Help(botName string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*Commands* — mention me in an incident channel: `@%s <command>`\n", botName)
	cmds := r.All()
	sort.SliceStable(cmds, func(i, j int) bool { return cmds[i].Name < cmds[j].Name })
	for _, c := range cmds {
		fmt.Fprintf(&b, "• `%s`", strings.TrimSpace(c.Name+" "+c.Usage))
		if len(c.Aliases) > 0 {
			fmt.Fprintf(&b, " (also %s)", strings.Join(c.Aliases, ", "))
		}
		fmt.Fprintf(&b, " — %s\n", c.Help)
	}
	return b.String()
}

// UsageLine renders one command's usage.
func (c *Command) UsageLine(botName string) string {
	return fmt.Sprintf("`@%s %s`", botName, strings.TrimSpace(c.Name+" "+c.Usage))
}

// --- keywords ------------------------------------------------------------

// KeywordRequest is a message in a comms channel that contained a phrase.
type KeywordRequest struct {
	Incident  *models.Incident
	ChannelID string
	UserID    string
	MessageTS string
	ThreadTS  string // the thread the message is in, if any
	Text      string
	Phrase    string // the phrase that matched
}

// Keyword reacts to phrases in comms-channel messages.
type Keyword struct {
	Name    string
	Phrases []string
	Run     func(ctx context.Context, req KeywordRequest) error
	pattern *regexp.Regexp
}

// KeywordRegistry holds keyword handlers.
type KeywordRegistry struct{ names registry[*Keyword] }

// NewKeywordRegistry returns an empty registry.
func NewKeywordRegistry() *KeywordRegistry {
	return &KeywordRegistry{names: newRegistry[*Keyword]("keyword handler")}
}

// Register adds a keyword handler; phrases match case-insensitively on word
// boundaries.
func (r *KeywordRegistry) Register(k Keyword) error {
	if k.Run == nil || len(k.Phrases) == 0 {
		return fmt.Errorf("%w: keyword handler %q needs phrases and a Run func", ErrInvalidRegistration, k.Name)
	}
	alts := make([]string, 0, len(k.Phrases))
	for _, p := range k.Phrases {
		p = strings.TrimSpace(p)
		if p == "" {
			return fmt.Errorf("%w: keyword handler %q has an empty phrase", ErrInvalidRegistration, k.Name)
		}
		alts = append(alts, regexp.QuoteMeta(p))
	}
	kw := k
	// Word characters in any script, not just ASCII (\W would let "db"
	// match inside "dbé").
	const wordChar = `\p{L}\p{M}\p{N}_`
	kw.pattern = regexp.MustCompile(`(?i)(?:^|[^` + wordChar + `])(` + strings.Join(alts, "|") + `)(?:[^` + wordChar + `]|$)`)
	return r.names.add(k.Name, &kw)
}

// Match returns the handlers whose phrases occur in text, with the phrase.
func (r *KeywordRegistry) Match(text string) []KeywordMatch {
	var out []KeywordMatch
	for _, k := range r.names.all() {
		if m := k.pattern.FindStringSubmatch(text); m != nil {
			out = append(out, KeywordMatch{Keyword: k, Phrase: m[1]})
		}
	}
	return out
}

// KeywordMatch pairs a handler with the phrase that matched.
type KeywordMatch struct {
	Keyword *Keyword
	Phrase  string
}

// --- actions -------------------------------------------------------------

// ActionRequest is one Block Kit interaction: a button click.
type ActionRequest struct {
	Callback slack.InteractionCallback
	Action   *slack.BlockAction
}

// Action handles a Block Kit action_id.
type Action struct {
	ID string
	// Inline actions run before Slack is acknowledged, for work that needs
	// the 3-second trigger_id (opening a modal). They must be quick.
	Inline bool
	Run    func(ctx context.Context, req ActionRequest) error
}

// ActionRegistry holds action handlers by action_id.
type ActionRegistry struct{ names registry[*Action] }

// NewActionRegistry returns an empty registry.
func NewActionRegistry() *ActionRegistry {
	return &ActionRegistry{names: newRegistry[*Action]("action handler")}
}

// Register adds an action handler.
func (r *ActionRegistry) Register(a Action) error {
	if a.Run == nil {
		return fmt.Errorf("%w: action %q needs a Run func", ErrInvalidRegistration, a.ID)
	}
	act := a
	return r.names.add(a.ID, &act)
}

// Lookup finds the handler of an action_id.
func (r *ActionRegistry) Lookup(id string) (*Action, bool) { return r.names.get(id) }

// --- events --------------------------------------------------------------

// EventRequest is one Slack Events API event.
type EventRequest struct {
	EventID string
	TeamID  string
	Inner   slackevents.EventsAPIInnerEvent
}

// EventHandler handles one Slack event type. Several handlers may share a
// type; each runs once per event.
type EventHandler struct {
	Name string
	Type string // inner event type: app_mention, message, pin_added...
	Run  func(ctx context.Context, req EventRequest) error
}

// EventRegistry holds event handlers.
type EventRegistry struct {
	names  registry[*EventHandler]
	byType map[string][]*EventHandler
}

// NewEventRegistry returns an empty registry.
func NewEventRegistry() *EventRegistry {
	return &EventRegistry{names: newRegistry[*EventHandler]("event handler"), byType: map[string][]*EventHandler{}}
}

// Register adds an event handler.
func (r *EventRegistry) Register(h EventHandler) error {
	if h.Run == nil || h.Type == "" {
		return fmt.Errorf("%w: event handler %q needs a type and a Run func", ErrInvalidRegistration, h.Name)
	}
	eh := h
	if err := r.names.add(h.Name, &eh); err != nil {
		return err
	}
	r.byType[h.Type] = append(r.byType[h.Type], &eh)
	return nil
}

// For returns the handlers of an event type.
func (r *EventRegistry) For(eventType string) []*EventHandler { return r.byType[eventType] }

// Lookup finds a handler by name.
func (r *EventRegistry) Lookup(name string) (*EventHandler, bool) { return r.names.get(name) }

// Types lists the event types something handles.
func (r *EventRegistry) Types() []string {
	out := make([]string, 0, len(r.byType))
	for t := range r.byType {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// --- recurring notifications -------------------------------------------

// Notification is a reminder attached to every new incident: sent on a
// schedule while Condition holds, at most MaxCount times.
type Notification struct {
	Name string
	// Spec is a cron spec ("*/5 * * * *") or an interval ("@every 2m"),
	// parsed by robfig/cron; the first run is one period after declaration.
	Spec     string
	MaxCount int
	// Condition is checked before each send; false skips this time without
	// using up a send. Nil means always.
	Condition func(ctx context.Context, inc *models.Incident) (bool, error)
	// Done, checked first, ends the notification for good (e.g. the lead
	// was set). Nil means never.
	Done func(ctx context.Context, inc *models.Incident) (bool, error)
	Send func(ctx context.Context, inc *models.Incident, n int) error
	// Gap, when set, is the least time between two sends (e.g. the
	// status-update interval of the incident's severity).
	Gap      func(inc *models.Incident) time.Duration
	schedule cron.Schedule
}

// Next is the time of the run after t.
func (n *Notification) Next(t time.Time) time.Time { return n.schedule.Next(t) }

// NotificationRegistry holds recurring notifications.
type NotificationRegistry struct{ names registry[*Notification] }

// NewNotificationRegistry returns an empty registry.
func NewNotificationRegistry() *NotificationRegistry {
	return &NotificationRegistry{names: newRegistry[*Notification]("recurring notification")}
}

// Register validates the schedule and adds the notification.
func (r *NotificationRegistry) Register(n Notification) error {
	if n.Send == nil || n.MaxCount <= 0 {
		return fmt.Errorf("%w: notification %q needs a Send func and a positive MaxCount", ErrInvalidRegistration, n.Name)
	}
	sched, err := cron.ParseStandard(n.Spec)
	if err != nil {
		return fmt.Errorf("%w: notification %q: schedule %q: %v", ErrInvalidRegistration, n.Name, n.Spec, err)
	}
	nn := n
	nn.schedule = sched
	return r.names.add(n.Name, &nn)
}

// Lookup finds a notification by name.
func (r *NotificationRegistry) Lookup(name string) (*Notification, bool) { return r.names.get(name) }

// All lists the notifications in registration order.
func (r *NotificationRegistry) All() []*Notification { return r.names.all() }

// --- slash commands and jobs ----------------------------------------------

// SlashResponse is the immediate reply to a slash command: ephemeral text
// for the caller, or nothing.
type SlashResponse struct {
	Text      string
	Blocks    []slack.Block
	InChannel bool // visible to the channel instead of only the caller
}

// SlashCommand handles one Slack slash command (e.g. /incident). Run must be
// fast (Slack waits 3 s): store the work, let jobs do the rest.
type SlashCommand struct {
	Command string // with the slash
	Run     func(ctx context.Context, cmd slack.SlashCommand) (SlashResponse, error)
}

// SlashRegistry holds slash command handlers.
type SlashRegistry struct{ names registry[*SlashCommand] }

// NewSlashRegistry returns an empty registry.
func NewSlashRegistry() *SlashRegistry {
	return &SlashRegistry{names: newRegistry[*SlashCommand]("slash command")}
}

// Register adds a slash command handler.
func (r *SlashRegistry) Register(c SlashCommand) error {
	if c.Run == nil || !strings.HasPrefix(c.Command, "/") {
		return fmt.Errorf("%w: slash command %q needs a leading / and a Run func", ErrInvalidRegistration, c.Command)
	}
	sc := c
	return r.names.add(c.Command, &sc)
}

// Lookup finds a slash command handler.
func (r *SlashRegistry) Lookup(cmd string) (*SlashCommand, bool) { return r.names.get(cmd) }

// JobFunc runs one stored job. Returning an error retries it with backoff;
// wrap ErrPermanent to give up at once.
type JobFunc func(ctx context.Context, payload []byte) error

// ErrPermanent marks a job failure that retrying cannot fix.
var ErrPermanent = errors.New("permanent failure")

// JobRegistry maps job kinds to their functions.
type JobRegistry struct {
	names     registry[JobFunc]
	onFailure FailureFunc
}

// FailureFunc is told when a job has failed for good, so the person who
// asked for the work hears about it instead of it vanishing into a log.
type FailureFunc func(ctx context.Context, kind string, payload []byte, cause error)

// OnFailure sets the one failure handler; a second call is an error.
func (r *JobRegistry) OnFailure(fn FailureFunc) error {
	if r.onFailure != nil {
		return fmt.Errorf("%w: job failure handler", ErrDuplicateRegistration)
	}
	r.onFailure = fn
	return nil
}

// NewJobRegistry returns an empty registry.
func NewJobRegistry() *JobRegistry { return &JobRegistry{names: newRegistry[JobFunc]("job kind")} }

// Register adds a job kind.
func (r *JobRegistry) Register(kind string, fn JobFunc) error {
	if fn == nil {
		return fmt.Errorf("%w: job kind %q needs a func", ErrInvalidRegistration, kind)
	}
	return r.names.add(kind, fn)
}

// Lookup finds a job kind.
func (r *JobRegistry) Lookup(kind string) (JobFunc, bool) { return r.names.get(kind) }

// --- modals and shortcuts ------------------------------------------------

// ViewSubmission handles a modal's submit, matched by the view's
// callback_id. It runs before Slack is answered (Slack closes the modal only
// on an empty 200), so it must be quick: validate, store, enqueue.
type ViewSubmission struct {
	CallbackID string
	// Submit returns field errors keyed by block_id to show in the modal,
	// or nil to close it.
	Submit func(ctx context.Context, cb slack.InteractionCallback) (map[string]string, error)
}

// ViewRegistry holds modal submission handlers.
type ViewRegistry struct{ names registry[*ViewSubmission] }

// NewViewRegistry returns an empty registry.
func NewViewRegistry() *ViewRegistry {
	return &ViewRegistry{names: newRegistry[*ViewSubmission]("view submission")}
}

// Register adds a view submission handler.
func (r *ViewRegistry) Register(v ViewSubmission) error {
	if v.Submit == nil {
		return fmt.Errorf("%w: view %q needs a Submit func", ErrInvalidRegistration, v.CallbackID)
	}
	vs := v
	return r.names.add(v.CallbackID, &vs)
}

// Lookup finds the handler of a callback_id.
func (r *ViewRegistry) Lookup(callbackID string) (*ViewSubmission, bool) {
	return r.names.get(callbackID)
}

// Shortcut handles a global or message shortcut by callback_id. It runs
// before Slack is answered, to use the trigger_id (open a modal).
type Shortcut struct {
	CallbackID string
	Run        func(ctx context.Context, cb slack.InteractionCallback) error
}

// ShortcutRegistry holds shortcut handlers.
type ShortcutRegistry struct{ names registry[*Shortcut] }

// NewShortcutRegistry returns an empty registry.
func NewShortcutRegistry() *ShortcutRegistry {
	return &ShortcutRegistry{names: newRegistry[*Shortcut]("shortcut")}
}

// Register adds a shortcut handler.
func (r *ShortcutRegistry) Register(s Shortcut) error {
	if s.Run == nil {
		return fmt.Errorf("%w: shortcut %q needs a Run func", ErrInvalidRegistration, s.CallbackID)
	}
	sc := s
	return r.names.add(s.CallbackID, &sc)
}

// Lookup finds the handler of a callback_id.
func (r *ShortcutRegistry) Lookup(callbackID string) (*Shortcut, bool) {
	return r.names.get(callbackID)
}

// Registries bundles every registry; cmd/herald builds one and
// handlers.RegisterBuiltins fills it.
type Registries struct {
	Slash         *SlashRegistry
	Commands      *CommandRegistry
	Keywords      *KeywordRegistry
	Actions       *ActionRegistry
	Events        *EventRegistry
	Notifications *NotificationRegistry
	Jobs          *JobRegistry
	Views         *ViewRegistry
	Shortcuts     *ShortcutRegistry
}

// NewRegistries returns empty registries.
func NewRegistries() *Registries {
	return &Registries{
		Slash:         NewSlashRegistry(),
		Commands:      NewCommandRegistry(),
		Keywords:      NewKeywordRegistry(),
		Actions:       NewActionRegistry(),
		Events:        NewEventRegistry(),
		Notifications: NewNotificationRegistry(),
		Jobs:          NewJobRegistry(),
		Views:         NewViewRegistry(),
		Shortcuts:     NewShortcutRegistry(),
	}
}

package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/slack-go/slack"

	"github.com/heraldhq/herald/bot"
)

// JobKeywordReply posts a keyword's reply in the thread of the message that
// mentioned it.
const JobKeywordReply = "keyword.reply"

// Limits of a keywords file. They keep every phrase list a small regular
// expression (see bot.KeywordRegistry.Register) and replies within what
// Slack accepts.
const (
	maxKeywordPhrases     = 50
	maxKeywordPhraseRunes = 100
	maxKeywordReplyRunes  = 3000
	maxKeywordNameRunes   = 64
)

// KeywordConfig is one entry of HERALD_KEYWORDS_FILE: when a message in a
// comms channel contains one of the phrases (case-insensitive, on word
// boundaries), Herald replies in its thread, at most once per channel per
// HERALD_KEYWORD_COOLDOWN.
type KeywordConfig struct {
	Name    string   `yaml:"name"`
	Phrases []string `yaml:"phrases"`
	Reply   string   `yaml:"reply"`
}

type keywordsFile struct {
	Keywords []KeywordConfig `yaml:"keywords"`
}

// LoadKeywords reads and validates a keywords file:
//
//	keywords:
//	  - name: runbook
//	    phrases: ["runbook", "playbook"]
//	    reply: "Runbooks live at https://wiki.example.com/runbooks"
func LoadKeywords(path string) ([]KeywordConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ks, err := ParseKeywords(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ks, nil
}

// ParseKeywords parses and validates the YAML of a keywords file. Errors
// name the entry and field, e.g. "keywords[1].reply: required". Unknown
// fields are errors, so a typo ("phrase:") is not silently ignored.
func ParseKeywords(data []byte) ([]KeywordConfig, error) {
	var f keywordsFile
	if err := decodeYAML(data, &f); err != nil {
		return nil, err
	}
	if len(f.Keywords) == 0 {
		return nil, errors.New("keywords: no entries (expected a list under `keywords:`)")
	}
	seen := map[string]int{}
	out := make([]KeywordConfig, 0, len(f.Keywords))
	for i, k := range f.Keywords {
		at := func(field string) string { return fmt.Sprintf("keywords[%d].%s", i, field) }
		k.Name = strings.TrimSpace(k.Name)
		k.Reply = strings.TrimSpace(k.Reply)
		switch {
		case k.Name == "":
			return nil, fmt.Errorf("%s: required", at("name"))
		case !utf8.ValidString(k.Name):
			return nil, fmt.Errorf("%s: not valid UTF-8", at("name"))
		case utf8.RuneCountInString(k.Name) > maxKeywordNameRunes:
			return nil, fmt.Errorf("%s: longer than %d characters", at("name"), maxKeywordNameRunes)
		}
		key := strings.ToLower(k.Name)
		if j, dup := seen[key]; dup {
			return nil, fmt.Errorf("%s: %q is already the name of keywords[%d]", at("name"), k.Name, j)
		}
		seen[key] = i
		switch {
		case k.Reply == "":
			return nil, fmt.Errorf("%s: required", at("reply"))
		case !utf8.ValidString(k.Reply):
			return nil, fmt.Errorf("%s: not valid UTF-8", at("reply"))
		case utf8.RuneCountInString(k.Reply) > maxKeywordReplyRunes:
			return nil, fmt.Errorf("%s: longer than %d characters", at("reply"), maxKeywordReplyRunes)
		}
		switch {
		case len(k.Phrases) == 0:
			return nil, fmt.Errorf("%s: at least one phrase required", at("phrases"))
		case len(k.Phrases) > maxKeywordPhrases:
			return nil, fmt.Errorf("%s: more than %d phrases", at("phrases"), maxKeywordPhrases)
		}
		phrases := make([]string, len(k.Phrases))
		for j, p := range k.Phrases {
			p = strings.TrimSpace(p)
			field := at(fmt.Sprintf("phrases[%d]", j))
			switch {
			case p == "":
				return nil, fmt.Errorf("%s: empty phrase", field)
			case !utf8.ValidString(p):
				return nil, fmt.Errorf("%s: not valid UTF-8", field)
			case utf8.RuneCountInString(p) > maxKeywordPhraseRunes:
				return nil, fmt.Errorf("%s: longer than %d characters", field, maxKeywordPhraseRunes)
			}
			phrases[j] = p
		}
		k.Phrases = phrases
		out = append(out, k)
	}
	return out, nil
}

// decodeYAML decodes strictly (unknown fields are errors) into v. The
// parser's panics on some malformed input (goccy/go-yaml#735: a tag on a
// scalar where a list belongs, fixed upstream after v1.19.2) become errors.
func decodeYAML(data []byte, v any) (err error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("invalid YAML: the parser failed on it (%v)", r)
		}
	}()
	if err := yaml.UnmarshalWithOptions(data, v, yaml.DisallowUnknownField()); err != nil {
		return errors.New("invalid YAML: " + yaml.FormatError(err, false, false))
	}
	return nil
}

// keywordReply is the payload of a JobKeywordReply job.
type keywordReply struct {
	ChannelID string `json:"channel_id"`
	ThreadTS  string `json:"thread_ts"`
	Text      string `json:"text"`
}

// keywordHandler answers a configured keyword. The message handler has
// already taken the channel's rate-limit slot; the reply itself is a job
// keyed by the message, so a retried event never replies twice and a
// Slack hiccup (a rate limit) is retried rather than losing the reply.
func keywordHandler(d Deps, k KeywordConfig) bot.Keyword {
	return bot.Keyword{
		Name:    k.Name,
		Phrases: k.Phrases,
		Run: func(ctx context.Context, req bot.KeywordRequest) error {
			thread := req.ThreadTS
			if thread == "" {
				thread = req.MessageTS
			}
			job := jsonJob(JobKeywordReply, "keyword:"+req.ChannelID+":"+req.MessageTS+":"+strings.ToLower(k.Name),
				keywordReply{ChannelID: req.ChannelID, ThreadTS: thread, Text: k.Reply})
			_, err := d.Store.EnqueueJobs(ctx, job)
			return err
		},
	}
}

// postKeywordReply runs JobKeywordReply.
func postKeywordReply(d Deps) bot.JobFunc {
	return func(ctx context.Context, payload []byte) error {
		var p keywordReply
		if err := json.Unmarshal(payload, &p); err != nil {
			return fmt.Errorf("%w: %v", bot.ErrPermanent, err)
		}
		opts := []slack.MsgOption{slack.MsgOptionText(p.Text, false)}
		if p.ThreadTS != "" {
			opts = append(opts, slack.MsgOptionTS(p.ThreadTS))
		}
		if _, _, err := d.Slack.PostMessageContext(ctx, p.ChannelID, opts...); err != nil {
			return slackError("replying to keyword", err)
		}
		return nil
	}
}

// registerKeywords adds a handler per configured keyword.
func registerKeywords(reg *bot.KeywordRegistry, d Deps) error {
	for _, k := range d.Keywords {
		if err := reg.Register(keywordHandler(d, k)); err != nil {
			return err
		}
	}
	return nil
}

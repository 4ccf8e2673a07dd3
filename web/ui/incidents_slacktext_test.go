package ui

import "testing"

func TestIncSlackText(t *testing.T) {
	names := map[string]string{"U1": "alice"}
	cases := []struct{ in, want string }{
		{"<@U1> is now leading", "@alice is now leading"},
		{"set by <@U2>", "set by @U2"},
		{"set by <@W9|bob>", "set by @bob"},
		{"see <#C1|inc-1-db>", "see #inc-1-db"},
		{"see <#C1>", "see #C1"},
		{"<!here> look", "@here look"},
		{"<https://x.test/a|runbook>", "runbook (https://x.test/a)"},
		{"<https://x.test/a>", "https://x.test/a"},
		{"a < b && c > d", "a < b && c > d"},
		{"<script>alert(1)</script>", "<script>alert(1)</script>"},
		{"<@lowercase>", "<@lowercase>"},
		{"multi\nline <@U1>", "multi\nline @alice"},
	}
	for _, c := range cases {
		if got := incSlackText(c.in, names); got != c.want {
			t.Errorf("incSlackText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzIncSlackText(f *testing.F) {
	for _, s := range []string{"<@U1>", "<#C1|x>", "<!here>", "<https://a|b>", "&lt;&gt;", "<<>>", "<@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = incSlackText(s, map[string]string{"U1": "alice"})
	})
}

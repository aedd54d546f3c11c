package password

import (
	"context"
	"testing"
)

// FuzzPolicy: any input gets an answer, never a panic, and what passes is
// within the length rules.
func FuzzPolicy(f *testing.F) {
	p, err := NewPolicy()
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"", "password", "vivid otter lamp quartz ninety", "\xff\xfe", "ﬁﬁﬁﬁﬁﬁﬁﬁﬁﬁﬁﬁﬁﬁﬁ", "a\x00b"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, pw string, withMFA bool) {
		if err := p.Check(pw, withMFA, []string{"jane@example.com"}); err == nil {
			if _, err := normalise(pw); err != nil {
				t.Fatalf("accepted %q, which cannot be hashed: %v", pw, err)
			}
		}
	})
}

// FuzzDecode: a stored hash that is not one of ours is refused, never a
// panic or an unbounded allocation.
func FuzzDecode(f *testing.F) {
	h, err := NewHasher(Options{Params: Minimum})
	if err != nil {
		f.Fatal(err)
	}
	good, _ := h.Hash(context.Background(), "vivid otter lamp quartz ninety")
	for _, s := range []string{good, "", "$argon2id$v=19$m=1,t=1,p=1$$", "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, _, _, err := decode(s)
		if err == nil && (p.MemoryKiB > 1<<21 || p.Time > 64 || p.Threads > 16) {
			t.Fatalf("decoded unbounded parameters %s", p)
		}
	})
}

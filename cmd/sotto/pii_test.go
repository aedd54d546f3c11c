package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func runPII(t *testing.T, mode, input string, args ...string) ([]map[string]any, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := piiCommand(context.Background(), mode, args, strings.NewReader(input), &out, &errOut)
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if jerr := json.Unmarshal([]byte(l), &m); jerr != nil {
			t.Fatalf("output line %q is not JSON: %v", l, jerr)
		}
		lines = append(lines, m)
	}
	return lines, out.String(), err
}

func TestPIIDetect(t *testing.T) {
	in := `{"id":"a","text":"mail anna@example.com","lang":"en"}
{"id":"b","text":"nothing here"}
`
	lines, _, err := runPII(t, "detect", in)
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"id": "a", "spans": []any{map[string]any{"start": 5.0, "end": 21.0, "type": "EMAIL", "score": 0.95, "recognizer": "email"}}},
		{"id": "b", "spans": []any{}},
	}
	if !reflect.DeepEqual(want, lines) {
		t.Errorf("output got %v, want %v", lines, want)
	}
}

// TestPIIBadLines: each bad line gets an error line naming it, without the
// input's text, and the lines after it are still processed; the command
// then fails.
func TestPIIBadLines(t *testing.T) {
	secret := "4111 1111 1111 1111"
	in := "{\"id\":\"1\",\"text\":\"a@b.co\"}\n" +
		"{not json " + secret + "\n" +
		"{\"id\":\"3\"}\n" +
		"\n" +
		"{\"id\":\"5\",\"text\":\"" + strings.Repeat("x", 200) + "\"}\n" +
		"{\"id\":\"6\",\"text\":\"call +44 20 7946 0958\"}"
	lines, raw, err := runPII(t, "detect", in, "--max-line-bytes", "100")
	if err == nil {
		t.Fatal("bad lines did not fail the command")
	}
	if strings.Contains(raw, secret) || strings.Contains(raw, "xxxx") {
		t.Errorf("error output echoes input: %s", raw)
	}
	var got []string
	for _, l := range lines {
		switch {
		case l["error"] != nil:
			got = append(got, "error@"+strings.TrimSuffix(strings.TrimSuffix(jsonNum(l["line"]), ".0"), ""))
		default:
			got = append(got, "ok:"+l["id"].(string))
		}
	}
	if !reflect.DeepEqual([]string{"ok:1", "error@2", "error@3", "error@5", "ok:6"}, got) {
		t.Errorf("lines got %v, want %v", got, []string{"ok:1", "error@2", "error@3", "error@5", "ok:6"})
	}
}

func jsonNum(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestPIIRedactScopes(t *testing.T) {
	in := `{"id":"1","text":"a@b.co and c@d.co","scope":"conv-1"}
{"id":"2","text":"again c@d.co","scope":"conv-1"}
{"id":"3","text":"c@d.co"}
`
	lines, _, err := runPII(t, "redact", in)
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{lines[0]["text"].(string), lines[1]["text"].(string), lines[2]["text"].(string)}
	if !reflect.DeepEqual([]string{"[EMAIL_1] and [EMAIL_2]", "again [EMAIL_2]", "[EMAIL_1]"}, texts) {
		t.Errorf("texts got %v, want %v", texts, []string{"[EMAIL_1] and [EMAIL_2]", "again [EMAIL_2]", "[EMAIL_1]"})
	}
	if m := lines[1]["map"].(map[string]any); m["[EMAIL_2]"] != "c@d.co" || m["[EMAIL_1]"] != "a@b.co" {
		t.Errorf("map = %v", m)
	}
}

func TestPIIConfigFlag(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tenant.yaml")
	if err := os.WriteFile(path, []byte("allow: [a@b.co]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	lines, _, err := runPII(t, "detect", `{"id":"1","text":"a@b.co c@d.co"}`, "--config", path)
	if err != nil {
		t.Fatal(err)
	}
	if spans := lines[0]["spans"].([]any); len(spans) != 1 {
		t.Errorf("spans = %v, want only c@d.co", spans)
	}
	if err := os.WriteFile(path, []byte("thresold: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runPII(t, "detect", `{"id":"1","text":"x"}`, "--config", path); err == nil {
		t.Error("a misspelt configuration was accepted")
	}
}

// TestPIIStorageFlag: --storage detects as conversation and crmsync do (a
// German mobile in an English line, a card's security code); without it
// the command reads the contract to the letter and finds neither.
func TestPIIStorageFlag(t *testing.T) {
	in := `{"id":"1","text":"call +49 170 1234567, cvv 737","lang":"en"}`
	plain, _, err := runPII(t, "detect", in)
	if err != nil {
		t.Fatal(err)
	}
	if spans := plain[0]["spans"].([]any); len(spans) != 0 {
		t.Errorf("without --storage: %v, want none", spans)
	}
	stored, _, err := runPII(t, "detect", in, "--storage")
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, s := range stored[0]["spans"].([]any) {
		types = append(types, s.(map[string]any)["type"].(string))
	}
	if !reflect.DeepEqual(types, []string{"PHONE", "SECRET"}) {
		t.Errorf("with --storage: %v, want PHONE and SECRET", types)
	}
}

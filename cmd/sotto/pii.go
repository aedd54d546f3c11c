package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sottohq/sotto/pkg/pii"
)

// piiInput is one line of `sotto pii detect|redact` input.
type piiInput struct {
	ID    string  `json:"id"`
	Text  *string `json:"text"`
	Lang  string  `json:"lang"`
	Scope string  `json:"scope"` // redact: lines with the same scope share placeholders
}

type piiSpan struct {
	Start      int     `json:"start"`
	End        int     `json:"end"`
	Type       string  `json:"type"`
	Score      float64 `json:"score"`
	Recognizer string  `json:"recognizer,omitempty"`
}

type piiDetectOutput struct {
	ID    string    `json:"id"`
	Spans []piiSpan `json:"spans"`
}

type piiRedactOutput struct {
	ID    string            `json:"id"`
	Text  string            `json:"text"`
	Map   map[string]string `json:"map"`
	Spans []piiSpan         `json:"spans"`
}

// piiError is the line written for an input line that could not be used.
// It names the line (and id, when it could be read) but never echoes the
// input, which may hold personal data.
type piiError struct {
	Line  int    `json:"line"`
	ID    string `json:"id,omitempty"`
	Error string `json:"error"`
}

// piiCommand runs `sotto pii detect` or `sotto pii redact`: JSON lines in,
// one JSON line out per input line, in order. A bad line gets an error line
// and the rest is still processed; the exit status is non-zero if any line
// was bad.
func piiCommand(ctx context.Context, mode string, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sotto pii "+mode, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "tenant PII configuration (YAML: default_region, threshold, types, allow, allow_patterns, deny, patterns)")
	lang := fs.String("lang", "", "language of lines that give none (en, de, fr, es, nl, it; empty: unknown)")
	maxLine := fs.Int("max-line-bytes", 4<<20, "longest input line accepted")
	storage := fs.Bool("storage", false, "detect as the services that store text do (pii.StorageConfig: numbers with any country code, card security codes); a --config is added to it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var cfg pii.Config
	if *configPath != "" {
		b, err := os.ReadFile(*configPath)
		if err != nil {
			return fmt.Errorf("read PII configuration: %w", err)
		}
		if cfg, err = pii.ParseConfig(b); err != nil {
			return err
		}
	}
	if *storage {
		base := pii.StorageConfig()
		cfg.AnyRegionPhones = true
		cfg.Patterns = append(base.Patterns, cfg.Patterns...)
	}
	engine, err := pii.New(cfg)
	if err != nil {
		return err
	}
	ps := pii.NewPseudonymizer(engine)
	scopes := map[string]*pii.MemoryScope{}

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	bad := 0
	fail := func(line int, id, msg string) error {
		bad++
		return enc.Encode(piiError{Line: line, ID: id, Error: msg})
	}
	lr := newLineReader(stdin, *maxLine)
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		line, tooLong, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read input: %w", err)
		}
		if tooLong {
			if err := fail(n, "", fmt.Sprintf("line longer than %d bytes", *maxLine)); err != nil {
				return err
			}
			continue
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue // blank lines keep their number but produce nothing
		}
		var in piiInput
		dec := json.NewDecoder(bytes.NewReader(line)) // other fields (a labelled set's spans) are ignored
		if err := dec.Decode(&in); err != nil {
			if err := fail(n, "", "not a JSON object with id, text and lang"); err != nil {
				return err
			}
			continue
		}
		if in.Text == nil {
			if err := fail(n, in.ID, `"text" is missing`); err != nil {
				return err
			}
			continue
		}
		l := in.Lang
		if l == "" {
			l = *lang
		}
		switch mode {
		case "detect":
			res := piiDetectOutput{ID: in.ID, Spans: spansOf(engine.Detect(*in.Text, l))}
			if err := enc.Encode(res); err != nil {
				return err
			}
		case "redact":
			key := in.Scope
			if key == "" {
				key = fmt.Sprintf("\x00line-%d", n) // each line its own conversation
			}
			scope := scopes[key]
			if scope == nil {
				scope = pii.NewMemoryScope()
				scopes[key] = scope
			}
			r, err := ps.Pseudonymize(ctx, scope, *in.Text, l)
			if err != nil {
				return err
			}
			m := map[string]string{}
			for _, e := range scope.Entries() {
				m[e.Placeholder] = e.Value
			}
			if in.Scope == "" {
				delete(scopes, key)
			}
			if err := enc.Encode(piiRedactOutput{ID: in.ID, Text: r.Text, Map: m, Spans: spansOf(r.Findings)}); err != nil {
				return err
			}
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d input line(s) could not be processed", bad)
	}
	return nil
}

func spansOf(fs []pii.Finding) []piiSpan {
	out := make([]piiSpan, 0, len(fs))
	for _, f := range fs {
		out = append(out, piiSpan{Start: f.Start, End: f.End, Type: string(f.Type), Score: f.Score, Recognizer: f.Recognizer})
	}
	return out
}

// lineReader reads lines of at most max bytes; a longer line is skipped to
// its end and reported, so one huge line cannot stop the rest.
type lineReader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

func (l *lineReader) next() (line []byte, tooLong bool, err error) {
	l.buf = l.buf[:0]
	for {
		chunk, err := l.r.ReadSlice('\n')
		if len(l.buf)+len(chunk) > l.max+1 {
			tooLong = true
		} else {
			l.buf = append(l.buf, chunk...)
		}
		switch {
		case err == nil:
			return bytes.TrimRight(l.buf, "\r\n"), tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF:
			if len(l.buf) == 0 && !tooLong {
				return nil, false, io.EOF
			}
			return bytes.TrimRight(l.buf, "\r\n"), tooLong, nil
		default:
			return nil, false, err
		}
	}
}

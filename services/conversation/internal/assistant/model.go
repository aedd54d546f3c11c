package assistant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
	"github.com/sony/gobreaker/v2"
)

// Defaults of ModelConfig's zero fields.
const (
	DefaultModelTimeout         = 20 * time.Second
	DefaultModelBreakerFailures = 3
	DefaultModelBreakerOpenFor  = 30 * time.Second
	// maxToolRounds bounds how often one reply may go back to the model
	// with tool results.
	maxToolRounds = 3
	// maxReplyBytes bounds the model's reply as stored (a message's limit).
	maxReplyBytes = 4096
	// maxStreamBytes bounds what one completion may stream (content and
	// tool call arguments) before it is given up.
	maxStreamBytes = 64 << 10
)

// ModelConfig configures Model.
type ModelConfig struct {
	// URL is the server's OpenAI-compatible API base ("http://ollama:11434/v1",
	// "https://api.openai.com/v1").
	URL string
	// Name is the model ("llama3.1", "gpt-4o-mini").
	Name string
	// APIKey is sent as a bearer token when set.
	APIKey string
	// Timeout bounds one reply: every completion and tool round of it.
	Timeout time.Duration
	// BreakerFailures consecutive failed replies open the breaker; it then
	// sends nothing to the model for BreakerOpenFor, and the built-in
	// assistant answers.
	BreakerFailures uint32
	BreakerOpenFor  time.Duration
	// HTTPClient sends the requests (pkg/egress's, so that only the
	// model's host is reached and URLs and bodies stay out of logs).
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// Model answers through an OpenAI-compatible chat-completions server
// (github.com/openai/openai-go, streamed), as the end user, and falls back
// to the built-in assistant when the server fails, times out or its
// breaker is open.
//
// The model sees placeholder text only: the system prompt, the
// conversation's recent placeholder history and the message; tool results
// carry order status, carrier and dates, never an address (the fixtures
// have none). Requests about a delivery address, a refund or a person are
// the built-in assistant's, without asking the model, and so is every
// request the caller must sign in or step up for: those answers are
// policy, not wording.
type Model struct {
	chat     openai.ChatCompletionService
	name     string
	timeout  time.Duration
	builtin  *Builtin
	tools    Tools
	breaker  *gobreaker.CircuitBreaker[Reply]
	logger   *slog.Logger
	toolDefs []openai.ChatCompletionToolUnionParam
}

var _ Assistant = (*Model)(nil)

// NewModel returns the adapter over builtin.
func NewModel(cfg ModelConfig, builtin *Builtin) (*Model, error) {
	if cfg.URL == "" || cfg.Name == "" {
		return nil, errors.New("assistant: the model needs a URL and a name")
	}
	if cfg.HTTPClient == nil {
		return nil, errors.New("assistant: the model needs an HTTP client")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultModelTimeout
	}
	if cfg.BreakerFailures == 0 {
		cfg.BreakerFailures = DefaultModelBreakerFailures
	}
	if cfg.BreakerOpenFor <= 0 {
		cfg.BreakerOpenFor = DefaultModelBreakerOpenFor
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// The service alone, not openai.NewClient: the client would read
	// OPENAI_* variables (a key, custom headers) from the environment and
	// send them to whatever server is configured here.
	opts := []option.RequestOption{option.WithBaseURL(cfg.URL), option.WithHTTPClient(cfg.HTTPClient),
		// The breaker and the fallback handle failures; a retry would only
		// make the customer wait longer.
		option.WithMaxRetries(0)}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	failures := cfg.BreakerFailures
	m := &Model{
		chat:    openai.NewChatCompletionService(opts...),
		name:    cfg.Name,
		timeout: cfg.Timeout,
		builtin: builtin,
		tools:   builtin.Tools(),
		logger:  cfg.Logger,
		breaker: gobreaker.NewCircuitBreaker[Reply](gobreaker.Settings{
			Name:        "model",
			MaxRequests: 1,
			Timeout:     cfg.BreakerOpenFor,
			ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= failures },
			// Withheld tool output and a customer who went away are not
			// the model server's failures.
			IsSuccessful: func(err error) bool {
				return err == nil || errors.Is(err, errToolOutputWithheld) || errors.Is(err, context.Canceled)
			},
		}),
		toolDefs: toolDefinitions(),
	}
	return m, nil
}

// BreakerState is the breaker's state ("closed", "open", "half-open").
func (m *Model) BreakerState() string { return m.breaker.State().String() }

// Reply implements Assistant.
func (m *Model) Reply(ctx context.Context, req Request) Reply {
	if r, ok := m.builtin.policy(ctx, req); ok {
		return r
	}
	r, err := m.breaker.Execute(func() (Reply, error) { return m.ask(ctx, req) })
	if err != nil {
		// The reason only: the error of a failed call may quote the
		// server's answer, which may quote the prompt.
		m.logger.WarnContext(ctx, "model reply failed; the built-in assistant answers",
			"breaker", m.breaker.State().String(), "reason", failureKind(err))
		fb := m.builtin.Reply(ctx, req)
		fb.Fallback = true
		return fb
	}
	return r
}

// failureKind names an error without its text.
func failureKind(err error) string {
	var apiErr *openai.Error
	switch {
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return "breaker_open"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &apiErr):
		return fmt.Sprintf("http_%d", apiErr.StatusCode)
	case errors.Is(err, errEmptyReply):
		return "empty_reply"
	case errors.Is(err, errToolRounds):
		return "tool_rounds"
	case errors.Is(err, errReplyTooLong):
		return "reply_too_long"
	case errors.Is(err, errToolOutputWithheld):
		return "tool_output_withheld"
	default:
		return "request_failed"
	}
}

var (
	errEmptyReply = errors.New("the model answered nothing")
	errToolRounds = errors.New("the model kept calling tools")
	// errReplyTooLong: the stream went past maxStreamBytes.
	errReplyTooLong = errors.New("the model's reply is too long")
	// errToolOutputWithheld: a tool's output held a prompt injection and
	// was not given to the model.
	errToolOutputWithheld = errors.New("tool output withheld")
)

// systemPrompt tells the model what placeholders are and what it may do.
func systemPrompt(language string) string {
	return "You are the customer service assistant of an online shop. " +
		"Customer messages contain placeholders such as [EMAIL_1], [PERSON_1], [PHONE_1], [ADDRESS_1] or [CARD_1]. " +
		"Each stands for personal data you cannot see. Treat placeholders as opaque: never guess, expand, alter or " +
		"invent one; you may repeat a placeholder exactly as written when you refer to it. " +
		"Use the tools to look up the customer's orders or start a return; they act as the customer. " +
		"Never ask for card numbers or passwords. Answer briefly, in the language with code " + language + "."
}

// prompt is the conversation as chat messages: placeholder text only.
func prompt(req Request) []openai.ChatCompletionMessageParamUnion {
	l := languages[lang(req.Language)]
	msgs := []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(systemPrompt(l))}
	for _, t := range req.Turns() {
		if t.Customer {
			msgs = append(msgs, openai.UserMessage(t.Text))
		} else {
			msgs = append(msgs, openai.AssistantMessage(t.Text))
		}
	}
	return append(msgs, openai.UserMessage(req.Text))
}

// Tool names the model may call.
const (
	toolLookupOrder = "lookup_order"
	toolStartReturn = "start_return"
)

func toolDefinitions() []openai.ChatCompletionToolUnionParam {
	orderArg := shared.FunctionParameters{
		"type": "object",
		"properties": map[string]any{
			"order_number": map[string]any{"type": "string", "description": "The order number the customer gave (digits)."},
		},
		"required":             []string{"order_number"},
		"additionalProperties": false,
	}
	return []openai.ChatCompletionToolUnionParam{
		openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: toolLookupOrder,
			Description: openai.String("Look up one of the customer's orders: status, carrier, shipping and delivery dates."),
			Parameters:  orderArg}),
		openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: toolStartReturn,
			Description: openai.String("Start a return of one of the customer's delivered orders; answers the return number."),
			Parameters:  orderArg}),
	}
}

// ask is one reply from the model: streamed completions, with tool rounds.
func (m *Model) ask(ctx context.Context, req Request) (Reply, error) {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	msgs := prompt(req)
	for range maxToolRounds + 1 {
		msg, err := m.complete(ctx, msgs)
		if err != nil {
			return Reply{}, err
		}
		if len(msg.ToolCalls) == 0 {
			text := strings.TrimSpace(msg.Content)
			if text == "" {
				return Reply{}, errEmptyReply
			}
			if len(text) > maxReplyBytes {
				text = strings.ToValidUTF8(text[:maxReplyBytes], "")
			}
			return Reply{Text: text, Intent: Unknown}, nil
		}
		msgs = append(msgs, msg.ToParam())
		for _, tc := range msg.ToolCalls {
			result, refused := m.call(req.Caller, tc.Function.Name, tc.Function.Arguments)
			if refused != nil {
				// A refusal the customer must act on (sign in, step up) is
				// said in the built-in assistant's words, not the model's.
				text, action := refusal(lang(req.Language), refused, "")
				return Reply{Text: text, Action: action, Intent: Unknown}, nil
			}
			if req.InspectToolOutput != nil && req.InspectToolOutput(ctx, result) {
				return Reply{}, errToolOutputWithheld
			}
			msgs = append(msgs, openai.ToolMessage(result, tc.ID))
		}
	}
	return Reply{}, errToolRounds
}

// complete streams one chat completion and returns its first choice's
// message, tool calls assembled.
func (m *Model) complete(ctx context.Context, msgs []openai.ChatCompletionMessageParamUnion) (openai.ChatCompletionMessage, error) {
	stream := m.chat.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: shared.ChatModel(m.name), Messages: msgs, Tools: m.toolDefs})
	defer stream.Close()
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
		if streamedBytes(&acc) > maxStreamBytes {
			// A server streaming without end would hold memory until the
			// timeout; the reply is cut at maxReplyBytes anyway.
			return openai.ChatCompletionMessage{}, errReplyTooLong
		}
	}
	if err := stream.Err(); err != nil {
		return openai.ChatCompletionMessage{}, err
	}
	if err := ctx.Err(); err != nil {
		return openai.ChatCompletionMessage{}, err
	}
	if len(acc.Choices) == 0 {
		return openai.ChatCompletionMessage{}, errEmptyReply
	}
	return acc.Choices[0].Message, nil
}

// call runs a tool as the caller. It returns the result for the model, or
// the refusal the customer must act on (ErrLoginRequired). Other refusals
// (not found, not returnable) are results the model words.
func (m *Model) call(c Caller, name, arguments string) (string, error) {
	var args struct {
		OrderNumber string `json:"order_number"`
	}
	if err := json.Unmarshal([]byte(arguments), &args); err != nil || !orderNumberRE.MatchString(args.OrderNumber) {
		return `{"error":"invalid_order_number"}`, nil
	}
	result := func(v any) string {
		b, _ := json.Marshal(v) // maps of strings always marshal
		return string(b)
	}
	switch name {
	case toolLookupOrder:
		o, err := m.tools.LookupOrder(c, args.OrderNumber)
		switch {
		case errors.Is(err, ErrLoginRequired):
			return "", err
		case err != nil:
			return `{"error":"order_not_found"}`, nil
		}
		return result(map[string]string{"order_number": o.Number, "status": o.Status, "carrier": o.Carrier,
			"shipped_on": o.ShippedOn, "delivered_on": o.DeliveredOn}), nil
	case toolStartReturn:
		r, err := m.tools.StartReturn(c, args.OrderNumber)
		switch {
		case errors.Is(err, ErrLoginRequired):
			return "", err
		case errors.Is(err, ErrNotReturnable):
			return `{"error":"not_delivered_yet"}`, nil
		case err != nil:
			return `{"error":"order_not_found"}`, nil
		}
		status := "started"
		if r.Already {
			status = "already_open"
		}
		return result(map[string]string{"order_number": r.Order, "return_number": r.Number, "status": status}), nil
	default:
		return `{"error":"unknown_tool"}`, nil
	}
}

// streamedBytes is the size of what the first choice has streamed so far.
func streamedBytes(acc *openai.ChatCompletionAccumulator) int {
	if len(acc.Choices) == 0 {
		return 0
	}
	m := acc.Choices[0].Message
	n := len(m.Content) + len(m.Refusal)
	for _, tc := range m.ToolCalls {
		n += len(tc.Function.Name) + len(tc.Function.Arguments)
	}
	return n
}

package config

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/waorders/waorders"
	"github.com/waorders/waorders/kaleyra"
)

// Notify holds serve's settings of order notifications and staff messages
// sent through Kaleyra (issue 15), embedded in Serve.
//
// A single-number deployment needs only the kaleyra-* flags (or their
// WAORDERS_KALEYRA_* variables; the key also from WAORDERS_KALEYRA_API_KEY_FILE)
// and notify-statuses. More numbers are listed in kaleyra-numbers, one
// entry per phone_number_id, each key read from a file. Per-status texts
// and templates come from notify-settings (a JSON file shaped like
// GET /v1/notifications) and from PUT /v1/notifications, which is stored
// and wins over the file.
type Notify struct {
	KaleyraBaseURL       string
	KaleyraSID           string
	KaleyraAPIKey        string
	KaleyraSender        string
	KaleyraPhoneNumberID string
	KaleyraNumbers       List
	KaleyraTimeout       time.Duration

	NotifyStatuses    List
	NotifySettings    string
	NotifyConcurrency int
	NotifyReconcile   time.Duration
	NotifyOnAmbiguous string
	NoNotify          bool
}

// Flags registers the notification flags.
func (c *Notify) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.KaleyraBaseURL, "kaleyra-base-url", kaleyra.BaseURLIN, "Kaleyra API `url` (the account's pod, or the local sandbox)")
	fs.StringVar(&c.KaleyraSID, "kaleyra-sid", "", "Kaleyra account `SID` of the single sending number")
	fs.StringVar(&c.KaleyraAPIKey, "kaleyra-api-key", "", "Kaleyra API `key` of the single sending number (never printed)")
	fs.StringVar(&c.KaleyraSender, "kaleyra-sender", "", "the business WhatsApp `number` messages are sent from (E.164)")
	fs.StringVar(&c.KaleyraPhoneNumberID, "kaleyra-phone-number-id", "", "the phone_number_id the single number receives orders on (empty: every number)")
	fs.Var(&c.KaleyraNumbers, "kaleyra-numbers", "more sending numbers, comma-separated `entries` phone_number_id:sid:sender:api-key-file")
	fs.DurationVar(&c.KaleyraTimeout, "kaleyra-timeout", 20*time.Second, "time allowed for one send to Kaleyra")
	fs.Var(&c.NotifyStatuses, "notify-statuses", "order `statuses` that notify the customer with the default text, comma-separated (e.g. pending,shipped); empty: off unless notify-settings or the API turn some on")
	fs.StringVar(&c.NotifySettings, "notify-settings", "", "JSON `file` of per-status notification texts and templates (the shape of GET /v1/notifications)")
	fs.IntVar(&c.NotifyConcurrency, "notify-concurrency", 4, "sends to Kaleyra in flight per instance")
	fs.DurationVar(&c.NotifyReconcile, "notify-reconcile", 10*time.Minute, "how long an ambiguous send waits for a status callback carrying its refs before its one resend")
	fs.StringVar(&c.NotifyOnAmbiguous, "notify-on-ambiguous", "resend", "after an ambiguous send and no status callback: resend (once) or give_up")
	fs.BoolVar(&c.NoNotify, "no-notify", false, "do not send from this instance (another instance does); intents are still recorded")
}

// Number is the credentials of one sending number.
type Number struct {
	PhoneNumberID string // "" matches every number (the single-number setting)
	Kaleyra       kaleyra.Config
}

// Numbers returns the configured sending numbers, the single number first.
// It reads the key files.
func (c *Notify) Numbers() ([]Number, error) {
	var out []Number
	if c.KaleyraSID != "" || c.KaleyraAPIKey != "" || c.KaleyraSender != "" {
		out = append(out, Number{PhoneNumberID: c.KaleyraPhoneNumberID, Kaleyra: kaleyra.Config{BaseURL: c.KaleyraBaseURL,
			SID: c.KaleyraSID, APIKey: c.KaleyraAPIKey, Sender: c.KaleyraSender, Timeout: c.KaleyraTimeout}})
	}
	for _, e := range c.KaleyraNumbers {
		parts := strings.SplitN(e, ":", 4)
		if len(parts) != 4 || parts[0] == "" {
			return nil, fmt.Errorf("--kaleyra-numbers entry %q: use phone_number_id:sid:sender:api-key-file", e)
		}
		key, err := os.ReadFile(parts[3])
		if err != nil {
			return nil, fmt.Errorf("--kaleyra-numbers %s: the key file: %w", parts[0], err)
		}
		out = append(out, Number{PhoneNumberID: parts[0], Kaleyra: kaleyra.Config{BaseURL: c.KaleyraBaseURL, SID: parts[1],
			APIKey: strings.TrimRight(string(key), "\r\n"), Sender: parts[2], Timeout: c.KaleyraTimeout}})
	}
	return out, nil
}

// Validate checks the notification flags (the credentials by building a
// client of each).
func (c *Notify) Validate() []error {
	var errs []error
	for _, s := range c.NotifyStatuses {
		if !waorders.OrderStatus(s).Valid() {
			errs = append(errs, fmt.Errorf("--notify-statuses: %q is not an order status (use %v)", s, waorders.OrderStatuses))
		}
	}
	nums, err := c.Numbers()
	if err != nil {
		errs = append(errs, err)
	}
	for _, n := range nums {
		if _, err := kaleyra.New(n.Kaleyra); err != nil {
			errs = append(errs, fmt.Errorf("kaleyra number %q: %w", n.PhoneNumberID, err))
		}
	}
	if len(c.NotifyStatuses) > 0 && len(nums) == 0 {
		errs = append(errs, fmt.Errorf("--notify-statuses is set but no number is: set --kaleyra-sid, --kaleyra-api-key (or WAORDERS_KALEYRA_API_KEY_FILE) and --kaleyra-sender"))
	}
	if c.NotifyConcurrency < 1 || c.NotifyConcurrency > 64 {
		errs = append(errs, fmt.Errorf("--notify-concurrency %d: use 1 to 64", c.NotifyConcurrency))
	}
	if c.NotifyReconcile < time.Second {
		errs = append(errs, fmt.Errorf("--notify-reconcile %s: use at least 1s (Kaleyra's callbacks take seconds)", c.NotifyReconcile))
	}
	if c.NotifyOnAmbiguous != "resend" && c.NotifyOnAmbiguous != "give_up" {
		errs = append(errs, fmt.Errorf("--notify-on-ambiguous %q: use resend or give_up", c.NotifyOnAmbiguous))
	}
	return errs
}

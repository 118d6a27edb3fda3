package flags

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/switchyard/switchyard/events"
	"github.com/switchyard/switchyard/internal/gate"
	"github.com/switchyard/switchyard/internal/textlimit"
)

// FlagKey is the OpenFeature flag that carries a client's read stage. It is
// a string flag; the evaluation context's targeting key is the client id.
const FlagKey = "read-stage"

// Stage is a client's read stage (the control plane's one stage enum).
type Stage = gate.Stage

const (
	// StageLegacy serves reads from the legacy store.
	StageLegacy = gate.StageLegacy
	// StageShadow serves from legacy and compares with the target.
	StageShadow = gate.StageShadow
	// StageTarget serves reads from the target store.
	StageTarget = gate.StageTarget
	// StageTargetShadow serves from the target and compares with legacy.
	StageTargetShadow = gate.StageTargetShadow
)

// Stages lists every stage in promotion order.
func Stages() []Stage { return gate.Stages() }

// ParseStage parses a stage name, failing with an *InvalidError (field
// "stage") that lists the valid names.
func ParseStage(s string) (Stage, error) {
	st := Stage(s)
	if st.Valid() {
		return st, nil
	}
	if s == "" {
		return "", invalid("stage", "is required (one of "+gate.StageNames+")")
	}
	return "", invalid("stage", "%q is not one of "+gate.StageNames, truncate(s, 64))
}

// Source says where a client's stage came from.
type Source string

const (
	// SourceOverride: the client has a per-client override.
	SourceOverride Source = "override"
	// SourceRollout: the client falls inside the percentage rollout.
	SourceRollout Source = "rollout"
	// SourceDefault: neither applies; the default stage.
	SourceDefault Source = "default"
)

// Limits on text the flag model stores.
const (
	// MaxClientBytes is the longest client id (the envelope's limit).
	MaxClientBytes = events.MaxClientBytes
	// MaxReasonBytes is the longest change reason.
	MaxReasonBytes = 1024
	// MaxActorBytes is the longest actor name.
	MaxActorBytes = 255
)

// ValidateClient checks a client id. It is the one rule for client ids in
// the CLI, the console and the APIs: 1 to 255 bytes of valid UTF-8 in NFC,
// no leading or trailing white space, no control, format (zero-width,
// bidirectional), invisible or private-use characters (see checkText), and
// not "." or ".." (they name no page in a URL path). The error is an
// *InvalidError for field "client".
func ValidateClient(client string) error {
	if err := checkText("client", client, MaxClientBytes, false); err != nil {
		return err
	}
	switch {
	case client == "." || client == "..":
		return invalid("client", "%q is not a client id", client)
	case strings.TrimSpace(client) != client:
		return invalid("client", "has leading or trailing white space")
	}
	return nil
}

// ValidateReason checks a change reason: required (at least one visible
// character), at most 1024 bytes, text as checkText allows, where tabs are
// also allowed.
func ValidateReason(reason string) error {
	if err := checkText("reason", reason, MaxReasonBytes, true); err != nil {
		return err
	}
	if !hasVisible(reason) {
		return invalid("reason", "is required: say why the stage changes")
	}
	return nil
}

// RecordedActor is who a change records: identity, the identity the
// operator's credentials prove, with note (who asked, say) after it when
// it adds something. A note can only add to the identity, never replace
// it, so the audit log always names the credentials used.
func RecordedActor(identity, note string) (string, error) {
	actor := identity
	if note != "" && note != identity {
		actor = identity + " (note: " + note + ")"
	}
	return actor, ValidateActor(actor)
}

// ValidateActor checks who makes a change: required, at most 255 bytes,
// text as checkText allows.
func ValidateActor(actor string) error {
	if err := checkText("actor", actor, MaxActorBytes, false); err != nil {
		return err
	}
	if !hasVisible(actor) {
		return invalid("actor", "is required: say who makes the change")
	}
	return nil
}

// hasVisible reports whether s holds a character that shows.
func hasVisible(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsGraphic(r) && !unicode.IsSpace(r) }) >= 0
}

// checkText refuses text that does not read as what it is: invalid UTF-8;
// text not in Unicode normal form C (so "é" has one spelling); control
// characters (a tab only where allowTab); format characters (category Cf:
// zero-width spaces and joiners, bidirectional embeddings, overrides and
// isolates, which make "acme\u200b" look like "acme" or reorder a reason);
// other invisible characters (white space other than the plain space,
// default-ignorable code points, variation selectors); and private-use
// characters.
func checkText(field, s string, maxBytes int, allowTab bool) error {
	switch {
	case s == "":
		return invalid(field, "is required")
	case len(s) > maxBytes:
		return invalid(field, "is %d bytes, above the limit of %d", len(s), maxBytes)
	case !utf8.ValidString(s):
		return invalid(field, "is not valid UTF-8")
	}
	for _, r := range s {
		switch {
		case r == '\t' && allowTab, r == ' ':
		case unicode.IsControl(r):
			return invalid(field, "contains the control character %U", r)
		case unicode.Is(unicode.Bidi_Control, r):
			return invalid(field, "contains the bidirectional formatting character %U, which reorders how the text displays", r)
		case unicode.Is(unicode.Cf, r):
			return invalid(field, "contains the invisible formatting character %U", r)
		case unicode.Is(unicode.White_Space, r), unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r),
			unicode.Is(unicode.Variation_Selector, r), isInvisibleFiller(r):
			return invalid(field, "contains the invisible character %U", r)
		case unicode.Is(unicode.Co, r):
			return invalid(field, "contains the private-use character %U", r)
		}
	}
	if !norm.NFC.IsNormalString(s) {
		return invalid(field, "is not in Unicode normal form C (NFC): the same text has another, composed spelling")
	}
	return nil
}

// isInvisibleFiller reports letters that render as nothing (Hangul fillers,
// the braille blank).
func isInvisibleFiller(r rune) bool {
	switch r {
	case '\u115F', '\u1160', '\u3164', '\uFFA0', '\u2800':
		return true
	}
	return false
}

// Percentages are kept in basis points (1/100 of a percent), so a rollout
// can be as fine as 0.01 %.
const fullRollout = 10000

// ParsePercentage parses a rollout percentage between 0 and 100 with at most
// two decimals and returns it in basis points.
// The whole text must be the number: a decimal point (not a comma), no
// exponent, hexadecimal or trailing text, so "12,5", "10abc" and "0x1p3"
// are refused rather than read as 12, 10 and 8. A trailing "%" is allowed.
func ParsePercentage(s string) (int, error) {
	m := percentagePattern.FindStringSubmatch(s)
	if m == nil {
		return 0, invalid("percentage", "%q is not a percentage: write digits with an optional decimal point and up to two decimals, such as 12.5", truncate(s, 32))
	}
	whole, _ := strconv.Atoi(m[1]) // at most three digits
	frac := 0
	if m[2] != "" {
		frac, _ = strconv.Atoi((m[2] + "0")[:2])
	}
	if bp := whole*100 + frac; bp <= fullRollout {
		return bp, nil
	}
	return 0, invalid("percentage", "%s is outside 0..100", truncate(s, 32))
}

// percentagePattern is 0 to 100 with up to two decimals and an optional
// "%"; more than two decimals or three digits is refused here.
var percentagePattern = regexp.MustCompile(`^([0-9]{1,3})(?:\.([0-9]{1,2}))?%?$`)

// PercentageToBasisPoints converts a percentage (0..100, at most two
// decimals) to basis points.
func PercentageToBasisPoints(p float64) (int, error) {
	if math.IsNaN(p) || p < 0 || p > 100 {
		return 0, invalid("percentage", "%v is outside 0..100", p)
	}
	bp := math.Round(p * 100)
	if math.Abs(bp-p*100) > 1e-6 {
		return 0, invalid("percentage", "%v has more than two decimals", p)
	}
	return int(bp), nil
}

// Rollout moves a stable share of the clients without an override to Stage.
// Whether a client is in the rollout depends only on the salt and its id:
// FNV-1a of "salt:client" modulo 10000 below BasisPoints. Raising the
// percentage therefore only adds clients, and lowering it only removes them.
type Rollout struct {
	Stage Stage `json:"stage"`
	// BasisPoints is the share in 1/100 %: 2500 is 25 %.
	BasisPoints int `json:"basis_points"`
}

// Percentage returns the share in percent.
func (r Rollout) Percentage() float64 { return float64(r.BasisPoints) / 100 }

// Config is the bucket-wide part of the model: the default stage and the
// rollout. It is stored under one key.
type Config struct {
	// Default is the stage of clients without override outside the rollout.
	// An empty bucket behaves as Default legacy.
	Default Stage `json:"default"`
	// Rollout, when set with BasisPoints > 0, applies before the default.
	Rollout *Rollout `json:"rollout,omitempty"`
	// Salt seeds the rollout hash. It is chosen when the config is first
	// written and never changes, so rollouts stay stable.
	Salt string `json:"salt"`
	// Reason, Actor, Forced and UpdatedAt describe the last change.
	Reason    string    `json:"reason,omitempty"`
	Actor     string    `json:"actor,omitempty"`
	Forced    bool      `json:"forced,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// DefaultConfig is the configuration of an empty bucket: everyone on legacy.
func DefaultConfig() Config { return Config{Default: StageLegacy, Salt: "switchyard"} }

// Validate checks the stages and the rollout share.
func (c Config) Validate() error {
	if !c.Default.Valid() {
		return invalid("default", "stage %q is not one of "+gate.StageNames, truncate(string(c.Default), 64))
	}
	if r := c.Rollout; r != nil {
		if !r.Stage.Valid() {
			return invalid("rollout.stage", "%q is not one of "+gate.StageNames, truncate(string(r.Stage), 64))
		}
		if r.BasisPoints < 0 || r.BasisPoints > fullRollout {
			return invalid("rollout.basis_points", "%d is outside 0..10000", r.BasisPoints)
		}
	}
	return nil
}

// InRollout reports whether client falls inside the rollout share.
func (c *Config) InRollout(client string) bool {
	r := c.Rollout
	return r != nil && r.BasisPoints > 0 && int(RolloutBucket(c.Salt, client)) < r.BasisPoints
}

// RolloutBucket returns the client's stable position 0..9999: FNV-1a (64
// bit) of salt, ':' and client, modulo 10000. It does not allocate.
func RolloutBucket(salt, client string) uint32 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(salt); i++ {
		h ^= uint64(salt[i])
		h *= prime
	}
	h ^= ':'
	h *= prime
	for i := 0; i < len(client); i++ {
		h ^= uint64(client[i])
		h *= prime
	}
	return uint32(h % fullRollout)
}

// Override pins one client to a stage.
type Override struct {
	Client string `json:"client"`
	Stage  Stage  `json:"stage"`
	// Reason, Actor and UpdatedAt describe the change that set it.
	Reason    string    `json:"reason"`
	Actor     string    `json:"actor"`
	UpdatedAt time.Time `json:"updated_at"`
	// Forced is true when the change overrode failing promotion gates;
	// FailedGates then lists what failed.
	Forced      bool     `json:"forced,omitempty"`
	FailedGates []string `json:"failed_gates,omitempty"`
	// Revision is the bucket revision of the override; not stored in the
	// value, filled in when read.
	Revision uint64 `json:"-"`
}

// Resolution is a client's effective stage and why.
type Resolution struct {
	Stage  Stage
	Source Source
}

// Snapshot is an immutable view of the whole model. Resolve on it is safe
// for concurrent use and does not allocate.
type Snapshot struct {
	config    Config
	overrides map[string]Override
	revision  uint64
}

// NewSnapshot builds a snapshot; overrides is taken over, not copied.
func NewSnapshot(cfg Config, overrides map[string]Override, revision uint64) *Snapshot {
	if overrides == nil {
		overrides = map[string]Override{}
	}
	return &Snapshot{config: cfg, overrides: overrides, revision: revision}
}

// Revision returns the highest bucket revision the snapshot reflects.
func (s *Snapshot) Revision() uint64 { return s.revision }

// Config returns the default and rollout configuration.
func (s *Snapshot) Config() Config { return s.config }

// Override returns the client's override, if any.
func (s *Snapshot) Override(client string) (Override, bool) {
	o, ok := s.overrides[client]
	return o, ok
}

// Overrides returns the number of overrides.
func (s *Snapshot) Overrides() int { return len(s.overrides) }

// EachOverride calls fn for every override in no particular order.
func (s *Snapshot) EachOverride(fn func(Override)) {
	for _, o := range s.overrides {
		fn(o)
	}
}

// Resolve returns the client's effective stage: its override, else the
// rollout stage when the client falls inside the rollout, else the default.
func (s *Snapshot) Resolve(client string) Resolution {
	if o, ok := s.overrides[client]; ok {
		return Resolution{Stage: o.Stage, Source: SourceOverride}
	}
	return s.config.resolveWithoutOverride(client)
}

func (c *Config) resolveWithoutOverride(client string) Resolution {
	if c.InRollout(client) {
		return Resolution{Stage: c.Rollout.Stage, Source: SourceRollout}
	}
	d := c.Default
	if d == "" {
		d = StageLegacy
	}
	return Resolution{Stage: d, Source: SourceDefault}
}

func truncate(s string, n int) string { return textlimit.Truncate(s, n) }

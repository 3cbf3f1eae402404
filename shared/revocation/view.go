package revocation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Defaults of a [View]'s options.
const (
	DefaultRefreshInterval = 2 * time.Second
	DefaultMaxStaleness    = 10 * time.Second
	DefaultOverlap         = 10 * time.Second
	DefaultFullReload      = 5 * time.Minute
	DefaultRefreshTimeout  = 2 * time.Second
)

// maxPages bounds one refresh: 100 pages of up to 1 MB each.
const maxPages = 100

// ErrStale means the table could not be read for longer than the view's
// maximum staleness and the view fails closed. Compare with errors.Is.
var ErrStale = errors.New("revocation view is stale")

// ErrMalformedResponse means the table answered without the members every
// Query reply has; the refresh fails and the view ages as on any error.
var ErrMalformedResponse = errors.New("malformed Query response: no Items")

// ErrNoIdentity means [View.Check] was given neither a subject nor a jti.
var ErrNoIdentity = errors.New("revocation check needs a subject or a jti")

// QueryAPI is the part of the DynamoDB client a [View] uses.
// *dynamodb.Client implements it.
type QueryAPI interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// FailMode says what a [View] does when it cannot read the table for longer
// than its maximum staleness.
type FailMode int

const (
	// FailClosed makes Check return an error wrapping [ErrStale]. The default.
	FailClosed FailMode = iota
	// FailOpen keeps answering from the last view, counting each answer in
	// [Stats].StaleAllowed.
	FailOpen
)

// An Option changes one of a [View]'s defaults.
type Option func(*View)

// WithRefreshInterval sets how old the view may grow before a Check refreshes
// it. The default is [DefaultRefreshInterval]; zero or less keeps it.
func WithRefreshInterval(d time.Duration) Option {
	return func(v *View) {
		if d > 0 {
			v.interval = d
		}
	}
}

// WithMaxStaleness sets how long the table may be unreadable before the
// [FailMode] applies. The default is [DefaultMaxStaleness]; zero or less
// keeps it.
func WithMaxStaleness(d time.Duration) Option {
	return func(v *View) {
		if d > 0 {
			v.maxStale = d
		}
	}
}

// WithFailMode sets the [FailMode]. The default is [FailClosed].
func WithFailMode(m FailMode) Option { return func(v *View) { v.failMode = m } }

// WithOverlap sets how far before its previous refresh an incremental read
// starts, to catch entries that reached the eventually consistent index late
// or were stamped by a writer whose clock is behind. The default is
// [DefaultOverlap]; negative values keep it.
func WithOverlap(d time.Duration) Option {
	return func(v *View) {
		if d >= 0 {
			v.overlap = d
		}
	}
}

// WithFullReload sets how often a warm view reloads the full set instead of
// reading what changed. The default is [DefaultFullReload]; zero or less
// keeps it.
func WithFullReload(d time.Duration) Option {
	return func(v *View) {
		if d > 0 {
			v.fullEvery = d
		}
	}
}

// WithRefreshTimeout bounds one refresh, all pages included. The default is
// [DefaultRefreshTimeout]; zero or less keeps it.
func WithRefreshTimeout(d time.Duration) Option {
	return func(v *View) {
		if d > 0 {
			v.timeout = d
		}
	}
}

// WithIndex names the GSI to query. The default is [DefaultIndex].
func WithIndex(name string) Option { return func(v *View) { v.index = name } }

// WithOnChange registers fn to be called with the new generation each time a
// refresh changes the view, for example to clear a decision cache. fn runs on
// the goroutine of the Check that refreshed, after the new view is in place;
// it must be quick and must not call Check.
func WithOnChange(fn func(generation uint64)) Option { return func(v *View) { v.onChange = fn } }

// WithOnStaleAnswer registers fn to be called each time a Check in
// [FailOpen] mode answers from a view older than the maximum staleness
// (age is how old; negative when nothing was ever loaded), so the function
// can log it. fn runs on the checking goroutine and must be quick: see
// [StaleLogger].
func WithOnStaleAnswer(fn func(age time.Duration)) Option { return func(v *View) { v.onStale = fn } }

// StaleLogger returns a WithOnStaleAnswer hook that logs a warning at most
// once per interval (with the number of stale answers since the last line),
// so an outage of the table is visible without a log line per request.
// Safe for concurrent use.
func StaleLogger(log *slog.Logger, every time.Duration) func(age time.Duration) {
	var (
		mu     sync.Mutex
		last   time.Time
		missed int
	)
	return func(age time.Duration) {
		mu.Lock()
		missed++
		now := time.Now()
		if !last.IsZero() && now.Sub(last) < every {
			mu.Unlock()
			return
		}
		n := missed
		last, missed = now, 0
		mu.Unlock()
		attrs := []any{"staleAnswers", n, "failMode", "open"}
		if age >= 0 {
			attrs = append(attrs, "viewAgeMs", age.Milliseconds())
		} else {
			attrs = append(attrs, "viewAgeMs", -1)
		}
		log.Warn("revocation view is stale: answering from the last view (REVOCATION_FAIL_MODE=open)", attrs...)
	}
}

// withClock replaces time.Now, for tests.
func withClock(now func() time.Time) Option { return func(v *View) { v.now = now } }

// A View is a process-local copy of the revocation table that answers
// [View.Check] from memory and refreshes itself lazily. It is safe for
// concurrent use.
type View struct {
	db        QueryAPI
	table     string
	index     string
	interval  time.Duration
	maxStale  time.Duration
	overlap   time.Duration
	fullEvery time.Duration
	timeout   time.Duration
	failMode  FailMode
	onChange  func(uint64)
	onStale   func(time.Duration)
	now       func() time.Time

	snap atomic.Pointer[snapshot]

	mu          sync.Mutex
	inflight    chan struct{} // non-nil while a refresh runs; closed when it ends
	lastAttempt time.Time
	lastErr     error

	refreshes, fullLoads, refreshErrors   atomic.Uint64
	itemsRead, skippedItems               atomic.Uint64
	staleAllowed, staleDenied, noViewOpen atomic.Uint64
}

// snapshot is one immutable state of the view.
type snapshot struct {
	entries  map[string]record
	loadedAt time.Time // reader's clock at the start of the refresh that built it
	fullAt   time.Time // start of the last full load
	gen      uint64
}

// record is one entry as the reader needs it, in unix seconds.
type record struct {
	revokedAt int64
	expiresAt int64
}

var emptySnapshot = &snapshot{entries: map[string]record{}}

// NewView returns a View of the table. It does not touch the network: the
// first Check loads the full set.
func NewView(db QueryAPI, table string, opts ...Option) *View {
	v := &View{
		db:        db,
		table:     table,
		index:     DefaultIndex,
		interval:  DefaultRefreshInterval,
		maxStale:  DefaultMaxStaleness,
		overlap:   DefaultOverlap,
		fullEvery: DefaultFullReload,
		timeout:   DefaultRefreshTimeout,
		now:       time.Now,
	}
	for _, o := range opts {
		o(v)
	}
	return v
}

// Check reports whether a token is revoked: its jti has an entry, or its
// subject has an entry (for its issuer or for [AnyIssuer]) whose revokedAt is
// after issuedAt. A zero issuedAt (no iat claim) under a revoked subject is
// revoked. Entries past their expiry are ignored.
//
// Check answers from memory. When the view is older than the refresh
// interval, one caller refreshes it (reading only what changed) while
// concurrent callers answer from the current view; only before the first
// successful load do callers wait for it. It returns an error wrapping
// [ErrStale] when the view fails closed, [ErrNoIdentity] when both sub and
// jti are empty, or the context's error while waiting for a first load.
func (v *View) Check(ctx context.Context, issuer, sub, jti string, issuedAt time.Time) (revoked bool, err error) {
	if sub == "" && jti == "" {
		return false, ErrNoIdentity
	}
	s, err := v.current(ctx)
	if err != nil {
		return false, err
	}
	return s.revoked(v.now().Unix(), issuer, sub, jti, issuedAt), nil
}

// Generation returns a number that changes whenever the view's content
// changes; a decision cache stamped with it can tell it is out of date.
func (v *View) Generation() uint64 {
	if s := v.snap.Load(); s != nil {
		return s.gen
	}
	return 0
}

// Stats is a point-in-time summary of a [View], for metrics.
type Stats struct {
	// Entries is the number of entries held, expired ones included until the
	// next full reload.
	Entries int
	// Generation is [View.Generation].
	Generation uint64
	// LastRefresh is the start of the last successful refresh; zero if none.
	LastRefresh time.Time
	// Lag is how old the view is: now minus LastRefresh; zero if none.
	Lag time.Duration
	// Refreshes counts successful refreshes, FullLoads those that read the
	// whole set, RefreshErrors the failed ones.
	Refreshes, FullLoads, RefreshErrors uint64
	// ItemsRead counts items returned by the table; SkippedItems those that
	// had no usable key and were ignored.
	ItemsRead, SkippedItems uint64
	// StaleAllowed counts answers given in FailOpen mode from a view older
	// than the maximum staleness (or from no view at all); StaleDenied counts
	// errors returned in FailClosed mode for the same reason.
	StaleAllowed, StaleDenied uint64
	// LastError is the error of the last refresh, nil if it succeeded.
	LastError error
}

// Stats returns the view's counters and lag.
func (v *View) Stats() Stats {
	st := Stats{
		Refreshes:     v.refreshes.Load(),
		FullLoads:     v.fullLoads.Load(),
		RefreshErrors: v.refreshErrors.Load(),
		ItemsRead:     v.itemsRead.Load(),
		SkippedItems:  v.skippedItems.Load(),
		StaleAllowed:  v.staleAllowed.Load(),
		StaleDenied:   v.staleDenied.Load(),
	}
	v.mu.Lock()
	st.LastError = v.lastErr
	v.mu.Unlock()
	if s := v.snap.Load(); s != nil {
		st.Entries = len(s.entries)
		st.Generation = s.gen
		st.LastRefresh = s.loadedAt
		st.Lag = v.now().Sub(s.loadedAt)
	}
	return st
}

// current returns the snapshot to answer from, refreshing it first when it
// is due and no other refresh is running.
func (v *View) current(ctx context.Context) (*snapshot, error) {
	now := v.now()
	s := v.snap.Load()
	if s != nil && now.Sub(s.loadedAt) < v.interval {
		return s, nil // the hot path: no lock, no call
	}

	v.mu.Lock()
	if ch := v.inflight; ch != nil {
		v.mu.Unlock()
		if s == nil {
			// Nothing to answer from yet: wait for the first load.
			select {
			case <-ch:
			case <-ctx.Done():
				return nil, fmt.Errorf("wait for revocation view: %w", ctx.Err())
			}
			s = v.snap.Load()
		}
		return v.judge(s, v.now())
	}
	if s != nil && now.Sub(v.lastAttempt) < v.interval {
		// The last attempt failed recently: do not hammer the table.
		v.mu.Unlock()
		return v.judge(s, now)
	}
	ch := make(chan struct{})
	v.inflight = ch
	v.lastAttempt = now
	v.mu.Unlock()

	err := v.refresh(ctx, now, s)

	v.mu.Lock()
	v.inflight = nil
	v.lastErr = err
	v.mu.Unlock()
	close(ch)
	if err != nil {
		v.refreshErrors.Add(1)
	}
	return v.judge(v.snap.Load(), v.now())
}

// judge applies the staleness rule to s (nil when nothing was ever loaded).
func (v *View) judge(s *snapshot, now time.Time) (*snapshot, error) {
	if s != nil && now.Sub(s.loadedAt) <= v.maxStale {
		return s, nil
	}
	if v.failMode == FailOpen {
		v.staleAllowed.Add(1)
		if v.onStale != nil {
			age := time.Duration(-1)
			if s != nil {
				age = now.Sub(s.loadedAt)
			}
			v.onStale(age)
		}
		if s == nil {
			return emptySnapshot, nil
		}
		return s, nil
	}
	v.staleDenied.Add(1)
	v.mu.Lock()
	last := v.lastErr
	v.mu.Unlock()
	if s == nil {
		if last == nil {
			return nil, fmt.Errorf("%w: never loaded", ErrStale)
		}
		return nil, fmt.Errorf("%w: never loaded: %w", ErrStale, last)
	}
	lag := now.Sub(s.loadedAt).Round(time.Millisecond)
	if last == nil {
		return nil, fmt.Errorf("%w: last read %s ago", ErrStale, lag)
	}
	return nil, fmt.Errorf("%w: last read %s ago: %w", ErrStale, lag, last)
}

// refresh reads the table and installs a new snapshot. start is the reader's
// clock when the refresh began; old is the snapshot it refreshes (nil before
// the first load).
func (v *View) refresh(ctx context.Context, start time.Time, old *snapshot) error {
	ctx, cancel := context.WithTimeout(ctx, v.timeout)
	defer cancel()

	full := old == nil || start.Sub(old.fullAt) >= v.fullEvery
	in := &dynamodb.QueryInput{
		TableName:                aws.String(v.table),
		IndexName:                aws.String(v.index),
		KeyConditionExpression:   aws.String("#g = :g"),
		FilterExpression:         aws.String("attribute_not_exists(#e) OR #e > :now"),
		ProjectionExpression:     aws.String("#pk, #r, #e"),
		ExpressionAttributeNames: map[string]string{"#g": attrGSIPK, "#e": attrExpiresAt, "#pk": attrPK, "#r": attrRevokedAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":g":   &types.AttributeValueMemberS{Value: gsiPartition},
			":now": number(start.Unix()),
		},
	}
	if !full {
		since := old.loadedAt.Add(-v.overlap).UnixMilli()
		in.KeyConditionExpression = aws.String("#g = :g AND #u >= :since")
		in.ExpressionAttributeNames["#u"] = attrUpdatedAt
		in.ExpressionAttributeValues[":since"] = number(since)
	}

	var items []map[string]types.AttributeValue
	for page := 0; ; page++ {
		if page == maxPages {
			return fmt.Errorf("read revocations: more than %d pages", maxPages)
		}
		out, err := v.db.Query(ctx, in)
		if err != nil {
			return fmt.Errorf("read revocations: %w", err)
		}
		// DynamoDB always sends "Items", [] when nothing matched. A reply
		// without it (an empty or truncated body that the SDK decodes
		// without error) must not read as "no revocations": at a full
		// reload that would drop every entry and let revoked callers in.
		if out.Items == nil {
			return fmt.Errorf("read revocations: %w", ErrMalformedResponse)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	v.itemsRead.Add(uint64(len(items)))

	next := &snapshot{loadedAt: start, fullAt: start}
	changed := false
	switch {
	case full:
		next.entries = make(map[string]record, len(items))
		v.merge(next.entries, items)
		changed = old == nil || !sameEntries(old.entries, next.entries)
		v.fullLoads.Add(1)
	case len(items) == 0:
		next.entries, next.fullAt = old.entries, old.fullAt
	default:
		next.entries = make(map[string]record, len(old.entries)+len(items))
		for k, r := range old.entries {
			next.entries[k] = r
		}
		v.merge(next.entries, items)
		changed = !sameEntries(old.entries, next.entries)
		next.fullAt = old.fullAt
	}
	if old != nil {
		next.gen = old.gen
	}
	if changed {
		next.gen++
	}
	v.snap.Store(next)
	v.refreshes.Add(1)
	if changed && v.onChange != nil {
		v.onChange(next.gen)
	}
	return nil
}

// merge adds items to m. The writer never lowers revokedAt nor expiresAt, so
// the merge keeps the larger of each: a late, older copy of an item cannot
// undo a newer one.
func (v *View) merge(m map[string]record, items []map[string]types.AttributeValue) {
	for _, it := range items {
		key, r, ok := decodeItem(it)
		if !ok {
			v.skippedItems.Add(1)
			continue
		}
		if old, seen := m[key]; seen {
			r.revokedAt = max(r.revokedAt, old.revokedAt)
			r.expiresAt = max(r.expiresAt, old.expiresAt)
		}
		m[key] = r
	}
}

func sameEntries(a, b map[string]record) bool {
	if len(a) != len(b) {
		return false
	}
	for k, r := range a {
		if b[k] != r {
			return false
		}
	}
	return true
}

// neverExpires stands for a missing or unreadable expiresAt.
const neverExpires = int64(1<<63 - 1)

// decodeItem reads one table item. Items without a well-formed key are
// skipped (ok false). Otherwise it fails closed: an unreadable revokedAt
// revokes every token of the subject, an unreadable expiresAt never expires.
func decodeItem(it map[string]types.AttributeValue) (key string, r record, ok bool) {
	pk, isS := it[attrPK].(*types.AttributeValueMemberS)
	if !isS || !wellFormedKey(pk.Value) {
		return "", record{}, false
	}
	r.revokedAt = neverExpires
	if n, isN := it[attrRevokedAt].(*types.AttributeValueMemberN); isN {
		if x, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			r.revokedAt = x
		}
	}
	r.expiresAt = neverExpires
	if n, isN := it[attrExpiresAt].(*types.AttributeValueMemberN); isN {
		if x, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			r.expiresAt = x
		}
	}
	return pk.Value, r, true
}

func wellFormedKey(k string) bool {
	switch {
	case strings.HasPrefix(k, jtiPrefix):
		return len(k) > len(jtiPrefix)
	case strings.HasPrefix(k, subjectPrefix):
		iss, sub, found := strings.Cut(k[len(subjectPrefix):], "#")
		return found && iss != "" && sub != ""
	}
	return false
}

// revoked is the decision; now is unix seconds.
func (s *snapshot) revoked(now int64, issuer, sub, jti string, issuedAt time.Time) bool {
	if len(s.entries) == 0 {
		return false
	}
	var buf [256]byte
	if jti != "" {
		k := append(append(buf[:0], jtiPrefix...), jti...)
		if r, ok := s.entries[string(k)]; ok && now < r.expiresAt {
			return true
		}
	}
	if sub == "" {
		return false
	}
	if issuer != "" && issuer != AnyIssuer && strings.IndexByte(issuer, '#') < 0 {
		k := append(append(append(append(buf[:0], subjectPrefix...), issuer...), '#'), sub...)
		if r, ok := s.entries[string(k)]; ok && now < r.expiresAt && deniedBy(r, issuedAt) {
			return true
		}
	}
	k := append(append(append(buf[:0], subjectPrefix...), AnyIssuer+"#"...), sub...)
	r, ok := s.entries[string(k)]
	return ok && now < r.expiresAt && deniedBy(r, issuedAt)
}

// deniedBy reports whether a subject entry denies a token issued at iat.
func deniedBy(r record, iat time.Time) bool {
	// iat.Unix() floors, so this is iat < revokedAt without building a
	// time.Time from revokedAt, which may be the huge fail-closed value.
	return iat.IsZero() || iat.Unix() < r.revokedAt
}

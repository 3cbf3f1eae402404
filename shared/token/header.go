package token

import (
	"strings"
	"sync/atomic"
)

// headerCacheSize bounds the headers a Verifier remembers. Issuers sign
// every token with one of a few headers (one per key, so two or three
// around a rotation).
const headerCacheSize = 8

// headerCache remembers the parsed form of the raw header segments of
// tokens that verified, newest first. Parsing is deterministic, so a
// remembered result is exactly what parsing the same bytes again would
// give; and since only headers of verified tokens are remembered, forged
// tokens cannot crowd out real ones. Readers never lock: the list is
// immutable and replaced whole.
type headerCache struct {
	list atomic.Pointer[[]headerEntry]
}

type headerEntry struct {
	segment string // the raw base64url header segment
	alg     algorithm
	kid     string
}

// lookup returns the remembered algorithm and kid of segment.
func (h *headerCache) lookup(segment string) (algorithm, string, bool) {
	if l := h.list.Load(); l != nil {
		for i := range *l {
			if e := &(*l)[i]; e.segment == segment {
				return e.alg, e.kid, true
			}
		}
	}
	return 0, "", false
}

// remember records segment's parsed form, evicting the oldest entry when
// full. The segment is copied so that the cache does not keep the token
// it came from alive. Concurrent calls may drop one another's entry; the
// next verification of such a header remembers it again.
func (h *headerCache) remember(segment string, a algorithm, kid string) {
	old := h.list.Load()
	var next []headerEntry
	if old != nil {
		for _, e := range *old {
			if e.segment == segment {
				return
			}
		}
		next = make([]headerEntry, 0, min(len(*old)+1, headerCacheSize))
	}
	next = append(next, headerEntry{segment: strings.Clone(segment), alg: a, kid: kid})
	if old != nil {
		next = append(next, (*old)[:min(len(*old), headerCacheSize-1)]...)
	}
	h.list.Store(&next)
}

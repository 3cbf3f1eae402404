package sourceip

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// ErrInvalid is wrapped by every error [Parse], [ParsePrefix] and
// [ParseAddr] return.
var ErrInvalid = errors.New("invalid source IP rule")

// MaxPrefixes bounds the entries of one list, so a rule check stays cheap
// for any configuration.
const MaxPrefixes = 1000

// Rules are allow and deny lists of prefixes. A nil *Rules allows every
// address.
type Rules struct {
	allow, deny []netip.Prefix
}

// Parse parses allow and deny lists. Each entry is a CIDR prefix
// ("203.0.113.0/24", "2001:db8::/32") or a single address (a /32 or
// /128). Entries are trimmed; empty entries are skipped. A prefix with
// host bits set ("10.0.0.1/8"), a zone ("fe80::1%eth0"), or more than
// [MaxPrefixes] entries in a list is an error: such a rule almost always
// says something its author did not mean. Errors name the entry.
func Parse(allow, deny []string) (*Rules, error) {
	a, err := parseList("allow", allow)
	if err != nil {
		return nil, err
	}
	d, err := parseList("deny", deny)
	if err != nil {
		return nil, err
	}
	return &Rules{allow: a, deny: d}, nil
}

func parseList(name string, in []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, s := range in {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		p, err := ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", name, i, err)
		}
		out = append(out, p)
		if len(out) > MaxPrefixes {
			return nil, fmt.Errorf("%w: %s has more than %d entries", ErrInvalid, name, MaxPrefixes)
		}
	}
	return out, nil
}

// ParsePrefix parses one rule entry (see [Parse]) into its canonical
// prefix: an IPv4-mapped IPv6 prefix of at least /96 becomes the IPv4
// prefix.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "%") {
		return netip.Prefix{}, fmt.Errorf("%w: %q: zones are not allowed", ErrInvalid, s)
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, fmt.Errorf("%w: %q is not a CIDR prefix", ErrInvalid, s)
		}
		if m := p.Masked(); m != p {
			return netip.Prefix{}, fmt.Errorf("%w: %q has host bits set (did you mean %s?)", ErrInvalid, s, m)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%w: %q is not an address or CIDR prefix", ErrInvalid, s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, fmt.Errorf("%w: %q: an IPv4-mapped prefix needs at least /96", ErrInvalid, s)
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p, nil
}

// ParseAddr parses a source address as API Gateway reports it. An
// IPv4-mapped IPv6 address becomes the IPv4 address; a zone, an empty
// string or anything else that is not an address is an error.
func ParseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("%w: source address %q", ErrInvalid, s)
	}
	return a.Unmap(), nil
}

// Allows reports whether addr passes the rules: it is in no deny prefix,
// and, when the allow list is not empty, in some allow prefix. Deny wins
// over allow. addr is unmapped first. An invalid addr (the zero Addr)
// passes only rules without entries: with any rule, an address that cannot
// be checked fails closed.
func (r *Rules) Allows(addr netip.Addr) bool {
	if r.Empty() {
		return true
	}
	if !addr.IsValid() || addr.Zone() != "" {
		return false
	}
	addr = addr.Unmap()
	for _, p := range r.deny {
		if p.Contains(addr) {
			return false
		}
	}
	if len(r.allow) == 0 {
		return true
	}
	for _, p := range r.allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Empty reports whether the rules have no entries (everything passes).
func (r *Rules) Empty() bool { return r == nil || len(r.allow) == 0 && len(r.deny) == 0 }

// String lists the rules, for logs and errors.
func (r *Rules) String() string {
	if r.Empty() {
		return "any"
	}
	var b strings.Builder
	b.WriteString("allow=")
	for i, p := range r.allow {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.String())
	}
	b.WriteString(" deny=")
	for i, p := range r.deny {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.String())
	}
	return b.String()
}

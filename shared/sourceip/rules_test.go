package sourceip_test

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/apigw-guard/guard/shared/sourceip"
)

func must(t *testing.T, allow, deny []string) *sourceip.Rules {
	t.Helper()
	r, err := sourceip.Parse(allow, deny)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAllows(t *testing.T) {
	cases := []struct {
		name        string
		allow, deny []string
		ip          string
		want        bool
	}{
		{"no rules allow anything", nil, nil, "198.51.100.7", true},
		{"in the allow list", []string{"203.0.113.0/24"}, nil, "203.0.113.200", true},
		{"first address of the prefix", []string{"203.0.113.0/24"}, nil, "203.0.113.0", true},
		{"last address of the prefix", []string{"203.0.113.0/24"}, nil, "203.0.113.255", true},
		{"just outside the prefix", []string{"203.0.113.0/24"}, nil, "203.0.114.0", false},
		{"just below the prefix", []string{"203.0.113.0/24"}, nil, "203.0.112.255", false},
		{"not in the allow list", []string{"203.0.113.0/24"}, nil, "198.51.100.7", false},
		{"deny beats allow", []string{"10.0.0.0/8"}, []string{"10.1.2.3"}, "10.1.2.3", false},
		{"deny is exact", []string{"10.0.0.0/8"}, []string{"10.1.2.3"}, "10.1.2.4", true},
		{"deny only", nil, []string{"192.0.2.0/24"}, "192.0.2.9", false},
		{"deny only, other address", nil, []string{"192.0.2.0/24"}, "192.0.3.9", true},
		{"single IPv4 address is /32", []string{"192.0.2.1"}, nil, "192.0.2.1", true},
		{"single IPv4 address is /32, neighbour", []string{"192.0.2.1"}, nil, "192.0.2.2", false},
		{"IPv6 prefix", []string{"2001:db8::/32"}, nil, "2001:db8:ffff::1", true},
		{"IPv6 outside", []string{"2001:db8::/32"}, nil, "2001:db9::1", false},
		{"IPv6 /128", []string{"2001:db8::1/128"}, nil, "2001:db8::1", true},
		{"IPv6 /128 neighbour", []string{"2001:db8::1/128"}, nil, "2001:db8::2", false},
		{"IPv6 written differently", []string{"2001:0db8:0000::/32"}, nil, "2001:DB8::AB", true},
		{"IPv4 /0 matches every IPv4", []string{"0.0.0.0/0"}, nil, "255.255.255.255", true},
		{"IPv4 /0 does not match IPv6", []string{"0.0.0.0/0"}, nil, "2001:db8::1", false},
		{"IPv6 /0 matches every IPv6", []string{"::/0"}, nil, "2001:db8::1", true},
		{"IPv6 /0 does not match IPv4", []string{"::/0"}, nil, "192.0.2.1", false},
		{"IPv6 /0 does not match mapped IPv4", []string{"::/0"}, nil, "::ffff:192.0.2.1", false},
		{"deny /0 denies all IPv4", []string{"0.0.0.0/0"}, []string{"0.0.0.0/0"}, "192.0.2.1", false},
		{"mapped caller matches an IPv4 allow", []string{"192.0.2.0/24"}, nil, "::ffff:192.0.2.1", true},
		{"mapped caller matches an IPv4 deny", nil, []string{"192.0.2.0/24"}, "::ffff:192.0.2.1", false},
		{"mapped prefix matches an IPv4 caller", []string{"::ffff:192.0.2.0/120"}, nil, "192.0.2.77", true},
		{"mapped prefix excludes others", []string{"::ffff:192.0.2.0/120"}, nil, "192.0.3.77", false},
		{"mapped /128 rule", []string{"::ffff:192.0.2.1"}, nil, "192.0.2.1", true},
		{"IPv4-compatible is not mapped", []string{"192.0.2.0/24"}, nil, "::192.0.2.1", false},
		{"empty source with rules fails closed", []string{"0.0.0.0/0"}, nil, "", false},
		{"garbage source with deny-only rules fails closed", nil, []string{"192.0.2.0/24"}, "not-an-ip", false},
		{"zone in the source fails closed", []string{"fe80::/10"}, nil, "fe80::1%eth0", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := must(t, tc.allow, tc.deny)
			addr, _ := sourceip.ParseAddr(tc.ip)
			if tc.ip == "fe80::1%eth0" {
				addr = netip.MustParseAddr(tc.ip)
			}
			if got := r.Allows(addr); got != tc.want {
				t.Fatalf("Allows(%s) with allow %v deny %v = %v, want %v", tc.ip, tc.allow, tc.deny, got, tc.want)
			}
		})
	}
	var none *sourceip.Rules
	if !none.Allows(netip.Addr{}) || !none.Empty() {
		t.Error("a nil *Rules must allow everything")
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{
		"10.0.0.1/8",          // host bits
		"2001:db8::1/32",      // host bits
		"10.0.0.0/33",         // too long
		"2001:db8::/129",      // too long
		"fe80::1%eth0",        // zone
		"fe80::%eth0/64",      // zone
		"::ffff:10.0.0.0/95",  // mapped below /96
		"10.0.0",              // not an address
		"10.0.0.0/",           // no bits
		"10.0.0.0/-1",         // negative
		"example.com",         // a name
		"10.0.0.0/8,10.1.0.0", // two in one
		"1.2.3.4/024",         // leading zero bits
	} {
		_, err := sourceip.Parse([]string{in}, nil)
		if !errors.Is(err, sourceip.ErrInvalid) {
			t.Errorf("Parse(%q) = %v, want ErrInvalid", in, err)
		} else if !strings.Contains(err.Error(), "allow[0]") {
			t.Errorf("Parse(%q) error %q does not name the entry", in, err)
		}
	}
	many := make([]string, sourceip.MaxPrefixes+1)
	for i := range many {
		many[i] = "192.0.2.1"
	}
	if _, err := sourceip.Parse(nil, many); !errors.Is(err, sourceip.ErrInvalid) {
		t.Errorf("Parse of %d entries = %v, want ErrInvalid", len(many), err)
	}
	if r, err := sourceip.Parse([]string{" 10.0.0.0/8 ", ""}, nil); err != nil || r.Empty() {
		t.Errorf("Parse with spaces and empties = %v, %v", r, err)
	}
	for _, s := range []string{"", "10.0.0.256", "::ffff:1.2.3.4%z"} {
		if _, err := sourceip.ParseAddr(s); !errors.Is(err, sourceip.ErrInvalid) {
			t.Errorf("ParseAddr(%q) = %v, want ErrInvalid", s, err)
		}
	}
}

func TestParsePrefixCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1/32",
		"2001:db8::1":          "2001:db8::1/128",
		"::ffff:192.0.2.0/120": "192.0.2.0/24",
		"::ffff:0.0.0.0/96":    "0.0.0.0/0",
		"::ffff:192.0.2.1":     "192.0.2.1/32",
		"2001:DB8:0:0::/64":    "2001:db8::/64",
		"0.0.0.0/0":            "0.0.0.0/0",
		"::/0":                 "::/0",
	} {
		p, err := sourceip.ParsePrefix(in)
		if err != nil || p.String() != want {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
}

func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "2001:db8::/32", "::ffff:192.0.2.0/120", "192.0.2.1", "::/0", "1.2.3.4/33", "fe80::1%x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := sourceip.ParsePrefix(s)
		if err != nil {
			return
		}
		if !p.IsValid() || p.Masked() != p || p.Addr().Is4In6() || p.Addr().Zone() != "" {
			t.Fatalf("ParsePrefix(%q) = %v: not canonical", s, p)
		}
		again, err := sourceip.ParsePrefix(p.String())
		if err != nil || again != p {
			t.Fatalf("ParsePrefix(%q) = %v, but its String parses to %v, %v", s, p, again, err)
		}
		r, err := sourceip.Parse([]string{s}, nil)
		if err != nil {
			t.Fatalf("Parse rejects %q that ParsePrefix accepts: %v", s, err)
		}
		if !r.Allows(p.Addr()) {
			t.Fatalf("rule %q does not allow its own first address %v", s, p.Addr())
		}
		if p.Addr().Is4() && !r.Allows(netip.AddrFrom16(p.Addr().As16())) {
			t.Fatalf("rule %q does not allow the mapped form of %v", s, p.Addr())
		}
	})
}

// FuzzAllows checks the rules' decisions for arbitrary lists and
// addresses: a deny always wins, an IPv4 address and its IPv4-mapped IPv6
// form get the same answer, an address that does not parse never passes
// non-empty rules, and naming the address itself in the deny (allow) list
// refuses (admits) it.
func FuzzAllows(f *testing.F) {
	f.Add("10.0.0.0/8,2001:db8::/32", "10.1.0.0/16", "10.1.2.3")
	f.Add("", "192.0.2.0/24", "::ffff:192.0.2.7")
	f.Add("::/0", "", "2001:db8::1")
	f.Add("127.0.0.0/8", "", "X-Forwarded-For")
	f.Fuzz(func(t *testing.T, allowList, denyList, addrText string) {
		split := func(s string) []string {
			if s == "" {
				return nil
			}
			return strings.Split(s, ",")
		}
		allow, deny := split(allowList), split(denyList)
		r, err := sourceip.Parse(allow, deny)
		if err != nil {
			return
		}
		addr, err := sourceip.ParseAddr(addrText)
		if err != nil {
			if !r.Empty() && r.Allows(netip.Addr{}) {
				t.Fatalf("rules %v pass the zero address", r)
			}
			return
		}
		got := r.Allows(addr)
		for _, d := range deny {
			if p, _ := sourceip.ParsePrefix(d); p.Contains(addr.Unmap()) && got {
				t.Fatalf("rules %v allow %v inside deny %v", r, addr, p)
			}
		}
		if a := addr.Unmap(); a.Is4() {
			if mapped := netip.AddrFrom16(a.As16()); r.Allows(mapped) != r.Allows(a) {
				t.Fatalf("rules %v: %v and %v answer differently", r, a, mapped)
			}
		}
		host := netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen()).String()
		if rd, err := sourceip.Parse(allow, append(slices.Clone(deny), host)); err == nil && rd.Allows(addr) {
			t.Fatalf("rules %v allow %v, which is denied by name", rd, addr)
		}
		if !got && !slices.ContainsFunc(deny, func(d string) bool { p, _ := sourceip.ParsePrefix(d); return p.Contains(addr.Unmap()) }) {
			if ra, err := sourceip.Parse(append(slices.Clone(allow), host), deny); err == nil && !ra.Allows(addr) {
				t.Fatalf("rules %v refuse %v, which is allowed by name and denied by nothing", ra, addr)
			}
		}
	})
}

package validate

import (
	"regexp"
	"strings"

	"github.com/corazawaf/libinjection-go"
)

// inspection says which injection checks run on a value.
type inspection uint8

const (
	// inspectStrict runs SQL injection and XSS detection. It is the default
	// for every value.
	inspectStrict inspection = iota
	// inspectText runs XSS detection only, for free text that may quote SQL
	// or code (a description, a comment). Such text must reach SQL through
	// bound parameters, which is the real defence against SQL injection.
	inspectText
	// inspectOff runs nothing. Only a route's configuration can choose it.
	inspectOff
)

func parseInspection(s string) (inspection, bool) {
	switch s {
	case "strict":
		return inspectStrict, true
	case "text":
		return inspectText, true
	case "off":
		return inspectOff, true
	}
	return 0, false
}

// inspect returns RuleXSS or RuleSQLi when s, or any decoded form of it, looks
// like an attack, and "" otherwise. XSS is checked first: markup that also
// trips the SQL tokenizer is reported as what it most plainly is.
func inspect(s string, mode inspection) Rule {
	if mode == inspectOff || s == "" {
		return ""
	}
	forms := decodedForms(s)
	for _, f := range forms {
		if mayBeXSS(f) && libinjection.IsXSS(f) || xssExtra(f) {
			return RuleXSS
		}
	}
	if mode != inspectStrict {
		return ""
	}
	for _, f := range forms {
		if ok, _ := libinjection.IsSQLi(f); ok || sqliExtra(f) {
			return RuleSQLi
		}
	}
	return ""
}

// mayBeXSS is a prefilter for libinjection.IsXSS, which tokenizes the input
// five times as HTML. It can only report a tag, doctype or comment (each
// starts with '<') or an attribute value (which follows '='), so input with
// neither cannot be XSS to it. FuzzXSSPrefilter checks this claim.
func mayBeXSS(s string) bool { return strings.ContainsAny(s, "<=") }

// Rules for what libinjection misses. Each one is written against a browser's
// or a SQL parser's behaviour, and tested against the benign corpus in
// testdata so that apostrophes and prose stay clean.
var (
	// dangerousTag matches the opening (or closing) of elements that run
	// script or load active content. libinjection misses split tags such as
	// <scr<script>ipt>.
	dangerousTag = regexp.MustCompile(`(?i)<\s*/?\s*(?:script|iframe|frame|frameset|object|embed|applet|svg|math|base|meta|link|style|template)(?:[\s/>]|$)`)

	// eventHandler matches an attribute named after a DOM event handler and
	// followed by '=', after a separator a browser accepts between attributes.
	eventHandler = regexp.MustCompile(`(?i)(?:^|[\s"'` + "`" + `/;<>])on(?:` + strings.Join(eventNames, "|") + `)\s*=`)

	// tagAttributeHandler matches any on*= attribute inside an opening tag,
	// which covers handler names not in eventNames.
	tagAttributeHandler = regexp.MustCompile(`(?i)<[a-z][^>]*[\s/"']on[a-z]+\s*=`)

	// scriptURLInAttr matches a script-bearing URL after '=' or '(' (href=,
	// src=, action=, url(...), content="0;url=..."), optionally quoted. It
	// runs on a form with tabs and newlines removed, as a URL parser would.
	scriptURLInAttr = regexp.MustCompile(`(?i)[=(]\s*["'` + "`" + `]?\s*(?:javascript|vbscript|livescript)\s*:`)

	// dataHTMLInAttr matches a data: URL carrying a document or script type
	// in the same positions.
	dataHTMLInAttr = regexp.MustCompile(`(?i)[=(]\s*["'` + "`" + `]?\s*data\s*:\s*(?:` + dataTypes + `)`)

	// dataHTMLValue matches a value that is such a data: URL.
	dataHTMLValue = regexp.MustCompile(`(?i)^data\s*:\s*(?:` + dataTypes + `)`)

	// tautology finds "OR x=x"-style comparisons; the two sides are compared
	// in code because Go's regexp has no back-references.
	tautology = regexp.MustCompile(`(?i)(?:^|[\s'"()])(?:or|and|xor|\|\||&&)\s+('[^']*'|"[^"]*"|\w+)\s*(?:=|==|<=>|\blike\b)\s*('[^']*'|"[^"]*"|\w+)`)
)

const dataTypes = `text/html|application/xhtml\+xml|text/javascript|application/javascript|application/ecmascript|text/xml`

// eventNames are the DOM event handler attribute names without their "on"
// prefix (HTML Living Standard, SVG animation events, common vendor events).
var eventNames = []string{
	"abort", "afterprint", "animationcancel", "animationend", "animationiteration", "animationstart",
	"auxclick", "beforecopy", "beforecut", "beforeinput", "beforematch", "beforepaste", "beforeprint",
	"beforetoggle", "beforeunload", "begin", "blur", "bounce", "cancel", "canplay", "canplaythrough",
	"change", "click", "close", "contentvisibilityautostatechange", "contextlost", "contextmenu",
	"contextrestored", "copy", "cuechange", "cut", "dblclick", "drag", "dragend", "dragenter",
	"dragexit", "dragleave", "dragover", "dragstart", "drop", "durationchange", "emptied", "end",
	"ended", "error", "finish", "focus", "focusin", "focusout", "formdata", "fullscreenchange",
	"gotpointercapture", "hashchange", "input", "invalid", "keydown", "keypress", "keyup", "load",
	"loadeddata", "loadedmetadata", "loadend", "loadstart", "lostpointercapture", "message",
	"messageerror", "mousedown", "mouseenter", "mouseleave", "mousemove", "mouseout", "mouseover",
	"mouseup", "mousewheel", "offline", "pagehide", "pagereveal", "pageshow", "pageswap", "paste",
	"pause", "play", "playing", "pointercancel", "pointerdown", "pointerenter", "pointerleave",
	"pointermove", "pointerout", "pointerover", "pointerrawupdate", "pointerup", "popstate",
	"progress", "ratechange", "readystatechange", "rejectionhandled", "repeat", "reset", "resize",
	"scroll", "scrollend", "search", "securitypolicyviolation", "seeked", "seeking", "select",
	"selectionchange", "selectstart", "show", "slotchange", "stalled", "start", "storage", "submit",
	"suspend", "timeupdate", "toggle", "touchcancel", "touchend", "touchmove", "touchstart",
	"transitioncancel", "transitionend", "transitionrun", "transitionstart", "unhandledrejection",
	"unload", "volumechange", "waiting", "webkitanimationend", "webkitanimationiteration",
	"webkitanimationstart", "webkittransitionend", "wheel",
}

// xssExtra covers what libinjection's XSS check misses: script URLs (with the
// whitespace and character-reference obfuscation a URL parser forgives),
// data: documents, split or bare dangerous tags and event-handler attributes.
func xssExtra(s string) bool {
	// Cheap byte tests gate the regexps: most values hold none of these.
	lt, eq, colon := strings.IndexByte(s, '<') >= 0, strings.IndexByte(s, '=') >= 0, strings.IndexByte(s, ':') >= 0
	if lt && dangerousTag.MatchString(s) {
		return true
	}
	if eq && (eventHandler.MatchString(s) || lt && tagAttributeHandler.MatchString(s)) {
		return true
	}
	if !colon {
		return false
	}
	// The WHATWG URL parser drops ASCII tab and newline anywhere and trims
	// leading C0 controls and spaces, so "java\tscript:" is "javascript:".
	u := stripTabNewline(s)
	if (eq || strings.IndexByte(u, '(') >= 0) && (scriptURLInAttr.MatchString(u) || dataHTMLInAttr.MatchString(u)) {
		return true
	}
	u = strings.TrimLeftFunc(u, func(r rune) bool { return r <= ' ' })
	return scriptURLValue(u) || dataHTMLValue.MatchString(u)
}

// stripTabNewline removes ASCII tab, LF and CR.
func stripTabNewline(s string) string {
	if !strings.ContainsAny(s, "\t\n\r") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != '\t' && c != '\n' && c != '\r' {
			b = append(b, c)
		}
	}
	return string(b)
}

// scriptURLValue reports whether u is a javascript:, vbscript: or
// livescript: URL whose remainder looks like code. Prose such as
// "JavaScript: the good parts" has a space after the colon and no call,
// assignment or template literal, so it passes.
func scriptURLValue(u string) bool {
	lower := strings.ToLower(u)
	for _, scheme := range []string{"javascript:", "vbscript:", "livescript:"} {
		if !strings.HasPrefix(lower, scheme) {
			continue
		}
		rest := u[len(scheme):]
		if rest == "" {
			return false
		}
		if rest[0] != ' ' {
			return true
		}
		return strings.ContainsAny(rest, "(`=")
	}
	return false
}

// sqliExtra covers two classic shapes libinjection lets through: a string
// literal closed and the rest of the query commented out ("admin' #"), and a
// bare tautology ("or 1=1").
func sqliExtra(s string) bool {
	return quoteThenComment(s) || hasTautology(s)
}

// quoteThenComment reports whether s ends with a quote that closes an odd
// (so unbalanced) number of quotes, followed only by a SQL comment opener.
// "He said 'no' --" has balanced quotes and passes.
func quoteThenComment(s string) bool {
	t := strings.TrimRight(s, " \t\r\n-+*/#")
	tail := strings.TrimLeft(s[len(t):], " \t\r\n")
	if !strings.HasPrefix(tail, "#") && !strings.HasPrefix(tail, "--") && !strings.HasPrefix(tail, "/*") {
		return false
	}
	if t == "" {
		return false
	}
	q := t[len(t)-1]
	if q != '\'' && q != '"' && q != '`' {
		return false
	}
	return strings.Count(t, string(q))%2 == 1
}

func hasTautology(s string) bool {
	if strings.IndexByte(s, '=') < 0 && !strings.Contains(strings.ToLower(s), "like") {
		return false
	}
	for _, m := range tautology.FindAllStringSubmatch(s, -1) {
		if strings.EqualFold(unquoteSQL(m[1]), unquoteSQL(m[2])) {
			return true
		}
	}
	return false
}

func unquoteSQL(s string) string {
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

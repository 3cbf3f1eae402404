package observe

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrinted(t *testing.T) {
	const raw = "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("decision", "token", Secret(raw))
	log.Info("group", slog.Group("g", "sig", Secret(raw)))
	out := buf.String() + fmt.Sprint(Secret(raw)) + fmt.Sprintf("%v %s %#v", Secret(raw), Secret(raw), Secret(raw))
	if strings.Contains(out, raw) {
		t.Fatalf("secret printed: %s", out)
	}
	if got := strings.Count(buf.String(), "REDACTED"); got != 2 {
		t.Fatalf("REDACTED appears %d times in logs, want 2: %s", got, buf.String())
	}
}

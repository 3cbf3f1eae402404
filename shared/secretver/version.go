package secretver

import (
	"log/slog"
	"time"
)

// The staging labels a [Reader] reads.
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
)

// Version is one version of the secret under one staging label.
//
// Its String, GoString and LogValue methods omit Value, so printing or
// logging a Version (or a [Snapshot]) never reveals the secret.
type Version struct {
	// ID identifies the version's content. It is the Secrets Manager
	// VersionId when the Reader has learned it from a direct read, and
	// otherwise "sha256:" followed by the first 16 bytes of an HMAC-SHA-256
	// of Value, in hex, under a key drawn at process start: the caching
	// client does not expose version IDs. Either way, equal IDs mean equal
	// values within the process, so callers may memoise by ID, and an ID
	// in a log reveals nothing of the value.
	ID string
	// Stage is StageCurrent or StagePrevious.
	Stage string
	// Value is the version's SecretString.
	Value string
}

// String returns the stage and ID, never the value.
func (v Version) String() string { return v.Stage + "(" + v.ID + ")" }

// GoString is String, so %#v does not print the value either.
func (v Version) GoString() string { return v.String() }

// LogValue implements slog.LogValuer without the value.
func (v Version) LogValue() slog.Value {
	return slog.GroupValue(slog.String("stage", v.Stage), slog.String("id", v.ID))
}

// Snapshot is what a [Reader] knows of the secret at one moment. A Snapshot
// and its Versions slice are shared between callers and must not be
// modified.
type Snapshot struct {
	// Versions holds AWSCURRENT first, then AWSPREVIOUS when the secret has
	// one (a secret that was never rotated has none).
	Versions []Version
	// Fetched is when the Reader first saw these versions.
	Fetched time.Time
	// Generation identifies the content: two Snapshots from the same Reader
	// with equal Generation hold the same versions (and share one Versions
	// slice), and a Generation is never reused for other content. It is
	// never 0 in a Snapshot returned without error.
	Generation uint64
}

// Current returns the AWSCURRENT version.
func (s Snapshot) Current() (Version, bool) {
	return s.stage(StageCurrent)
}

// Previous returns the AWSPREVIOUS version, if the secret has one.
func (s Snapshot) Previous() (Version, bool) {
	return s.stage(StagePrevious)
}

func (s Snapshot) stage(stage string) (Version, bool) {
	for _, v := range s.Versions {
		if v.Stage == stage {
			return v, true
		}
	}
	return Version{}, false
}

// sameContent reports whether a and b hold the same stages with the same
// values. Comparing strings that share memory costs nothing.
func sameContent(a, b []Version) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Stage != b[i].Stage || a[i].Value != b[i].Value {
			return false
		}
	}
	return true
}

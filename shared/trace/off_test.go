//go:build notrace

package trace

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func awsConfig() aws.Config { return aws.Config{Region: "us-east-1"} }

func TestNotraceBuildRefusesXRay(t *testing.T) {
	tr, err := New(WithMode(XRay))
	if !errors.Is(err, ErrNotLinked) || tr.Enabled() || Linked {
		t.Errorf("New(XRay) = enabled %v, %v; Linked %v; want ErrNotLinked, off, false", tr.Enabled(), err, Linked)
	}
	if m, err := ParseMode(""); m != Off || err != nil {
		t.Errorf(`ParseMode("") = %q, %v; want off in a notrace build`, m, err)
	}
}

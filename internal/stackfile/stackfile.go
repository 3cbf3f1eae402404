// Package stackfile records where the running local stack listens, so that
// `make invoke`, `make mint` and `make revoke` can find it. The file lives in
// the local data folder (.local/stack.json), never in the repository.
package stackfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// Name is the file's name inside the data folder.
const Name = "stack.json"

// Stack is what the local stack publishes about itself.
type Stack struct {
	Gateway   string            `json:"gateway"`   // base URL of the local API Gateway
	Moto      string            `json:"moto"`      // Secrets Manager / DynamoDB endpoint
	Functions map[string]string `json:"functions"` // logical id -> emulator invoke URL
	PID       int               `json:"pid"`       // the process serving the stack
}

// Write saves s into dir.
func Write(dir string, s Stack) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, Name+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, Name))
}

// Read loads the stack file from dir.
func Read(dir string) (Stack, error) {
	b, err := os.ReadFile(filepath.Join(dir, Name))
	if errors.Is(err, os.ErrNotExist) {
		return Stack{}, fmt.Errorf("no local stack is running (start it with `make run`)")
	}
	if err != nil {
		return Stack{}, err
	}
	var s Stack
	if err := json.Unmarshal(b, &s); err != nil {
		return Stack{}, fmt.Errorf("%s: %w", Name, err)
	}
	return s, nil
}

// LogicalID maps a function folder name to its template logical id:
// "token-authorizer" -> "TokenAuthorizerFunction".
func LogicalID(folder string) string {
	var b strings.Builder
	for _, part := range strings.Split(folder, "-") {
		for i, r := range part {
			if i == 0 {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
		}
	}
	return b.String() + "Function"
}

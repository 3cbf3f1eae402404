package policy

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Context builds an authorizer context API Gateway accepts: it answers 500
// when a context value is not a string, number or boolean. Strings and
// booleans survive; numbers survive as int64, float64 or json.Number (other
// Go integer and float types are converted; NaN, infinities, invalid
// json.Numbers and integers beyond int64 are dropped); a []any or []string
// becomes its scalar elements joined with "," (nil and non-scalar elements
// skipped); maps, nil and every other type are dropped. The result is a new
// map, never nil; values is not modified.
func Context(values map[string]any) map[string]any {
	out := make(map[string]any, len(values))
	for k, v := range values {
		if s, ok := scalar(v); ok {
			out[k] = s
			continue
		}
		switch l := v.(type) {
		case []any:
			parts := make([]string, 0, len(l))
			for _, e := range l {
				if s, ok := scalar(e); ok {
					parts = append(parts, format(s))
				}
			}
			out[k] = strings.Join(parts, ",")
		case []string:
			out[k] = strings.Join(l, ",")
		}
	}
	return out
}

// scalar returns v as a string, bool, int64, float64 or json.Number, or false.
func scalar(v any) (any, bool) {
	switch x := v.(type) {
	case string, bool, int64:
		return x, true
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case float32:
		return scalar(float64(x))
	case json.Number:
		return x, validNumber(string(x))
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint:
		return fromUint(uint64(x))
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		return fromUint(x)
	}
	return nil, false
}

func fromUint(u uint64) (any, bool) {
	if u > math.MaxInt64 {
		return nil, false
	}
	return int64(u), true
}

// validNumber reports whether s follows the JSON number grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func validNumber(s string) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

func format(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case json.Number:
		return string(x)
	}
	return ""
}

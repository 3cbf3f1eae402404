package samtemplate

import (
	"sort"

	"gopkg.in/yaml.v3"
)

// Logging is a function's LoggingConfig (Globals merged), from which Lambda
// sets AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL for the runtime.
type Logging struct {
	// Format is LogFormat: "JSON" or "Text"; "" when unset (Lambda's
	// default, Text).
	Format string
	// ApplicationLogLevel is TRACE, DEBUG, INFO, WARN, ERROR, FATAL or "".
	// Lambda applies it only with the JSON format.
	ApplicationLogLevel string
	// SystemLogLevel is DEBUG, INFO, WARN or "".
	SystemLogLevel string
}

// The values Lambda's LoggingConfig accepts (a deployment with any other
// fails).
var (
	logFormats  = map[string]bool{"JSON": true, "Text": true}
	appLevels   = map[string]bool{"TRACE": true, "DEBUG": true, "INFO": true, "WARN": true, "ERROR": true, "FATAL": true}
	sysLevels   = map[string]bool{"DEBUG": true, "INFO": true, "WARN": true}
	loggingKeys = []struct {
		name    string
		allowed map[string]bool
		set     func(*Logging, string)
	}{
		{"LogFormat", logFormats, func(l *Logging, v string) { l.Format = v }},
		{"ApplicationLogLevel", appLevels, func(l *Logging, v string) { l.ApplicationLogLevel = v }},
		{"SystemLogLevel", sysLevels, func(l *Logging, v string) { l.SystemLogLevel = v }},
	}
)

// logging reads a function's LoggingConfig. LogGroup is not needed locally.
func (d *doc) logging(id string, props *yaml.Node) (Logging, error) {
	var out Logging
	lc := get(props, "LoggingConfig")
	if lc == nil {
		return out, nil
	}
	if lc.Kind != yaml.MappingNode {
		if name, _ := intrinsicName(lc); name != "" {
			return out, d.errAt(lc, id, "Properties.LoggingConfig", unsupported("computed LoggingConfig"))
		}
		return out, d.errf(lc, id, "Properties.LoggingConfig", "not a mapping")
	}
	for _, k := range loggingKeys {
		n := get(lc, k.name)
		if n == nil {
			continue
		}
		prop := "Properties.LoggingConfig." + k.name
		v, err := d.resolve(n, id, prop)
		if err != nil {
			return out, err
		}
		if v == noValue {
			continue
		}
		s, err := scalarString(v)
		if err != nil {
			return out, d.errAt(n, id, prop, err)
		}
		if !k.allowed[s] {
			return out, d.errf(n, id, prop, "%q is not one of %s", s, sortedNames(k.allowed))
		}
		k.set(&out, s)
	}
	return out, nil
}

func sortedNames(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

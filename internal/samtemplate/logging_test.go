package samtemplate

import (
	"errors"
	"strings"
	"testing"
)

func TestLoggingConfig(t *testing.T) {
	tm, err := Parse([]byte(`
Parameters:
  Level: {Type: String, Default: DEBUG}
Globals:
  Function:
    Runtime: provided.al2023
    LoggingConfig: {LogFormat: JSON, ApplicationLogLevel: INFO, SystemLogLevel: WARN}
Resources:
  Inherits: {Type: AWS::Serverless::Function, Properties: {CodeUri: .}}
  Overrides:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ., LoggingConfig: {ApplicationLogLevel: !Ref Level}}
  Text:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: ., LoggingConfig: {LogFormat: Text, ApplicationLogLevel: !Ref AWS::NoValue, SystemLogLevel: !Ref AWS::NoValue}}
`))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]Logging{
		"Inherits":  {Format: "JSON", ApplicationLogLevel: "INFO", SystemLogLevel: "WARN"},
		"Overrides": {Format: "JSON", ApplicationLogLevel: "DEBUG", SystemLogLevel: "WARN"},
		"Text":      {Format: "Text"},
	} {
		if got := tm.Functions[id].Logging; got != want {
			t.Errorf("%s: Logging = %+v, want %+v", id, got, want)
		}
	}

	none, err := Parse([]byte("Resources:\n  Fn: {Type: AWS::Serverless::Function, Properties: {CodeUri: .}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := none.Functions["Fn"].Logging; got != (Logging{}) {
		t.Errorf("no LoggingConfig: Logging = %+v, want the zero value", got)
	}
}

func TestLoggingConfigRefused(t *testing.T) {
	tests := []struct {
		name, config, property string
		unsupported            bool
		messageHas             string
	}{
		{"bad format", "{LogFormat: json}", "Properties.LoggingConfig.LogFormat", false, `"json" is not one of [JSON Text]`},
		{"bad application level", "{LogFormat: JSON, ApplicationLogLevel: VERBOSE}", "Properties.LoggingConfig.ApplicationLogLevel", false, "VERBOSE"},
		{"bad system level", "{LogFormat: JSON, SystemLogLevel: ERROR}", "Properties.LoggingConfig.SystemLogLevel", false, "[DEBUG INFO WARN]"},
		{"computed", "!If [C, {LogFormat: JSON}, !Ref AWS::NoValue]", "Properties.LoggingConfig", true, "computed LoggingConfig"},
		{"not a mapping", "JSON", "Properties.LoggingConfig", false, "not a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte("Conditions: {C: !Equals [a, a]}\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n      LoggingConfig: " + tt.config + "\n"))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse error = %v, want an *Error", err)
			}
			if e.Resource != "Fn" || e.Property != tt.property {
				t.Errorf("error names %q / %q, want Fn / %q", e.Resource, e.Property, tt.property)
			}
			if got := errors.Is(err, ErrUnsupported); got != tt.unsupported {
				t.Errorf("errors.Is(ErrUnsupported) = %v, want %v (%v)", got, tt.unsupported, err)
			}
			if !strings.Contains(err.Error(), tt.messageHas) {
				t.Errorf("message %q lacks %q", err, tt.messageHas)
			}
		})
	}
}

// Package fakesm is an in-memory Secrets Manager for tests: one secret, its
// versions and their staging labels, with AWS's rules (not an emulator's)
// for the calls the rotation code makes. It is test tooling: never
// deployed.
//
// The rules it follows, from the Secrets Manager API reference: a staging
// label is on at most one version; moving AWSCURRENT moves AWSPREVIOUS to
// the version it left; UpdateSecretVersionStage refuses to take a label
// from a version not named in RemoveFromVersionId; PutSecretValue with a
// ClientRequestToken that names a version holding another value answers
// ResourceExistsException, and fills a version that has no value yet;
// GetSecretValue of a version without a value answers
// ResourceNotFoundException; DescribeSecret lists only versions that carry
// a label. RotateSecret only creates the empty AWSPENDING version and turns
// rotation on: it invokes nothing.
package fakesm

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// SM is the fake. Build one with [New]; it is safe for concurrent use.
type SM struct {
	mu       sync.Mutex
	name     string
	arn      string
	rotation *bool
	versions map[string]*version
	seq      int
	calls    []string
	fail     map[string][]error
}

type version struct {
	value  *string
	stages []string
}

// New returns a fake holding the secret name with one AWSCURRENT version
// (ID "v0") whose value is current. Rotation is off.
func New(name, current string) *SM {
	s := &SM{
		name:     name,
		arn:      "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + name + "-AbCdEf",
		versions: map[string]*version{},
		fail:     map[string][]error{},
	}
	s.versions["v0"] = &version{value: aws.String(current), stages: []string{"AWSCURRENT"}}
	return s
}

// ARN returns the secret's ARN (either it or the name identifies it).
func (s *SM) ARN() string { return s.arn }

// SetRotation sets what DescribeSecret reports as RotationEnabled (nil:
// never configured).
func (s *SM) SetRotation(enabled *bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rotation = enabled
}

// Put adds or replaces a version directly, without AWS's checks, and gives
// it exactly the labels stages (taking none from other versions). A nil
// value makes a version without a value. It is how tests build states AWS
// would not reach, such as a label on two versions.
func (s *SM) Put(id string, value *string, stages ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions[id] = &version{value: value, stages: slices.Clone(stages)}
}

// Value returns a version's value.
func (s *SM) Value(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.versions[id]
	if !ok || v.value == nil {
		return "", false
	}
	return *v.value, true
}

// Stages returns every version's labels (versions without labels too),
// each list sorted.
func (s *SM) Stages() map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]string, len(s.versions))
	for id, v := range s.versions {
		st := slices.Clone(v.stages)
		sort.Strings(st)
		out[id] = st
	}
	return out
}

// Labelled returns the version carrying stage, or "".
func (s *SM) Labelled(stage string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.labelled(stage)
}

func (s *SM) labelled(stage string) string {
	for id, v := range s.versions {
		if slices.Contains(v.stages, stage) {
			return id
		}
	}
	return ""
}

// FailNext makes the next call of op (e.g. "PutSecretValue") fail with
// err; several calls queue several failures.
func (s *SM) FailNext(op string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[op] = append(s.fail[op], err)
}

// Calls returns the calls made so far, as "Op" or "Op:detail".
func (s *SM) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Writes returns the calls that changed state.
func (s *SM) Writes() []string {
	var out []string
	for _, c := range s.Calls() {
		if strings.HasPrefix(c, "PutSecretValue") || strings.HasPrefix(c, "UpdateSecretVersionStage") || strings.HasPrefix(c, "RotateSecret") {
			out = append(out, c)
		}
	}
	return out
}

// begin records a call and returns an injected failure, if any. s.mu is held.
func (s *SM) begin(op, detail string) error {
	if detail != "" {
		s.calls = append(s.calls, op+":"+detail)
	} else {
		s.calls = append(s.calls, op)
	}
	if q := s.fail[op]; len(q) > 0 {
		s.fail[op] = q[1:]
		return q[0]
	}
	return nil
}

func (s *SM) known(id *string) error {
	if id == nil || (*id != s.name && *id != s.arn) {
		return &types.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret.")}
	}
	return nil
}

func invalidParam(format string, a ...any) error {
	return &types.InvalidParameterException{Message: aws.String(fmt.Sprintf(format, a...))}
}

// DescribeSecret implements the Secrets Manager call.
func (s *SM) DescribeSecret(_ context.Context, in *secretsmanager.DescribeSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.DescribeSecretOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("DescribeSecret", ""); err != nil {
		return nil, err
	}
	if err := s.known(in.SecretId); err != nil {
		return nil, err
	}
	m := map[string][]string{}
	for id, v := range s.versions {
		if len(v.stages) > 0 {
			m[id] = slices.Clone(v.stages)
		}
	}
	var rot *bool
	if s.rotation != nil {
		rot = aws.Bool(*s.rotation)
	}
	return &secretsmanager.DescribeSecretOutput{ARN: aws.String(s.arn), Name: aws.String(s.name), RotationEnabled: rot, VersionIdsToStages: m}, nil
}

// GetSecretValue implements the Secrets Manager call.
func (s *SM) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("GetSecretValue", aws.ToString(in.VersionId)+"/"+aws.ToString(in.VersionStage)); err != nil {
		return nil, err
	}
	if err := s.known(in.SecretId); err != nil {
		return nil, err
	}
	id := aws.ToString(in.VersionId)
	stage := aws.ToString(in.VersionStage)
	if id == "" {
		if stage == "" {
			stage = "AWSCURRENT"
		}
		id = s.labelled(stage)
	}
	v, ok := s.versions[id]
	if !ok {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret value.")}
	}
	if stage != "" && !slices.Contains(v.stages, stage) {
		return nil, &types.InvalidRequestException{Message: aws.String("You provided a VersionStage that is not associated to the provided VersionId.")}
	}
	if v.value == nil {
		return nil, &types.ResourceNotFoundException{Message: aws.String("Secrets Manager can't find the specified secret value for VersionId: " + id)}
	}
	return &secretsmanager.GetSecretValueOutput{
		ARN: aws.String(s.arn), Name: aws.String(s.name), VersionId: aws.String(id),
		SecretString: aws.String(*v.value), VersionStages: slices.Clone(v.stages),
	}, nil
}

// PutSecretValue implements the Secrets Manager call.
func (s *SM) PutSecretValue(_ context.Context, in *secretsmanager.PutSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.PutSecretValueOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("PutSecretValue", aws.ToString(in.ClientRequestToken)); err != nil {
		return nil, err
	}
	if err := s.known(in.SecretId); err != nil {
		return nil, err
	}
	if in.SecretString == nil {
		return nil, invalidParam("SecretString is required")
	}
	id := aws.ToString(in.ClientRequestToken)
	if id == "" {
		s.seq++
		id = fmt.Sprintf("auto-%d", s.seq)
	}
	stages := in.VersionStages
	if len(stages) == 0 {
		stages = []string{"AWSCURRENT"}
	}
	if v, ok := s.versions[id]; ok && v.value != nil {
		if *v.value != *in.SecretString {
			return nil, &types.ResourceExistsException{Message: aws.String("You can't use ClientRequestToken " + id + " because that value is already in use for a version of secret " + s.arn + ".")}
		}
		return &secretsmanager.PutSecretValueOutput{ARN: aws.String(s.arn), VersionId: aws.String(id), VersionStages: slices.Clone(v.stages)}, nil
	}
	v, ok := s.versions[id]
	if !ok {
		v = &version{}
		s.versions[id] = v
	}
	v.value = aws.String(*in.SecretString)
	for _, st := range stages {
		s.attach(st, id)
	}
	return &secretsmanager.PutSecretValueOutput{ARN: aws.String(s.arn), VersionId: aws.String(id), VersionStages: slices.Clone(v.stages)}, nil
}

// attach moves label to version id from wherever it is, with AWSPREVIOUS
// following AWSCURRENT. s.mu is held.
func (s *SM) attach(label, id string) {
	from := ""
	for vid, v := range s.versions {
		if vid != id && slices.Contains(v.stages, label) {
			from = vid
			v.stages = slices.DeleteFunc(v.stages, func(x string) bool { return x == label })
		}
	}
	v := s.versions[id]
	if !slices.Contains(v.stages, label) {
		v.stages = append(v.stages, label)
	}
	if label == "AWSCURRENT" && from != "" {
		s.attach("AWSPREVIOUS", from)
	}
}

// UpdateSecretVersionStage implements the Secrets Manager call.
func (s *SM) UpdateSecretVersionStage(_ context.Context, in *secretsmanager.UpdateSecretVersionStageInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.UpdateSecretVersionStageOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	label := aws.ToString(in.VersionStage)
	moveTo, removeFrom := aws.ToString(in.MoveToVersionId), aws.ToString(in.RemoveFromVersionId)
	if err := s.begin("UpdateSecretVersionStage", label+":"+moveTo+"<-"+removeFrom); err != nil {
		return nil, err
	}
	if err := s.known(in.SecretId); err != nil {
		return nil, err
	}
	if label == "" {
		return nil, invalidParam("VersionStage is required")
	}
	if removeFrom != "" {
		v, ok := s.versions[removeFrom]
		if !ok {
			return nil, invalidParam("Not a valid version: %s", removeFrom)
		}
		if !slices.Contains(v.stages, label) {
			return nil, invalidParam("Version stage %s not found in version %s", label, removeFrom)
		}
	}
	if moveTo != "" {
		if _, ok := s.versions[moveTo]; !ok {
			return nil, invalidParam("Not a valid version: %s", moveTo)
		}
		for vid, v := range s.versions {
			if vid != moveTo && vid != removeFrom && slices.Contains(v.stages, label) {
				return nil, invalidParam("The staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.", label, vid)
			}
		}
	}
	if moveTo == "" {
		if removeFrom == "" {
			return nil, invalidParam("Specify MoveToVersionId, RemoveFromVersionId or both")
		}
		if label == "AWSCURRENT" {
			return nil, invalidParam("AWSCURRENT cannot be removed without being moved")
		}
		v := s.versions[removeFrom]
		v.stages = slices.DeleteFunc(v.stages, func(x string) bool { return x == label })
	} else {
		s.attach(label, moveTo)
	}
	return &secretsmanager.UpdateSecretVersionStageOutput{ARN: aws.String(s.arn), Name: aws.String(s.name)}, nil
}

// RotateSecret creates the empty AWSPENDING version ClientRequestToken
// names (a random one when absent) and turns rotation on, as the service
// does before it invokes the rotation function. Like AWS, it refuses when
// AWSPENDING is on a version other than AWSCURRENT's.
func (s *SM) RotateSecret(_ context.Context, in *secretsmanager.RotateSecretInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.RotateSecretOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin("RotateSecret", aws.ToString(in.ClientRequestToken)); err != nil {
		return nil, err
	}
	if err := s.known(in.SecretId); err != nil {
		return nil, err
	}
	if p := s.labelled("AWSPENDING"); p != "" && !slices.Contains(s.versions[p].stages, "AWSCURRENT") {
		return nil, &types.InvalidRequestException{Message: aws.String("A previous rotation isn't complete. That rotation will be reattempted.")}
	}
	id := aws.ToString(in.ClientRequestToken)
	if id == "" {
		s.seq++
		id = fmt.Sprintf("rotate-%d", s.seq)
	}
	if _, ok := s.versions[id]; !ok {
		s.versions[id] = &version{}
	}
	s.attach("AWSPENDING", id)
	s.rotation = aws.Bool(true)
	return &secretsmanager.RotateSecretOutput{ARN: aws.String(s.arn), Name: aws.String(s.name), VersionId: aws.String(id)}, nil
}

// Package rotation implements the AWS Secrets Manager rotation protocol: the
// four steps (createSecret, setSecret, testSecret, finishSecret) that
// Secrets Manager asks one Lambda function to run, each with the same
// ClientRequestToken, to rotate one version of a secret in. What the secret
// holds is the caller's business: a [Rotator] is given a hook that makes a
// new value and a hook that proves a pending value works, and optionally
// hooks that check a value and spot a copy of the current one.
//
// Build one Rotator at init with [New] and call [Rotator.Handle] once per
// invocation; it is safe for concurrent use. It never logs and never puts a
// secret value into an error: it returns an [Outcome] for the caller's log.
//
// # Guard clauses
//
// Every step first reads the secret's metadata (DescribeSecret) and checks,
// as AWS's own rotation templates do:
//
//   - rotation is enabled (RotationEnabled), else [ErrRotationDisabled];
//   - the token is a version of this secret (a key of VersionIdsToStages),
//     else [ErrNotAVersion];
//   - if that version is already AWSCURRENT there is nothing to do: the step
//     succeeds with [AlreadyCurrent] (a rotation that finished, retried);
//   - otherwise the version must be AWSPENDING, else [ErrNotPending].
//
// Any failure is returned as a [*StepError], so the invocation fails and
// Secrets Manager retries the rotation. No guard is relaxed for an emulator.
//
// # The steps, and why each is idempotent
//
// createSecret is get-or-put. It reads the pending version's value
// (GetSecretValue by VersionId and AWSPENDING). If the version holds a good
// value that is not a copy of AWSCURRENT's, a retried createSecret reuses
// it ([Reused]). If it holds no value (ResourceNotFoundException), which is
// how Secrets Manager's RotateSecret creates it, the Rotator generates a
// value, checks it and writes it with PutSecretValue(ClientRequestToken =
// the token, VersionStages = [AWSPENDING], RotationToken when the event has
// one) ([Created]). If PutSecretValue answers ResourceExistsException (a
// concurrent invocation won the race), the Rotator reads the version again
// and reuses what the winner wrote.
//
// If the pending version holds a copy of the current value, no new value
// exists yet: the Rotator generates one and writes it with the same token
// ([CreatedOverCopy]). AWS never makes such a copy (its RotateSecret creates
// the pending version without a value), and AWS would refuse the write
// (ResourceExistsException: a version's value cannot change), so on AWS
// this path fails the step with an error that says so, and the operator
// must cancel the rotation; a copy is never promoted. Local emulators do
// make copies (moto's RotateSecret with RotateImmediately=false copies the
// secret's value into the pending version, and moto accepts a new value for
// a version labelled AWSPENDING), and there the write succeeds. Either way
// the guards are the same; only the emulator's answer to the write differs.
// By default a copy is a byte-for-byte equal value; [WithCopyCheck] makes it
// smarter (for keys: the same key ID).
//
// setSecret checks the pending value ([WithCheck]) and runs the optional
// [WithSet] hook, for secrets whose new value must be installed somewhere.
//
// testSecret checks the pending value and runs the test hook, which must
// prove the value works the way its consumers will use it.
//
// finishSecret checks the pending value once more (a value that fails the
// check is never promoted), then moves AWSCURRENT to the pending version in
// one UpdateSecretVersionStage call (MoveToVersionId = the token,
// RemoveFromVersionId = the old current): Secrets Manager moves AWSPREVIOUS
// to the old current by itself. It then removes the AWSPENDING label from
// every version that carries it: the finished version, and any version an
// earlier failed rotation left labelled (the label is unique on AWS, but
// not in every emulator). Ending with no AWSPENDING label is one of the two
// end states RotateSecret accepts. When a check hook is set and the old
// current value fails it (a placeholder from before the first rotation,
// such as the password CloudFormation generates for a new secret), its new
// AWSPREVIOUS label is removed too, so verifiers that read AWSPREVIOUS never
// meet something that is not key material. A retried finishSecret meets the
// "already AWSCURRENT" guard and changes nothing.
//
// # Local emulators
//
// Secrets Manager invokes the rotation function itself; an emulator cannot.
// A local driver (cmd/rotate) plays the service: it calls RotateSecret with
// a fresh ClientRequestToken, which creates the AWSPENDING version (moto
// then answers ResourceNotFoundException for the function ARN, because it
// cannot invoke a function it does not host, after it has created the
// version and turned rotation on), and then invokes the function four
// times. The Rotator itself does nothing special for emulators.
package rotation

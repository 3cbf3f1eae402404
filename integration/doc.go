// Package integration runs the suite's real function binaries under the AWS
// Lambda Runtime Interface Emulator against moto's Secrets Manager and
// DynamoDB. Its tests have the build tag "integration" and skip when moto or
// the emulator is not installed (`make tools`; pip install "moto[server]").
package integration

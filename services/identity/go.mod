module github.com/sottohq/sotto/services/identity

go 1.26.0

replace (
	github.com/sottohq/sotto/gen => ../../gen
	github.com/sottohq/sotto/pkg => ../../pkg
)

require (
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect
	github.com/descope/virtualwebauthn v1.0.3 // indirect
	github.com/dlclark/regexp2 v1.12.0 // indirect
	github.com/fxamacker/cbor/v2 v2.9.4 // indirect
	github.com/go-webauthn/webauthn v0.18.2 // indirect
	github.com/pquerna/otp v1.5.0 // indirect
	github.com/trustelem/zxcvbn v1.0.1 // indirect
	github.com/x448/float16 v0.8.4 // indirect
	golang.org/x/crypto v0.59.0 // indirect
)

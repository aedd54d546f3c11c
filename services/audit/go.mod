module github.com/sottohq/sotto/services/audit

go 1.26.0

replace (
	github.com/sottohq/sotto/gen => ../../gen
	github.com/sottohq/sotto/pkg => ../../pkg
)

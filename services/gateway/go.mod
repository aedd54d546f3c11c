module github.com/sottohq/sotto/services/gateway

go 1.26.0

replace (
	github.com/sottohq/sotto/gen => ../../gen
	github.com/sottohq/sotto/pkg => ../../pkg
)

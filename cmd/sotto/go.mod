module github.com/sottohq/sotto/cmd/sotto

go 1.26.0

replace (
	github.com/sottohq/sotto/gen => ../../gen
	github.com/sottohq/sotto/pkg => ../../pkg
)

module github.com/sottohq/sotto/test

go 1.26.0

replace (
	github.com/sottohq/sotto/gen => ../gen
	github.com/sottohq/sotto/pkg => ../pkg
)

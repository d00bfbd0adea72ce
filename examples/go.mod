module github.com/go-retryable/retryable/examples

go 1.26

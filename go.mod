module github.com/go-retryable/retryable

go 1.26

module github.com/go-retryable/retryable/bench

go 1.26

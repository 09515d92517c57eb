module github.com/waorders/waorders

go 1.26

require github.com/bojanz/currency v1.4.2

require github.com/cockroachdb/apd/v3 v3.2.1 // indirect

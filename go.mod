module github.com/scimkit/scim

go 1.26.8

require (
	github.com/di-wu/parser v0.2.2 // indirect
	github.com/di-wu/xsd-datetime v1.0.0 // indirect
	github.com/elimity-com/scim v0.0.0-20260328082225-d5e7ba418946 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/scim2/filter-parser/v2 v2.2.1 // indirect
)

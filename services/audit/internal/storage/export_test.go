package storage

// The SQL of the subject lookups, so that the tests can ask each database
// for its plan.
var (
	ListQuery         = listQuery
	CountSubjectQuery = countSubjectQuery
)

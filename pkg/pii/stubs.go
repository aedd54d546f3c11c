package pii

func (d *doc) scanAddresses()    {}
func (d *doc) scanPersons()      {}

type lexicon struct{}

func defaultLexicon() *lexicon { return &lexicon{} }

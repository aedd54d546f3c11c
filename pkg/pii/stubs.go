package pii

func (d *doc) scanSpokenPhones() {}
func (d *doc) scanSecrets()      {}
func (d *doc) scanDOB()          {}
func (d *doc) scanAddresses()    {}
func (d *doc) scanPersons()      {}

type lexicon struct{}

func defaultLexicon() *lexicon { return &lexicon{} }

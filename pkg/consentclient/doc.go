// Package consentclient is how a Sotto service asks the consent service
// whether it may use a subject's data for a purpose.
//
// Client.Check answers from a cache that the consent service's change feed
// (WatchConsentChanges) invalidates: a withdrawal recorded anywhere drops the
// cached decision within the feed's latency (milliseconds on a live feed).
// The cache is trusted only while the feed is current: until it has sent
// its first heartbeat, and whenever it has been silent for longer than the
// staleness bound, every Check goes to the service. When the service cannot
// be reached, a purpose whose legal basis depends on the subject (consent,
// legitimate interest with its right to object) is refused, Unavailable
// CONSENT_UNAVAILABLE: fail closed. Only a purpose resting on a contract or a
// legal obligation, as the last catalogue the client saw says, is allowed
// without the service (the subject's say-so cannot change it).
//
// Subpackage receipt is the receipt format and its offline verification.
package consentclient

package audit

// FeedCursor is where a feed reader stands in a tenant's ingest order,
// (ingest transaction, event id): every event before it has been handed
// out, none after it. The zero cursor is the beginning.
type FeedCursor struct {
	Tx int64
	ID string
}

// FeedPage is one page of the feed.
type FeedPage struct {
	// Events are in ingest order, each after the cursor asked for.
	Events []Event
	// Next is where the next page starts. When the page is not full it is
	// the feed's horizon: every event ingested below it has been handed out.
	Next FeedCursor
	// More reports whether events are known to follow Next already.
	More bool
	// Horizon is the snapshot's xmin the page was read below: no
	// transaction under it can still commit.
	Horizon int64
}

-- Team mode (issue 13 point 2): several workers share one store and queue, and the periodic work
-- (the sweep, mailbox sync, the event log's consumers) must run on one of them at a time. One row
-- per kind of work names the worker holding it and until when; the holder renews it, and another
-- worker takes it over once it has expired (or at once when its holder, on the same host, is dead).
CREATE TABLE leases (
	name VARCHAR NOT NULL,
	holder VARCHAR NOT NULL,
	acquired_at DATETIME NOT NULL,
	renewed_at DATETIME NOT NULL,
	expires_at DATETIME NOT NULL,
	PRIMARY KEY (name)
);

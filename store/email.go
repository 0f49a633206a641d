package store

import "context"

// UnmanagedEmailFinder is implemented by a Reader that finds the app user
// an identity provider's new user should be linked to by email (the memory
// and SQL stores do). Without it, the handler asks ListUsers once per email
// of the request, and every such call decodes every user that shares the
// address, with all of that user's emails: a request whose emails many
// users share costs the product of the two.
type UnmanagedEmailFinder interface {
	// UnmanagedUserByEmail returns the user that is not managed (Managed
	// false) and has one of emails as the value of an element of its emails
	// attribute (or as the element itself, when it is a bare string),
	// compared as a filter's eq on emails.value compares them: after Fold.
	// When several users qualify, it returns the one holding the earliest
	// of emails, and among those the first created. It returns ErrNotFound
	// when none does, or when emails is empty.
	//
	// The cost grows with len(emails) and with the number of unmanaged users
	// found, never with decoding managed users or the other emails of the
	// users found. A long list is checked against ctx as it goes: when ctx
	// ends, the call returns ctx's error.
	UnmanagedUserByEmail(ctx context.Context, emails []string) (User, error)
}

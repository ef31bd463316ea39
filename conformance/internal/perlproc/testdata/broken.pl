# Dies before it serves anything, as a script with a missing module does.
die "cannot start: missing something\n";

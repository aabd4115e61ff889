"""Everything in an account besides chat text: uploads, sandbox outputs, projects, memory and
artifacts. The entry point is `extras.Extras`."""

"""One sync run: plan (pure), fetch through the API client, store through the archive, commit.
Also `import` of an official export, which writes commits the same way."""

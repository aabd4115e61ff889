"""Pure building blocks every layer uses: the archive's layout and file names, canonical JSON,
chat records, file changes and commit-message text. No I/O beyond reading bytes handed in."""

"""The archive on disk: files, the git repository, packs, the index, history, remotes, the
last-sync record. The only package that imports dulwich."""

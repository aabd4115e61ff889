"""The read side: render, search, export and trace the history of archived chats, offline.

Pure parts (`tree`, `parts`, `markdown`, `search`) work on chat JSON; `source` reads chat files
from the working tree, `history` from any git revision; `html` writes a static site and
`importer` turns Claude.ai's official data export into an archive commit.
"""

"""claude-backup: a complete, private, git-versioned archive of your Claude.ai chats."""

__version__ = "0.1.0"
__all__ = ["__version__"]

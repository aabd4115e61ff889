from claude_backup.cli.entry import main

main()

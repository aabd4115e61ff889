from claude_backup.cli.app import main

main()

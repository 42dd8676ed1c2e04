from digest_cli.cli import main

main()

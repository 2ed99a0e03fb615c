from bulk_update.cli import main

main()

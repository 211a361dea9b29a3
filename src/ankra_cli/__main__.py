from ankra_cli.main import main

main()

from ankra_auth.admin import main

main()

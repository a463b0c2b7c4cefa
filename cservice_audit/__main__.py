from cservice_audit.cli import main

main()

from daihuo.cli import main

main()

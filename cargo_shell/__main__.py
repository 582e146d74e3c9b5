from cargo_shell.cli import main

raise SystemExit(main())

from samljit.cli.main import main

raise SystemExit(main())

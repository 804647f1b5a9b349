from samljit.cli import main

raise SystemExit(main())

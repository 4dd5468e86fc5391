from worldclips.cli import main

raise SystemExit(main())

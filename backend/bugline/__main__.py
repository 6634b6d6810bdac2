from bugline.cli import main

raise SystemExit(main())

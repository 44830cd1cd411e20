from anonnet_studio.cli import main

raise SystemExit(main())

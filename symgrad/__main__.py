"""``python -m symgrad``: the ``symgrad`` command line (see :mod:`symgrad.cli`)."""

if __name__ == "__main__":
    from symgrad.cli import main

    raise SystemExit(main())

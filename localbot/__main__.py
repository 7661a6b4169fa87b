"""Lets ``python -m localbot`` behave exactly like the ``localbot`` console script."""

from localbot.cli import main

if __name__ == "__main__":
    main()

import sys


def main() -> int:
    print("analytics: nothing to aggregate yet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
